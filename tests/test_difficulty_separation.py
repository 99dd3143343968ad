"""Separation allocator: leave-one-out split rate and round-by-round allocation via reveal."""
import numpy as np
import pytest

from difficulty import BudgetError, allocate_separation, split_rate


def test_split_rate_zero_when_every_test_agrees():
    passed = np.ones((6, 5), dtype=bool)
    assert split_rate(passed) == pytest.approx(1 / 7)  # (0 splits + 1) / (5 + 2)


def test_split_rate_counts_tests_that_split_the_leave_one_out_top_group():
    # without test 0 the top group is {c0} (no split); without test 1 it is {c0, c1}, which test 1 splits
    passed = np.array([[1, 1], [1, 0]], dtype=bool)
    assert split_rate(passed) == pytest.approx((1 + 1) / (2 + 2))


def test_separation_sends_tests_where_leaders_were_just_split():
    easy = np.ones((20, 30), dtype=bool)  # every candidate passes everything: nothing to separate
    two = np.ones((20, 30), dtype=bool)
    two[10:, 3::4] = False  # half the candidates fail every 4th test, the first being test 3
    mats = [easy, two, easy, two]
    asked = []

    def reveal(req):
        asked.append(dict(req))
        return {i: mats[i][:, :k] for i, k in req.items()}

    k = allocate_separation(reveal, 4, total=20, lo=1, hi=30, round_size=1)
    assert k.tolist() == [4, 8, 4, 4]  # ties go to the lower index
    assert asked[0] == {0: 1, 1: 1, 2: 1, 3: 1}  # first round: everybody at the minimum
    assert all(len(r) == 1 for r in asked[1:])


def test_separation_respects_caps_and_zero_weight():
    mats = [np.random.default_rng(i).random((10, 5)) < 0.5 for i in range(3)]
    k = allocate_separation(lambda req: {i: mats[i][:, :n] for i, n in req.items()}, 3, total=15, lo=1, hi=5,
                            lam=[0.0, 0.5, 1.0])
    assert k.tolist() == [5, 5, 5]


def test_reveal_with_wrong_shape_is_reported():
    with pytest.raises(BudgetError, match="reveal returned shape"):
        allocate_separation(lambda req: {i: np.ones((3, 9), bool) for i in req}, 2, total=4, lo=1, hi=5)


def test_separation_budget_below_minimum():
    with pytest.raises(BudgetError, match="below the minimum"):
        allocate_separation(lambda req: {}, 3, total=2, lo=1)
