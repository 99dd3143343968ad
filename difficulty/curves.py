"""Gain-curve allocation: spend tests where the expected best-of-N accuracy still rises fastest.

The greedy rule λ(1−λ)^b assumes the value of tests dies off geometrically. On generated tests
it does not: a problem with λ≈0.4 keeps gaining accuracy up to dozens of tests, while λ=0 (no
correct candidate) gains nothing from any test. ``GainCurves`` learns, from training problems,
the mean accuracy curve acc(k) − λ as a function of λ (kernel regression); for a new problem
it predicts the curve at λ̂. ``allocate_curves`` then hands out tests along the upper concave
hull of each predicted curve, largest slope first (optimal for concave curves).

The curves themselves (accuracy of an aggregator when k tests are kept) are computed by the
caller from executed pass matrices and labels; this module never runs code.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from difficulty.allocate import BudgetError, allocate_equal, bounds, check_pass_rates


class GainCurves:
    """E[acc(k) − acc(0) | λ] by Nadaraya–Watson regression over training problems."""

    def __init__(self, bandwidth: float = 0.1, max_k: int = 64):
        if bandwidth <= 0:
            raise BudgetError(f"bandwidth must be > 0, got {bandwidth}")
        self.bandwidth, self.max_k = bandwidth, max_k
        self.lam: np.ndarray | None = None
        self.gains: np.ndarray | None = None

    def fit(self, pass_rates: Sequence[float], curves: Sequence[Sequence[float]]) -> "GainCurves":
        """``curves[i][k]``: accuracy with k tests kept (k = 0 .. that problem's test count)."""
        lam = check_pass_rates(pass_rates, "pass-rate label")
        if len(curves) != len(lam) or not len(lam):
            raise BudgetError(f"{len(curves)} curves for {len(lam)} pass rates")
        g = np.zeros((len(lam), self.max_k + 1))
        for i, c in enumerate(curves):
            c = np.asarray(c, dtype=float)[: self.max_k + 1]
            if c.size == 0:
                raise BudgetError(f"curve of problem #{i} is empty; it needs acc(0) at least")
            g[i, : c.size] = c - c[0]
            g[i, c.size:] = c[-1] - c[0]  # no more tests: the curve stays flat
        self.lam, self.gains = lam, g
        return self

    def predict(self, lam_hat: Sequence[float]) -> np.ndarray:
        """Expected gain curves, shape (problems, max_k + 1), starting at 0."""
        if self.lam is None:
            raise BudgetError("GainCurves is not fitted")
        q = check_pass_rates(lam_hat, "predicted pass rate")
        w = np.exp(-0.5 * ((q[:, None] - self.lam[None, :]) / self.bandwidth) ** 2) + 1e-12
        return (w / w.sum(axis=1, keepdims=True)) @ self.gains


def _hull_segments(curve: np.ndarray, lo: int, hi: int) -> list[tuple[float, int, int]]:
    """Upper concave hull of (k, curve[k]) for k in [lo, hi] as (slope, start, length) segments."""
    pts = [lo]
    for k in range(lo + 1, hi + 1):
        while len(pts) >= 2:
            a, b = pts[-2], pts[-1]
            if (curve[b] - curve[a]) * (k - a) <= (curve[k] - curve[a]) * (b - a):
                pts.pop()
            else:
                break
        pts.append(k)
    return [((curve[b] - curve[a]) / (b - a), a, b - a) for a, b in zip(pts, pts[1:])]


def allocate_curves(expected: np.ndarray, total: int, lo: int | Sequence[int] = 1,
                    hi: int | Sequence[int] | None = None) -> np.ndarray:
    """Tests per problem maximising Σ hull(expected_i)(k_i) under the budget; leftover budget
    (flat curves everywhere) is spread equally so the whole budget is used."""
    expected = np.asarray(expected, dtype=float)
    n, width = expected.shape
    lo_a, hi_a = bounds(n, lo, hi, total)
    top = np.minimum(hi_a, width - 1)
    segs = []
    for i in range(n):
        if top[i] > lo_a[i]:
            segs += [(s, i, a, m) for s, a, m in _hull_segments(expected[i], int(lo_a[i]), int(top[i]))]
    segs.sort(key=lambda t: (-t[0], t[1], t[2]))  # per problem, hull slopes decrease: order is kept
    k = lo_a.copy()
    left = total - int(k.sum())
    for slope, i, _, m in segs:
        if left <= 0 or slope <= 0:
            break
        step = min(m, left)
        k[i] += step
        left -= step
    if left > 0:
        k = allocate_equal(n, int(k.sum()) + left, k, hi_a)
    return k
