"""Split a test budget across problems.

Every allocator returns an int array ``k`` (tests per problem) with ``lo <= k <= hi`` and
``k.sum()`` equal to the total budget (less only when every problem is at its cap). The budget
is either an average number of tests per problem (``budget``) or a total number of cells
(``total_cells``: tests x candidates, summed over problems), see ``total_tests``.
"""
from __future__ import annotations

import heapq
from typing import Sequence

import numpy as np


class BudgetError(ValueError):
    """A budget, bound or difficulty value that cannot be honoured."""


def check_pass_rates(lam: Sequence[float], what: str = "pass rate") -> np.ndarray:
    """Validate λ values: finite and inside [0, 1]; name the first offender."""
    arr = np.asarray(lam, dtype=float).reshape(-1)
    bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0) | (arr > 1))
    if bad.size:
        i = int(bad[0])
        raise BudgetError(f"{what} of problem #{i} is {float(arr[i])}; it must lie in [0, 1] ({bad.size} bad value(s))")
    return arr


def bounds(n: int, lo: int | Sequence[int], hi: int | Sequence[int] | None,
           total: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-problem lower/upper bounds as arrays (``hi=None`` means unbounded), checked against the
    ``total`` number of tests to hand out."""
    lo_a = np.broadcast_to(np.asarray(lo, dtype=np.int64), (n,)).copy()
    hi_a = np.full(n, np.iinfo(np.int64).max // 4, dtype=np.int64) if hi is None else np.broadcast_to(
        np.asarray(hi, dtype=np.int64), (n,)).copy()
    if (lo_a < 0).any():
        raise BudgetError(f"minimum tests per problem must be >= 0, got {int(lo_a.min())}")
    lo_a = np.minimum(lo_a, hi_a)  # a problem with fewer tests than the minimum gets all it has
    if total < lo_a.sum():
        raise BudgetError(
            f"budget of {total} tests ({total / n:.2f} per problem) is below the minimum of "
            f"{int(lo_a.sum())} ({lo_a.sum() / n:.2f} per problem); raise the budget or lower the minimum")
    return lo_a, hi_a


def total_tests(n_problems: int, budget: float | None = None, total_cells: int | None = None,
                n_candidates: Sequence[int] | None = None) -> int:
    """Total number of tests to hand out: ``round(budget * n_problems)``, or, for a cell budget,
    ``total_cells`` divided by the mean number of candidates (one test costs one cell per candidate)."""
    if (budget is None) == (total_cells is None):
        raise BudgetError("give exactly one of budget (average tests per problem) or total_cells")
    if budget is not None:
        if not np.isfinite(budget) or budget < 0:
            raise BudgetError(f"budget must be a non-negative number of tests per problem, got {budget!r}")
        return int(round(budget * n_problems))
    if n_candidates is None or len(n_candidates) != n_problems:
        raise BudgetError("a budget in cells needs the number of candidates of every problem")
    if total_cells < 0:
        raise BudgetError(f"total_cells must be >= 0, got {total_cells}")
    return int(total_cells // max(float(np.mean(n_candidates)), 1.0))


def allocate_equal(n: int, total: int, lo: int | Sequence[int] = 1, hi: int | Sequence[int] | None = None,
                   seed: int = 0) -> np.ndarray:
    """The same number of tests for every problem; the remainder goes to random problems and
    what a capped problem cannot take is spread over the others (water-filling)."""
    lo_a, hi_a = bounds(n, lo, hi, total)
    k = lo_a.copy()
    left = total - int(k.sum())
    rng = np.random.default_rng(seed)
    while left > 0:
        open_ = np.flatnonzero(k < hi_a)
        if open_.size == 0:
            break
        share, extra = divmod(left, open_.size)
        add = np.full(open_.size, share, dtype=np.int64)
        add[rng.permutation(open_.size)[:extra]] += 1
        add = np.minimum(add, hi_a[open_] - k[open_])
        k[open_] += add
        left -= int(add.sum())
    return k


def marginal_gain(lam: np.ndarray, b: np.ndarray) -> np.ndarray:
    """λ(1−λ)^b: the chance that test b+1 is the first to find something, the gain of Damani et al."""
    return lam * np.power(1.0 - lam, b)


def allocate_greedy(lam: Sequence[float], total: int, lo: int | Sequence[int] = 1,
                    hi: int | Sequence[int] | None = None) -> np.ndarray:
    """Hand tests one at a time to the problem with the largest marginal gain λ(1−λ)^b.

    The gain is decreasing in b, so the greedy choice is optimal for the separable objective
    Σ 1 − (1−λ)^k. Leftover budget (every gain zero, e.g. λ ∈ {0, 1}) is spread equally so the
    whole budget is always used.
    """
    lam_a = check_pass_rates(lam, "predicted pass rate")
    n = len(lam_a)
    lo_a, hi_a = bounds(n, lo, hi, total)
    k = lo_a.copy()
    heap = [(-float(marginal_gain(lam_a[i], k[i])), i) for i in range(n) if k[i] < hi_a[i]]
    heapq.heapify(heap)
    left = total - int(k.sum())
    while left > 0 and heap:
        neg, i = heapq.heappop(heap)
        if -neg <= 0.0:
            heapq.heappush(heap, (neg, i))
            break
        k[i] += 1
        left -= 1
        if k[i] < hi_a[i]:
            heapq.heappush(heap, (-float(marginal_gain(lam_a[i], k[i])), i))
    if left > 0:
        k = allocate_equal(n, int(k.sum()) + left, k, hi_a)
    return k


def allocate(lam: Sequence[float], budget: float, lo: int | Sequence[int] = 1, hi: int | Sequence[int] | None = None,
             *, method: str = "greedy") -> np.ndarray:
    """Tests per problem for predicted pass rates ``lam`` (``equal`` only checks them), ``budget``
    tests per problem on average."""
    total = total_tests(len(lam), budget)
    if method == "equal":
        check_pass_rates(lam, "predicted pass rate")
        return allocate_equal(len(lam), total, lo, hi)
    if method == "greedy":
        return allocate_greedy(lam, total, lo, hi)
    raise BudgetError(f"unknown allocator {method!r}; expected 'equal' or 'greedy' "
                      "(curves: difficulty.curves.allocate_curves; separation runs at execution time: "
                      "difficulty.separation.allocate_separation)")
