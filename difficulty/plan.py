"""plan_budget: the one call the pipeline makes to turn a test budget into tests per problem."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from difficulty.allocate import BudgetError, allocate_equal, allocate_greedy, total_tests
from difficulty.curves import GainCurves, allocate_curves
from difficulty.estimators import Estimator
from difficulty.registry import load_estimator
from difficulty.separation import Reveal, allocate_separation

ALLOCATORS = ("equal", "greedy", "curves", "separation")


def plan_budget(problems: Sequence[dict], budget: float | None, estimator: Estimator | str | Path | None = None, *,
                allocator: str | None = None, passed: Sequence[np.ndarray] | None = None,
                reveal: Reveal | None = None, gain_curves: GainCurves | None = None,
                min_tests: int = 1) -> dict[str, int]:
    """Number of tests to keep per problem (``{task_id: k}``, the first k of its tests).

    ``budget`` is the average number of tests per problem. A problem never gets more tests than it
    has (``len(problem["tests"])``; a problem without a ``tests`` key has its tests still to be
    generated: no cap). ``estimator`` (a fitted Estimator or a model file) predicts λ for the
    ``greedy`` and ``curves`` allocators (``curves`` also needs fitted ``gain_curves``); ``passed``
    are first-round matrices for estimators that use them; ``reveal`` runs tests for the
    execution-time ``separation`` allocator (difficulty/separation.py). Default allocator:
    separation if ``reveal`` is given, else curves with gain_curves and an estimator, else greedy
    with an estimator, else equal.
    """
    ids = [str(p.get("task_id", i)) for i, p in enumerate(problems)]
    dup = {t for t in ids if ids.count(t) > 1}
    if dup:
        raise BudgetError(f"duplicate task_id(s): {', '.join(sorted(dup)[:5])}")
    if allocator is None:
        allocator = ("separation" if reveal is not None else "equal" if estimator is None
                     else "curves" if gain_curves is not None else "greedy")
    if allocator not in ALLOCATORS:
        raise BudgetError(f"unknown allocator {allocator!r}; expected one of {', '.join(ALLOCATORS)}")
    n = len(problems)
    unbounded = np.iinfo(np.int32).max  # tests still to be generated
    hi = np.array([len(p["tests"]) if p.get("tests") is not None else unbounded for p in problems], dtype=np.int64)
    total = total_tests(n, budget)
    lam = None
    if estimator is not None:
        est = estimator if isinstance(estimator, Estimator) else load_estimator(estimator)
        lam = est.predict(problems, passed=passed)
    if allocator == "equal":
        k = allocate_equal(n, total, min_tests, hi)
    elif allocator == "greedy":
        if lam is None:
            raise BudgetError("the greedy allocator needs an estimator (a fitted Estimator or a model file)")
        k = allocate_greedy(lam, total, min_tests, hi)
    elif allocator == "curves":
        if lam is None or gain_curves is None:
            raise BudgetError("the curves allocator needs an estimator and fitted gain_curves")
        k = allocate_curves(gain_curves.predict(lam), total, min_tests, hi)
    else:
        if reveal is None:
            raise BudgetError("the separation allocator needs reveal, a callback that runs the requested tests")
        k = allocate_separation(reveal, n, total, min_tests, hi, lam=lam)
    return dict(zip(ids, (int(x) for x in k)))
