"""Execution-time allocation: give the next tests to problems whose top candidates are not yet separated.

A test only changes the best-of-N pick when it splits the group of candidates that currently
ranks first. How often that still happens is measured on the tests already run, leave-one-out:
for each revealed test j, rank the candidates on the other tests and check whether j splits
the winning group. The smoothed split rate is the chance that one more test changes anything;
rounds of tests go to the problems where it is highest (optionally weighted by a predicted λ).

This module never runs code: the caller passes ``reveal``, which executes (or looks up) the
requested tests and returns their pass matrices.
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np

from difficulty.allocate import BudgetError, bounds, check_pass_rates

# reveal({problem index: number of tests k}) -> {problem index: bool matrix (candidates x k)}:
# the first k tests of each requested problem (a prefix; earlier columns must not change).
Reveal = Callable[[Mapping[int, int]], Mapping[int, np.ndarray]]

_WEIGHTS = np.random.default_rng(20240607).integers(1, 2**63, size=4096, dtype=np.uint64)


def _top_set(codes: np.ndarray, npass: np.ndarray) -> np.ndarray:
    """Mask of candidates in the best group by the CodeT rule (group by passed-set, score
    sqrt(group size) x tests passed); ties between groups are all part of the top set."""
    uniq, inv, counts = np.unique(codes, return_inverse=True, return_counts=True)
    passed_of_group = np.zeros(len(uniq))
    passed_of_group[inv] = npass
    score = np.sqrt(counts) * passed_of_group
    return (score == score.max())[inv]


def split_rate(passed: np.ndarray, prior: tuple[float, float] = (1.0, 1.0)) -> float:
    """Smoothed leave-one-out rate at which a revealed test splits the top group."""
    passed = np.asarray(passed, dtype=bool)
    n_cand, k = passed.shape
    a, b = prior
    if k == 0 or n_cand < 2:
        return a / (a + b) if n_cand >= 2 else 0.0
    if k > len(_WEIGHTS):
        passed = passed[:, -len(_WEIGHTS):]
        k = passed.shape[1]
    w = _WEIGHTS[:k]
    codes = (passed.astype(np.uint64) * w).sum(axis=1, dtype=np.uint64)  # passed-set hash (mod 2^64)
    npass = passed.sum(axis=1)
    splits = 0
    for j in range(k):
        col = passed[:, j]
        top = _top_set(codes - col.astype(np.uint64) * w[j], npass - col)
        inside = col[top]
        splits += bool(inside.any() and not inside.all())
    return (splits + a) / (k + a + b)


def allocate_separation(reveal: Reveal, n_problems: int, total: int, lo: int | Sequence[int] = 1,
                        hi: int | Sequence[int] | None = None, *, round_size: int | None = None,
                        lam: Sequence[float] | None = None, prior: tuple[float, float] = (1.0, 1.0)) -> np.ndarray:
    """Tests per problem, decided round by round from the results of the tests already run.

    Every problem first gets ``lo`` tests; then each round hands one more test to each of the
    ``round_size`` problems (default: a quarter of them) with the highest split rate, times
    λ̂(1−λ̂) scaled to max 1 when ``lam`` is given (a problem nobody or everybody solves gains
    nothing from separation). Stops when ``total`` tests are out or every problem is capped.
    """
    lo_a, hi_a = bounds(n_problems, lo, hi, total)
    weight = np.ones(n_problems)
    if lam is not None:
        lam_a = check_pass_rates(lam, "predicted pass rate")
        if len(lam_a) != n_problems:
            raise BudgetError(f"{len(lam_a)} predicted pass rates for {n_problems} problems")
        weight = 4.0 * lam_a * (1.0 - lam_a)
    size = max(1, n_problems // 4) if round_size is None else int(round_size)
    if size < 1:
        raise BudgetError(f"round_size must be >= 1, got {round_size}")
    k = lo_a.copy()
    gain = np.zeros(n_problems)

    def refresh(ids: list[int]) -> None:
        if not ids:
            return
        got = reveal({i: int(k[i]) for i in ids})
        for i in ids:
            m = np.asarray(got[i], dtype=bool)
            if m.ndim != 2 or m.shape[1] != k[i]:
                raise BudgetError(f"reveal returned shape {m.shape} for problem #{i}; expected (candidates, {k[i]})")
            gain[i] = split_rate(m, prior) * weight[i]

    refresh(list(range(n_problems)))
    left = total - int(k.sum())
    while left > 0:
        open_ = np.flatnonzero(k < hi_a)
        if open_.size == 0:
            break
        order = open_[np.lexsort((open_, -gain[open_]))]  # highest gain first, ties by index
        chosen = order[: min(size, left)]
        k[chosen] += 1
        left -= len(chosen)
        refresh(chosen.tolist())
    return k
