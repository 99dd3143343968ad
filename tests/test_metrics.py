from itertools import combinations

import numpy as np
import pytest

from coderm.evaluate.metrics import TestQuality, best_of_k, best_of_n, pass_at_k, test_quality, throughput


def brute_pass_at_k(labels, k):
    subsets = list(combinations(range(len(labels)), k))
    return sum(any(labels[i] for i in s) for s in subsets) / len(subsets)


def brute_best_of_k(scores, labels, k):
    """Mean over k-subsets of the mean label among the subset's top-scored (random tie-break)."""
    values = []
    for s in combinations(range(len(scores)), k):
        top = max(scores[i] for i in s)
        values.append(np.mean([labels[i] for i in s if scores[i] == top]))
    return float(np.mean(values))


@pytest.mark.parametrize("seed", range(5))
def test_pass_at_k_matches_enumeration(seed):
    rng = np.random.default_rng(seed)
    labels = rng.random(8) < 0.3
    for k in range(1, 9):
        assert pass_at_k(8, int(labels.sum()), k) == pytest.approx(brute_pass_at_k(labels, k))


def test_pass_at_k_rejects_bad_counts():
    with pytest.raises(ValueError):
        pass_at_k(5, 6, 1)
    with pytest.raises(ValueError):
        pass_at_k(5, 2, 0)


@pytest.mark.parametrize("seed", range(5))
def test_best_of_k_matches_enumeration_with_ties(seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 3, size=8).astype(float)  # few values: many ties
    labels = rng.random(8) < 0.5
    for k in range(1, 9):
        assert best_of_k(scores, labels, k) == pytest.approx(brute_best_of_k(scores, labels, k))


def test_best_of_k_ends_are_random_pick_and_best_of_n():
    scores = np.array([0.1, 0.9, 0.9, 0.3])
    labels = np.array([True, False, True, False])
    assert best_of_k(scores, labels, 1) == pytest.approx(labels.mean())
    assert best_of_k(scores, labels, 4) == pytest.approx(best_of_n(scores, labels)) == pytest.approx(0.5)


def test_best_of_n_breaks_ties_at_random():
    assert best_of_n(np.array([1.0, 1.0, 1.0, 0.0]), np.array([True, False, False, True])) == pytest.approx(1 / 3)
    assert best_of_n(np.array([0.2, 0.7]), np.array([False, True])) == 1.0
    assert best_of_n(np.array([]), np.array([], dtype=bool)) == 0.0
    with pytest.raises(ValueError):
        best_of_n(np.array([1.0]), np.array([True, False]))
    with pytest.raises(ValueError, match="finite"):
        best_of_n(np.array([np.nan, 1.0]), np.array([True, False]))


def test_test_quality_uses_coderm_definitions():
    passed = np.array([[1, 1], [1, 1], [1, 0], [0, 0], [1, 1]], dtype=bool)
    labels = np.array([True, False, True, False, True])
    q = test_quality(passed, labels)  # accepted: 0, 1, 4
    assert (q.tp, q.fp, q.tn, q.fn) == (2, 1, 1, 1)
    assert q.acc == pytest.approx(3 / 5)
    assert q.f1 == pytest.approx(4 / 6)
    assert q.far == pytest.approx(1 / 3)  # FP / (FP + TP)
    assert q.frr == pytest.approx(1 / 2)  # FN / (FN + TN)
    pooled = q + TestQuality(tp=1, tn=2)
    assert (pooled.tp, pooled.fp, pooled.tn, pooled.fn) == (3, 1, 3, 1)


def test_throughput():
    assert throughput(300, 1.5) == 200.0
    with pytest.raises(ValueError):
        throughput(1, 0.0)
