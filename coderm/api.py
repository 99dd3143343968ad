"""Library entry points: ``rerank`` for one problem, ``score_batch`` for RL reward loops.

Both reuse one module-level Executor (started on first use, closed at exit), so a Python loop
over problems pays the worker start-up once. Options are the config keys of ``coderm score``
(``aggregator``, ``mined_tests``, ``cache``, ...) and executor fields (``timeout``, ``workers``, ...).
The library does not cache cells unless ``cache=PATH`` is given. Calls share the executor, so
make them from one thread at a time (batch work into one ``score_batch`` call instead).
"""
from __future__ import annotations

import atexit
import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from coderm.config import Config
from coderm.model import Problem, ValidationError
from coderm.pipeline import resolve_aggregator, score_stream
from executor.matrix import PassMatrix

if TYPE_CHECKING:
    from executor import Executor

_shared: "Executor | None" = None
_lock = threading.Lock()


@dataclass
class RerankResult:
    scores: list[float]  # scores[i] belongs to candidates[i]; higher is better
    ranking: list[int]  # candidate indices, best first (ties keep input order)
    best: int | None  # ranking[0]; None when there are no candidates
    matrix: PassMatrix  # statuses of candidates x the tests that ran (given, then generated, then mined)
    tests: list[Any]  # those tests, in column order


def _config(options: dict[str, Any]) -> Config:
    return Config(cache=None).with_overrides(**options)


def shared_executor(config: Config) -> "Executor":
    """The process-wide Executor for ``config``'s executor settings (replaced when they change)."""
    global _shared
    from executor import Executor

    wanted = config.executor_config()
    with _lock:
        if _shared is None or _shared.config != wanted:
            if _shared is None:
                atexit.register(close)
            else:
                _shared.close()
            _shared = Executor(wanted)
            _shared.start()
        return _shared


def close() -> None:
    """Stop the shared executor's workers (also runs at interpreter exit)."""
    global _shared
    with _lock:
        if _shared is not None:
            _shared.close()
            _shared = None


def rerank(problem_or_prompt: Problem | dict | str, candidates: Sequence[str] | None = None, tests: Sequence[Any] | None = None,
           *, entry_point: str | None = None, aggregator: str | None = None, executor: "Executor | None" = None,
           **options: Any) -> RerankResult:
    """Score and rank the candidates of one problem.

        r = coderm.rerank("def add(a, b): ...", [c1, c2], ["assert add(1, 2) == 3"], entry_point="add")
        r.best, r.scores, r.ranking

    ``problem_or_prompt`` is a ``Problem``, a contract dict (a line of a problems file), or the
    prompt text; ``candidates``/``tests``/``entry_point`` given here replace the problem's own.
    """
    if isinstance(problem_or_prompt, str):
        problem = Problem("rerank", problem_or_prompt, [], entry_point)
    elif isinstance(problem_or_prompt, Problem):
        problem = problem_or_prompt
    elif isinstance(problem_or_prompt, dict):
        problem = Problem.from_json({"task_id": "rerank", "prompt": "", **problem_or_prompt})
    else:
        raise TypeError("problem_or_prompt must be a Problem, a problem dict or a prompt string")
    fields = {"task_id": problem.task_id, "prompt": problem.prompt,
              "entry_point": entry_point if entry_point is not None else problem.entry_point,
              "candidates": list(candidates) if candidates is not None else problem.candidates,
              "tests": list(tests) if tests is not None else problem.tests, "meta": problem.meta}
    problem = Problem.from_json(fields)  # validates candidates/tests given as arguments
    config = _config({"aggregator": aggregator, **options})
    name = resolve_aggregator(config.aggregator)
    for scored in score_stream([problem], config, executor or shared_executor(config), name):
        r = scored.result
        return RerankResult(r.scores, r.ranking, r.best, scored.matrix, scored.tests)
    raise AssertionError("unreachable")


def score_batch(candidates: Sequence[str], tests: Sequence[Any] | Sequence[Sequence[Any]], *,
                entry_points: str | None | Sequence[str | None] = None, aggregator: str = "passrate",
                executor: "Executor | None" = None, **options: Any) -> list[float]:
    """One float reward per candidate, in order, for RL loops.

        rewards = coderm.score_batch(completions, tests_per_completion, entry_points="solve")

    ``tests`` is one list shared by every candidate or one list per candidate; ``entry_points``
    one name (or None for stdin/stdout programs) or one per candidate. Candidates with the same
    tests and entry point are scored together as one group (a GRPO group), so voting
    aggregators (``codet``, ``coderm``, ...) see each other; ``passrate`` scores each alone.
    """
    candidates = list(candidates)
    n = len(candidates)
    shared = not tests or not all(isinstance(t, (list, tuple)) for t in tests)
    per_tests = [list(tests)] * n if shared else [list(t) for t in tests]
    per_entry = [entry_points] * n if entry_points is None or isinstance(entry_points, str) else list(entry_points)
    if len(per_tests) != n or len(per_entry) != n:
        raise ValueError(f"got {n} candidates, {len(per_tests)} test lists and {len(per_entry)} entry points")
    groups: dict[tuple[str, str | None], list[int]] = {}
    for i, (t, e) in enumerate(zip(per_tests, per_entry)):
        groups.setdefault((_json_key(t), e), []).append(i)
    problems = []
    for g, ((_, entry), members) in enumerate(groups.items()):
        fields = {"task_id": str(g), "prompt": "", "entry_point": entry,
                  "candidates": [candidates[i] for i in members], "tests": per_tests[members[0]]}
        try:
            problems.append(Problem.from_json(fields))
        except ValidationError as e:
            raise ValueError(f"candidate group {g} (candidates {members[:5]}...): {e}") from None
    config = _config({"aggregator": aggregator, "mined_tests": "never", **options})
    name = resolve_aggregator(config.aggregator)
    rewards = np.zeros(n, dtype=float)
    for scored, members in zip(score_stream(problems, config, executor or shared_executor(config), name), groups.values()):
        rewards[members] = scored.result.scores
    return rewards.tolist()


def _json_key(tests: list[Any]) -> str:
    return json.dumps(tests, sort_keys=True, default=str)


__all__ = ["RerankResult", "close", "rerank", "score_batch", "shared_executor"]
