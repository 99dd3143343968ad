"""Evaluation metrics for rerankers and generated tests.

All functions take one problem's arrays; average over problems in the caller (the mean
of per-problem values is what papers report).
"""
from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np


def best_of_n(scores: np.ndarray, labels: np.ndarray) -> float:
    """Expected accuracy of picking a top-scored candidate, ties broken uniformly at random.

    Random tie-breaking (not first index) keeps an aggregator from looking good just because
    correct candidates happen to come first in the file.
    """
    scores = np.asarray(scores, dtype=float)
    labels = np.asarray(labels, dtype=bool)
    if scores.shape != labels.shape:
        raise ValueError(f"scores {scores.shape} and labels {labels.shape} differ in shape")
    if scores.size == 0:
        return 0.0
    if not np.isfinite(scores).all():
        raise ValueError("scores must be finite")
    top = scores == scores.max()
    return float(labels[top].mean())


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of Chen et al. (2021): 1 - C(n-c, k) / C(n, k)."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got k={k}, n={n}")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def best_of_k(scores: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Best-of-k of Hosseini et al. (V-STaR, 2024), unbiased over k-subsets of the n candidates.

    Expected correctness of the top-scored candidate in a uniformly random subset of size k:
    sum_i C(n-i-1, k-1) / C(n, k) * label_(i) over candidates sorted by score. Ties are broken
    at random, which amounts to replacing each label by the mean label of its tie block.
    """
    scores = np.asarray(scores, dtype=float)
    labels = np.asarray(labels, dtype=float)
    n = scores.size
    if labels.shape != scores.shape:
        raise ValueError(f"scores {scores.shape} and labels {labels.shape} differ in shape")
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got k={k}, n={n}")
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], labels[order]
    _, block, counts = np.unique(-s, return_inverse=True, return_counts=True)
    y = np.bincount(block, weights=y) / counts
    y = y[block]
    total = comb(n, k)
    return float(sum(comb(n - i - 1, k - 1) / total * y[i] for i in range(n - k + 1)))


@dataclass
class TestQuality:
    """Confusion counts of a test suite used as a program classifier (CodeRM's definitions).

    A candidate is accepted when it passes every test; positives are correct programs.
    Counts add up over problems (``sum(qualities, TestQuality())``).
    """

    __test__ = False  # not a pytest class

    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0

    def __add__(self, other: "TestQuality") -> "TestQuality":
        return TestQuality(self.tp + other.tp, self.fp + other.fp, self.tn + other.tn, self.fn + other.fn)

    @property
    def acc(self) -> float:
        total = self.tp + self.fp + self.tn + self.fn
        return (self.tp + self.tn) / total if total else 0.0

    @property
    def f1(self) -> float:
        denom = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denom if denom else 0.0

    @property
    def far(self) -> float:
        """False acceptance rate, CodeRM: FP / (FP + TP), the share of accepted programs that are wrong."""
        denom = self.fp + self.tp
        return self.fp / denom if denom else 0.0

    @property
    def frr(self) -> float:
        """False rejection rate, CodeRM: FN / (FN + TN), the share of rejected programs that are correct."""
        denom = self.fn + self.tn
        return self.fn / denom if denom else 0.0


def test_quality(passed: np.ndarray, labels: np.ndarray) -> TestQuality:
    """Confusion counts of the tests (columns of ``passed``) judging the candidates (rows)."""
    passed = np.asarray(passed, dtype=bool)
    labels = np.asarray(labels, dtype=bool)
    if passed.ndim != 2 or passed.shape[0] != labels.shape[0]:
        raise ValueError(f"passed must be (n_candidates, n_tests) with n_candidates={labels.shape[0]}, got {passed.shape}")
    accepted = passed.all(axis=1)
    return TestQuality(tp=int((accepted & labels).sum()), fp=int((accepted & ~labels).sum()),
                       tn=int((~accepted & ~labels).sum()), fn=int((~accepted & labels).sum()))


test_quality.__test__ = False  # type: ignore[attr-defined]


def throughput(n_programs: int, seconds: float) -> float:
    """Programs scored per second of wall time."""
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    return n_programs / seconds
