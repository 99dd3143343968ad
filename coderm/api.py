"""Library entry points: ``rerank`` for one problem, ``score_batch`` for RL reward loops.

Both are thin shells over ``coderm.pipeline.Pipeline``: options are the config keys of ``coderm
score`` (``aggregator``, ``mined_tests``, ``cache``, ...) and executor fields (``timeout``,
``workers``, ...); pipelines are built once per distinct config and reuse the process-wide shared
executor (started on first use, stopped at exit or by ``close``). The library caches nothing
unless given ``cache=PATH``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from coderm.config import Config, load_config
from coderm.model import Problem
from coderm.pipeline import close_shared, pipeline_for
from coderm.rl.ground_truth import GroundTruthError, per_sample
from coderm.rl.reward import RewardFunction
from executor import Executor, PassMatrix


@dataclass
class RerankResult:
    scores: list[float]  # scores[i] belongs to candidates[i]; higher is better
    ranking: list[int]  # candidate indices, best first (ties keep input order)
    best: int | None  # ranking[0]; None when there are no candidates
    matrix: PassMatrix  # statuses of candidates x the tests that ran (given, then generated, then mined)
    tests: list[Any]  # those tests, in column order
    selection: dict | None = None  # with select="sstar": why ``best`` won (clusters, deciding inputs)
    debug: dict | None = None  # with select.debug_rounds: the candidates revised, their rounds and programs


def close() -> None:
    """Stop the shared worker pools (also runs at interpreter exit)."""
    close_shared()


def rerank(problem_or_prompt: Problem | dict | str, candidates: Sequence[str] | None = None, tests: Sequence[Any] | None = None,
           *, entry_point: str | None = None, executor: Executor | None = None, **options: Any) -> RerankResult:
    """Score and rank the candidates of one problem.

        r = coderm.rerank("def add(a, b): ...", [c1, c2], ["assert add(1, 2) == 3"], entry_point="add")
        r.best, r.scores, r.ranking

    ``problem_or_prompt`` is a ``Problem``, a contract dict (a line of a problems file), or the
    prompt text; ``candidates``/``tests``/``entry_point`` given here replace the problem's own.
    ``select="sstar"`` picks among the candidates passing the tests by S* (``coderm.select``).
    """
    if isinstance(problem_or_prompt, str):
        problem = Problem("rerank", problem_or_prompt, [], entry_point)
    elif isinstance(problem_or_prompt, Problem):
        problem = problem_or_prompt
    elif isinstance(problem_or_prompt, dict):
        problem = Problem.from_json({"task_id": "rerank", "prompt": "", **problem_or_prompt})
    else:
        raise TypeError("problem_or_prompt must be a Problem, a problem dict or a prompt string")
    for name, value in (("candidates", candidates), ("tests", tests)):
        if isinstance(value, str):  # list("...") would be one candidate or test per character
            raise TypeError(f"{name} must be a list, not a str: wrap a single one in a list")
    fields = {"task_id": problem.task_id, "prompt": problem.prompt,
              "entry_point": entry_point if entry_point is not None else problem.entry_point,
              "candidates": list(candidates) if candidates is not None else problem.candidates,
              "tests": list(tests) if tests is not None else problem.tests, "meta": problem.meta}
    problem = Problem.from_json(fields)  # validates candidates/tests given as arguments
    pipeline = pipeline_for(Config(cache=None).with_overrides(**options))
    for scored in pipeline.score([problem], executor):
        r = scored.result
        return RerankResult(r.scores, r.ranking, r.best, scored.matrix, scored.tests, r.stats.get("select"),
                            r.stats.get("debug"))
    raise AssertionError("unreachable")


def score_batch(completions: Sequence[Any], tests: Any, *, entry_points: str | None | Sequence[str | None] = None,
                prompts: Sequence[str | None] | None = None, **options: Any) -> list[float | None]:
    """One reward in [0, 1] per completion, in order, for RL loops: ``RewardFunction`` with the
    ``reward`` preset and ``options`` applied (``reward={"mode": "binary"}``...); None for a
    completion without tests unless ``reward.no_tests`` gives it a number.

        rewards = coderm.score_batch(completions, tests_per_completion, entry_points="solve")

    ``completions`` are programs or chat replies (their code is extracted). ``tests`` is one test
    list shared by every completion or one ground truth per completion (``rl.ground_truth.per_sample``);
    ``entry_points`` one name (None for stdin/stdout programs) or one per completion.
    """
    n = len(completions)
    per_entry = [entry_points] * n if entry_points is None or isinstance(entry_points, str) else list(entry_points)
    reward_fn = RewardFunction(load_config("reward").with_overrides(**options))
    try:
        return reward_fn(completions, tests=per_sample(tests, n), prompts=prompts, entry_points=per_entry)
    except GroundTruthError as e:
        raise ValueError(str(e)) from None


__all__ = ["RerankResult", "close", "rerank", "score_batch"]
