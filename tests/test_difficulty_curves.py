"""Gain-curve allocator: kernel regression of curves on λ and concave-hull allocation."""
import numpy as np
import pytest

from difficulty import BudgetError, GainCurves, allocate_curves


def test_gain_curves_follow_nearby_training_problems():
    # λ=0 problems never gain; λ=0.5 problems gain 0.1 per test up to 3 tests
    curves = [[0.0] * 6, [0.0] * 6, [0.5, 0.6, 0.7, 0.8, 0.8, 0.8], [0.5, 0.6, 0.7, 0.8, 0.8]]
    g = GainCurves(bandwidth=0.05, max_k=6).fit([0.0, 0.0, 0.5, 0.5], curves).predict([0.0, 0.5])
    assert g.shape == (2, 7)
    np.testing.assert_allclose(g[0], 0.0, atol=1e-9)
    np.testing.assert_allclose(g[1], [0, 0.1, 0.2, 0.3, 0.3, 0.3, 0.3], atol=1e-9)  # short curve stays flat


def test_allocation_follows_hull_slopes():
    flat = np.zeros(11)
    steep_then_flat = np.minimum(np.arange(11) * 0.1, 0.3)
    late = np.r_[np.zeros(5), np.full(6, 0.5)]  # nothing until test 5, then a jump: hull slope 0.1
    k = allocate_curves(np.vstack([flat, steep_then_flat, late]), total=3 + 2 + 4, lo=1, hi=10)
    assert k.sum() == 9
    # slopes: steep_then_flat 0.1 for two more tests, late 0.5/4 = 0.125 for four more -> both taken
    assert k.tolist() == [1, 3, 5]


def test_leftover_budget_is_spread_when_curves_are_flat():
    k = allocate_curves(np.zeros((3, 11)), total=12, lo=1, hi=10)
    assert k.tolist() == [4, 4, 4]


def test_bad_input():
    with pytest.raises(BudgetError, match="below the minimum"):
        allocate_curves(np.zeros((3, 5)), total=2, lo=1)
    with pytest.raises(BudgetError, match=r"problem #0 is 2\.0"):
        GainCurves().fit([2.0], [[0.1, 0.2]])
    with pytest.raises(BudgetError, match="not fitted"):
        GainCurves().predict([0.5])
