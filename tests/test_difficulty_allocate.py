"""Allocators: budget bookkeeping, bounds, the greedy marginal-gain order, bad input."""
import numpy as np
import pytest

from difficulty import BudgetError, allocate, allocate_equal, allocate_greedy, marginal_gain, total_tests


def test_equal_spreads_budget_and_respects_caps():
    k = allocate_equal(4, 22, lo=1, hi=[2, 10, 10, 10])
    assert k.sum() == 22
    assert k[0] == 2 and sorted(k[1:].tolist()) == [6, 7, 7]


def test_equal_stops_when_every_problem_is_capped():
    k = allocate_equal(3, 100, lo=1, hi=[3, 4, 5])
    assert k.tolist() == [3, 4, 5]


def test_greedy_follows_marginal_gain_by_hand():
    # gains at b=1: 0.09, 0.09, 0, 0.25 -> p3 twice (0.25, 0.125), then p0 and p1 (0.09 each)
    k = allocate_greedy([0.9, 0.1, 0.0, 0.5], total=8, lo=1)
    assert k.tolist() == [2, 2, 1, 3]


def test_greedy_matches_brute_force_optimum_of_separable_objective():
    rng = np.random.default_rng(3)
    lam = rng.uniform(0.05, 0.95, size=3)
    k = allocate_greedy(lam, total=9, lo=0)

    def value(t):
        return sum(1 - (1 - lam[i]) ** t[i] for i in range(3))

    best = max(((a, b, 9 - a - b) for a in range(10) for b in range(10 - a)), key=value)
    assert k.sum() == 9
    assert value(tuple(k)) == pytest.approx(value(best))


def test_greedy_uses_whole_budget_when_gains_vanish():
    k = allocate_greedy([0.0, 1.0, 0.0], total=9, lo=1, hi=[5, 5, 5])
    assert k.sum() == 9 and (k <= 5).all()


def test_marginal_gain_is_decreasing_in_b():
    g = marginal_gain(np.full(5, 0.3), np.arange(5))
    assert np.all(np.diff(g) < 0) and g[0] == pytest.approx(0.3)


def test_budget_in_cells_divides_by_candidates():
    assert total_tests(4, total_cells=4000, n_candidates=[100] * 4) == 40
    assert total_tests(4, budget=2.5) == 10


def test_allocate_front_door():
    k = allocate([0.5, 0.5], budget=3, lo=1, method="greedy")
    assert k.sum() == 6
    assert allocate([0.2, 0.8], budget=2, method="equal").tolist() == [2, 2]


@pytest.mark.parametrize("lam", [[0.5, 1.2], [-0.1, 0.3], [float("nan"), 0.2]])
def test_lambda_out_of_range_is_named(lam):
    with pytest.raises(BudgetError, match=r"problem #\d.*\[0, 1\]"):
        allocate_greedy(lam, total=10)


def test_budget_below_minimum_is_a_clear_error():
    with pytest.raises(BudgetError, match="below the minimum"):
        allocate([0.5] * 4, budget=1, lo=2)
    with pytest.raises(BudgetError, match="below the minimum"):
        allocate_equal(4, 3, lo=1)


def test_unknown_method_and_double_budget():
    with pytest.raises(BudgetError, match="unknown allocator"):
        allocate([0.5], budget=1, method="magic")
    with pytest.raises(BudgetError, match="exactly one"):
        total_tests(3, budget=1, total_cells=10, n_candidates=[1, 1, 1])
