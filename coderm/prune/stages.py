"""Prune stages: each takes the live pool, returns the candidates it prunes, and is timed by the caller.

A stage works on representatives (one per dedupe group); ``state.alive`` lists them in order.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from coderm.analysis import LINT_CHECKS, lint, normalized_key, parse
from coderm.orm import OrmError, load_orm
from executor import Status
from executor.checker import settle_checkers


class PruneConfigError(ValueError):
    """A stage configuration that cannot run; raised before any work starts."""


@dataclass
class PoolState:
    """The pool as the stages see it. ``representative[i]`` is the candidate that stands in for ``i``
    after dedupe (itself when not merged); ``weights[r]`` counts the candidates ``r`` stands for."""

    problem: dict
    alive: list[int]
    representative: np.ndarray
    weights: np.ndarray
    trees: dict[str, Any] = field(default_factory=dict)  # parsed once per distinct program text
    orm_scores: np.ndarray | None = None

    @property
    def candidates(self) -> list[str]:
        return self.problem["candidates"]


class Stage:
    """A unit with a verdict: ``prune(state, executor)`` returns the alive candidates to drop."""

    name = ""

    def check_pool(self, n_candidates: int, where: str) -> None:
        """Raise PruneConfigError when this stage cannot run on a pool of this size."""

    def prune(self, state: PoolState, executor: Any) -> list[int]:
        raise NotImplementedError


def _tree(state: PoolState, i: int):
    code = state.candidates[i]
    if code not in state.trees:
        state.trees[code] = parse(code)
    return state.trees[code]


class SyntaxStage(Stage):
    """Candidates that do not compile can never pass a test."""

    name = "syntax"

    def prune(self, state: PoolState, executor: Any) -> list[int]:
        return [i for i in state.alive if _tree(state, i) is None]


class DedupeStage(Stage):
    """Merge exact duplicates, and with ``mode: ast`` programs equal after normalization
    (docstrings, comments, formatting, local names); the kept one carries the group's weight."""

    name = "dedupe"

    def __init__(self, mode: str = "ast") -> None:
        if mode not in ("exact", "ast"):
            raise PruneConfigError(f"dedupe: mode must be 'exact' or 'ast', got {mode!r}")
        self.mode = mode

    def _key(self, state: PoolState, i: int) -> str:
        code = state.candidates[i]
        if self.mode == "exact":
            return code
        tree = _tree(state, i)
        return normalized_key(tree) if tree is not None else code

    def prune(self, state: PoolState, executor: Any) -> list[int]:
        first: dict[str, int] = {}
        merged = []
        for i in state.alive:
            rep = first.setdefault(self._key(state, i), i)
            if rep != i:
                state.representative[state.representative == i] = rep
                state.weights[rep] += state.weights[i]
                state.weights[i] = 0
                merged.append(i)
        return merged


class LintStage(Stage):
    """pyflakes and entry-point checks: undefined names, a missing entry point, an entry point
    that never returns a value."""

    name = "lint"

    def __init__(self, checks: list[str] | tuple[str, ...] = LINT_CHECKS) -> None:
        unknown = sorted(set(checks) - set(LINT_CHECKS))
        if unknown:
            raise PruneConfigError(f"lint: unknown check(s) {unknown}; known: {list(LINT_CHECKS)}")
        self.checks = tuple(checks)

    def prune(self, state: PoolState, executor: Any) -> list[int]:
        entry = state.problem.get("entry_point")
        verdicts: dict[str, bool] = {}
        for i in state.alive:
            code = state.candidates[i]
            if code not in verdicts:
                tree = _tree(state, i)
                verdicts[code] = tree is None or bool(lint(tree, entry).failed(self.checks))
        return [i for i in state.alive if verdicts[state.candidates[i]]]


class PrefilterStage(Stage):
    """Run the first ``tests`` (1-3) given tests, one round per test, stopping early for a candidate
    as soon as it is settled. ``keep: pass`` keeps candidates passing at least one of them;
    ``keep: runs`` keeps those that run to a verdict (PASS or FAIL) at least once, so only
    crashes, timeouts and errors prune (safer when the tests are generated and noisy)."""

    name = "prefilter"

    def __init__(self, tests: int = 1, keep: str = "runs") -> None:
        if not 1 <= int(tests) <= 3:
            raise PruneConfigError(f"prefilter: tests must be 1..3, got {tests}")
        if keep not in ("pass", "runs"):
            raise PruneConfigError(f"prefilter: keep must be 'pass' or 'runs', got {keep!r}")
        self.tests, self.keep = int(tests), keep

    def prune(self, state: PoolState, executor: Any) -> list[int]:
        unique: dict[str, Any] = {}
        for test in state.problem.get("tests") or []:
            unique.setdefault(json.dumps(test, sort_keys=True), test)
        tests = list(unique.values())[: self.tests]
        if not tests or executor is None:
            return []
        good = {int(Status.PASS)} if self.keep == "pass" else {int(Status.PASS), int(Status.FAIL)}
        open_ = list(state.alive)
        for test in tests:
            if not open_:
                break
            m = executor.run([state.candidates[i] for i in open_], [test], state.problem.get("entry_point"))
            settle_checkers(executor, [test], m)
            open_ = [i for i, s in zip(open_, m.statuses[:, 0].tolist()) if s not in good]
        return open_


class OrmStage(Stage):
    """Score the live pool with an outcome reward model; keep the ``top_k`` best or those scoring
    at least ``threshold``. The model loads at construction so a bad path fails before any work."""

    name = "orm"

    def __init__(self, backend: str = "sklearn", path: str | None = None, top_k: int | None = None,
                 threshold: float | None = None, **options: Any) -> None:
        if (top_k is None) == (threshold is None):
            raise PruneConfigError("orm: give exactly one of top_k or threshold")
        if top_k is not None and int(top_k) < 1:
            raise PruneConfigError(f"orm: top_k must be >= 1, got {top_k}")
        self.top_k, self.threshold = (int(top_k) if top_k is not None else None), threshold
        try:
            self.model = load_orm(backend, path, **options)
        except OrmError as e:
            raise PruneConfigError(f"orm: {e}") from None

    def check_pool(self, n_candidates: int, where: str) -> None:
        if self.top_k is not None and self.top_k > n_candidates:
            raise PruneConfigError(f"orm: top_k={self.top_k} is larger than the pool of {n_candidates} "
                                   f"candidates in {where}")

    def prune(self, state: PoolState, executor: Any) -> list[int]:
        if not state.alive:
            return []
        scores = np.asarray(self.model.score(state.problem, state.alive), dtype=np.float64)
        if state.orm_scores is None:
            state.orm_scores = np.full(len(state.candidates), np.nan)
        state.orm_scores[state.alive] = scores
        if self.threshold is not None:
            return [i for i, s in zip(state.alive, scores) if s < self.threshold]
        order = np.argsort(-scores, kind="stable")
        return [state.alive[j] for j in order[self.top_k:]]


STAGES: dict[str, Callable[..., Stage]] = {
    s.name: s for s in (SyntaxStage, DedupeStage, LintStage, PrefilterStage, OrmStage)  # type: ignore[misc]
}


def build_stages(config: list[dict]) -> list[Stage]:
    """Stages from config, in order: ``[{"stage": "syntax"}, {"stage": "orm", "top_k": 10, ...}]``."""
    if not isinstance(config, list):
        raise PruneConfigError(f"stages must be a list of mappings, got {type(config).__name__}")
    stages = []
    for pos, entry in enumerate(config):
        if not isinstance(entry, dict) or "stage" not in entry:
            raise PruneConfigError(f"stage #{pos}: expected a mapping with a 'stage' key, got {entry!r}")
        options = {k: v for k, v in entry.items() if k != "stage"}
        name = entry["stage"]
        if name not in STAGES:
            raise PruneConfigError(f"stage #{pos}: unknown stage {name!r}; known: {', '.join(STAGES)}")
        try:
            stages.append(STAGES[name](**options))
        except TypeError as e:
            raise PruneConfigError(f"stage #{pos} ({name}): {e}") from None
    return stages
