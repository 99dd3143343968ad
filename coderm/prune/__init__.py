"""Staged verification: cheap stages (syntax, dedupe, lint, prefilter, ORM) cut the candidate pool
before full execution.

    result = run_stages(problem, [{"stage": "syntax"}, {"stage": "dedupe"}, {"stage": "lint"},
                                  {"stage": "orm", "backend": "sklearn", "path": "orm.pkl", "top_k": 10}],
                        executor)
    matrix = executor.run([problem["candidates"][i] for i in result.survivors], tests, entry_point)
    scores = result.final_scores(aggregate(name, matrix.passed[result.rows]))

Every candidate ends as a survivor, merged into a survivor (dedupe), or pruned by a named stage.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from coderm.prune.stages import STAGES, PoolState, PruneConfigError, Stage, build_stages

__all__ = ["PruneConfigError", "PruneResult", "STAGES", "Stage", "build_stages", "check_pools", "run_stages"]


@dataclass
class PruneResult:
    """Outcome of the stages for one problem.

    ``survivors``: representatives still in play (execute these). ``pruned``: candidate -> stage that
    pruned it (a merged candidate follows its representative). ``weights[r]``: how many candidates
    survivor ``r`` stands for (0 for merged ones). ``representative[i]``: the candidate ``i`` was merged
    into (itself when not merged). ``orm_scores``: NaN where the ORM did not score.
    """

    survivors: list[int]
    pruned: dict[int, str]
    weights: np.ndarray
    stage_seconds: dict[str, float]
    orm_scores: np.ndarray | None
    representative: np.ndarray
    stage_order: tuple[str, ...] = ()

    @property
    def kept(self) -> np.ndarray:
        """Candidates that are survivors or merged into one, ascending."""
        return np.flatnonzero(np.isin(self.representative, self.survivors))

    @property
    def rows(self) -> np.ndarray:
        """For each of ``kept``, its row in a matrix over ``survivors``: duplicate rows restore the
        merged candidates so aggregators that count agreement keep the group's weight."""
        pos = {s: k for k, s in enumerate(self.survivors)}
        return np.array([pos[int(self.representative[i])] for i in self.kept], dtype=np.int64)

    def final_scores(self, kept_scores: np.ndarray) -> np.ndarray:
        """Scores for every candidate: kept ones get ``kept_scores``; pruned ones rank below all kept
        ones, and a candidate pruned by a later stage ranks above one pruned earlier."""
        n = len(self.representative)
        kept_scores = np.asarray(kept_scores, dtype=np.float64)
        floor = float(kept_scores.min()) if len(kept_scores) else 0.0
        scores = np.empty(n, dtype=np.float64)
        depth = {name: k for k, name in enumerate(self.stage_order)}
        for i, stage in self.pruned.items():
            scores[i] = floor - 1.0 - (len(self.stage_order) - depth.get(stage, 0))
        scores[self.kept] = kept_scores
        return scores


def check_pools(stages: list[Stage], problems: list[dict]) -> None:
    """Fail before any work when a stage cannot run on some problem's pool (e.g. top_k too large)."""
    for k, problem in enumerate(problems):
        for stage in stages:
            stage.check_pool(len(problem["candidates"]), f"problem {problem.get('task_id', k)!r}")


def run_stages(problem: dict, stages_config: list[dict] | list[Stage], executor: Any) -> PruneResult:
    """Run the stages in order on one problem (stages may be given as config or already built)."""
    if all(isinstance(s, Stage) for s in stages_config):
        stages: list[Stage] = list(stages_config)  # type: ignore[arg-type]
    else:
        stages = build_stages(stages_config)  # type: ignore[arg-type]
    check_pools(stages, [problem])
    n = len(problem["candidates"])
    state = PoolState(problem, list(range(n)), np.arange(n), np.ones(n, dtype=np.float64))
    pruned: dict[int, str] = {}
    seconds: dict[str, float] = {}
    for stage in stages:
        start = time.perf_counter()
        dropped = set(stage.prune(state, executor)) if state.alive else set()
        seconds[stage.name] = seconds.get(stage.name, 0.0) + time.perf_counter() - start
        if stage.name != "dedupe":
            for i in dropped:
                pruned[i] = stage.name
        state.alive = [i for i in state.alive if i not in dropped]
    for i in range(n):  # merged candidates share the fate of their representative
        rep = int(state.representative[i])
        if rep != i and rep in pruned:
            pruned[i] = pruned[rep]
    return PruneResult(state.alive, pruned, state.weights, seconds, state.orm_scores, state.representative,
                       tuple(s.name for s in stages))
