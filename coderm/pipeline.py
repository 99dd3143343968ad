"""Problems in, scores out: build each problem's tests, run them through the executor, aggregate.

The CLI (``coderm score``) and the library (``coderm.rerank``) both go through ``score_stream``
and ``score_matrix``, so the same problem gets the same scores either way.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

import numpy as np

from coderm import sources
from coderm.config import Config, ConfigError
from coderm.model import Problem, ScoreResult
from executor.matrix import PassMatrix
from executor.status import Status

if TYPE_CHECKING:
    from coderm.prune import PruneResult
    from executor import Executor

PLAN_BATCH = 256  # problems per generate_tests call and per budget allocation: batched, yet streamed


@dataclass
class Scored:
    """One finished problem: the tests it ran, its pass matrix and its score line."""

    problem: Problem
    tests: list[Any]
    matrix: PassMatrix
    result: ScoreResult


def resolve_aggregator(name: str | None) -> str:
    """The aggregator name to use (``coderm.aggregate.DEFAULT`` for None); ConfigError if unknown."""
    from coderm import aggregate

    name = name or aggregate.DEFAULT
    if name not in aggregate.NAMES:
        raise ConfigError(f"unknown aggregator {name!r}; expected one of {', '.join(aggregate.NAMES)}")
    return name


def build_tests(problem: Problem, mode: str, generated: list[str] | None = None) -> list[Any]:
    """Given tests, then generated ones, then LLM-free ones mined from the prompt (``mode``: absent | always | never).

    Mined tests join only when no tests were given (``absent``) or always; generated tests only
    exist for problems without given tests.
    """
    tests = list(problem.tests or []) + list(generated or [])
    if mode == "always" or (mode == "absent" and not problem.tests):
        tests += sources.mined_tests({"prompt": problem.prompt, "entry_point": problem.entry_point})
    return tests


def load_generator(generator: dict, cache_dir: str | None = None) -> Callable[[list[Problem]], dict[str, list[str]]]:
    """problems -> {task_id: generated tests} for a config's ``generator`` section.

    Raises ConfigError when coderm.generate is not installed or the section is invalid, so a
    bad setting stops a run before anything is written.
    """
    try:
        from coderm.generate import GeneratorConfig, GeneratorError, generate_tests
    except ImportError:
        raise ConfigError("the config has a 'generator' section but coderm.generate is not installed") from None
    try:
        settings = GeneratorConfig.from_dict(generator)
    except GeneratorError as e:
        raise ConfigError(str(e)) from None
    return lambda problems: generate_tests([p.to_json() for p in problems], settings, cache_dir=cache_dir)


def plan_tests(batch: list[tuple[Problem, list[Any]]], config: Config) -> list[tuple[Problem, list[Any]]]:
    """Keep the first k tests of each problem, k allocated by difficulty.plan_budget under ``config.budget``.

    The budget holds on average over each batch, so a file of any length is still streamed.
    """
    from difficulty import plan_budget
    from difficulty.allocate import BudgetError

    try:
        keep = plan_budget(
            [{"task_id": p.task_id, "prompt": p.prompt, "entry_point": p.entry_point, "candidates": p.candidates,
              "tests": tests} for p, tests in batch],
            config.budget, config.difficulty_model, allocator=config.allocator, min_tests=0,
        )
    except BudgetError as e:
        raise ConfigError(f"budget: {e}") from None
    return [(p, tests[:keep[p.task_id]]) for p, tests in batch]


def with_tests(problems: Iterable[Problem], config: Config) -> Iterator[tuple[Problem, list[Any]]]:
    """Pair every problem with the tests it will run: given, generated (in batches, when configured)
    and mined, then cut to the test budget when one is set."""
    problems = iter(problems)
    generate = load_generator(config.generator, config.generation_cache()) if config.generator is not None else None
    while batch := list(islice(problems, PLAN_BATCH)):
        need = [p for p in batch if not p.tests] if generate else []
        generated = generate(need) if need else {}
        planned = [(p, build_tests(p, config.mined_tests, generated.get(p.task_id))) for p in batch]
        yield from plan_tests(planned, config) if config.budget is not None else planned


def _columns(matrix: PassMatrix, cols: np.ndarray) -> PassMatrix:
    """The matrix restricted to ``cols`` (details/outputs re-keyed to the new column numbers)."""
    new = {int(c): k for k, c in enumerate(cols)}
    return PassMatrix(
        matrix.statuses[:, cols], matrix.seconds[:, cols],
        {(i, new[j]): v for (i, j), v in matrix.details.items() if j in new},
        {(i, new[j]): v for (i, j), v in matrix.outputs.items() if j in new},
    )


def _rows(matrix: PassMatrix, rows: np.ndarray) -> PassMatrix:
    """The matrix with ``rows`` (repeats allowed) as its rows, details/outputs carried along."""
    return PassMatrix(
        matrix.statuses[rows], matrix.seconds[rows],
        {(k, j): v for k, r in enumerate(rows.tolist()) for (i, j), v in matrix.details.items() if i == r},
        {(k, j): v for k, r in enumerate(rows.tolist()) for (i, j), v in matrix.outputs.items() if i == r},
    )


def score_matrix(problem: Problem, matrix: PassMatrix, aggregator: str, pruned: "PruneResult | None" = None) -> ScoreResult:
    """Scores and ranking of one problem from its pass matrix.

    Tests that are INVALID on every candidate (they cannot run at all) carry no evidence and are
    left out. With no candidates or no usable tests every candidate gets the same score and
    ``stats["uniform"]`` says why. With ``pruned`` (staged verification) the matrix covers the
    survivors only: merged duplicates get their representative's row back, and pruned candidates
    rank below every kept one.
    """
    from coderm.aggregate import aggregate

    if pruned is not None:
        kept = score_matrix(problem, _rows(matrix, pruned.rows), aggregator)
        scores = pruned.final_scores(np.array(kept.scores))
        ranking = np.argsort(-scores, kind="stable").tolist()
        stats = {**kept.stats, "pruned": len(pruned.pruned),
                 "stage_seconds": {k: round(v, 4) for k, v in pruned.stage_seconds.items()}}
        return ScoreResult(problem.task_id, scores.tolist(), ranking, ranking[0] if ranking else None,
                           kept.n_tests, stats)
    statuses = matrix.statuses
    n, t = statuses.shape
    usable = np.flatnonzero(~(statuses == Status.INVALID).all(axis=0)) if n else np.arange(0)
    stats: dict[str, Any] = {
        "executed_pairs": int((statuses != Status.SKIPPED).sum()),
        "seconds": round(float(matrix.seconds.sum()), 4),
    }
    if t - len(usable):
        stats["invalid_tests"] = t - len(usable)
    if n == 0 or len(usable) == 0:
        stats["uniform"] = "no candidates" if n == 0 else "no usable tests"
        scores = np.zeros(n, dtype=float)
    else:
        used = matrix if len(usable) == t else _columns(matrix, usable)
        scores = np.asarray(aggregate(aggregator, used.passed, matrix=used), dtype=float)
        if scores.shape != (n,) or not np.isfinite(scores).all():
            raise RuntimeError(f"aggregator {aggregator!r} returned {scores!r} for {problem.task_id!r}")
    ranking = np.argsort(-scores, kind="stable").tolist()
    return ScoreResult(problem.task_id, [float(s) for s in scores], ranking, ranking[0] if n else None,
                       int(len(usable)), stats)


def score_stream(problems: Iterable[Problem], config: Config, executor: "Executor", aggregator: str) -> Iterator[Scored]:
    """Score problems in input order while the executor keeps every worker busy across problems."""
    from executor import Job

    stages = load_stages(config.prune) if config.prune else None

    def jobs() -> Iterator[Job]:
        for problem, tests in with_tests(problems, config):
            pruned = None
            if stages:
                from coderm.prune import run_stages

                pruned = run_stages({**problem.to_json(), "tests": tests}, stages, executor)
            candidates = [problem.candidates[i] for i in pruned.survivors] if pruned else problem.candidates
            yield Job((problem, tests, pruned), candidates, tests, problem.entry_point)

    for (problem, tests, pruned), matrix in executor.run_many(jobs()):
        yield Scored(problem, tests, matrix, score_matrix(problem, matrix, aggregator, pruned))


def load_stages(config: list) -> list:
    """Built prune stages for a config's ``prune`` list; ConfigError before any work when they cannot run."""
    from coderm.prune import PruneConfigError, build_stages

    try:
        return build_stages(config)
    except PruneConfigError as e:
        raise ConfigError(f"prune: {e}") from None
