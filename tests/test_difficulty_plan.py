"""plan_budget, the pipeline's entry point, on CodeT problems with a trained model file."""
import gzip
import json

import numpy as np
import pytest

from difficulty import BudgetError, GainCurves, make_estimator, pass_rates_from_labels, plan_budget


@pytest.fixture(scope="module")
def codet(shared_data):
    with gzip.open(shared_data / "codet/humaneval_codegen16b.problems.jsonl.gz", "rt") as f:
        return [json.loads(line) for _, line in zip(range(40), f)]


def test_equal_without_estimator_caps_at_available_tests(codet):
    plan = plan_budget(codet, budget=8)
    assert list(plan) == [p["task_id"] for p in codet]
    have = {p["task_id"]: len(p["tests"]) for p in codet}
    assert all(plan[t] <= have[t] for t in plan)
    assert sum(plan.values()) == 8 * len(codet)


def test_greedy_from_model_file_and_curves(codet, tmp_path):
    lam = pass_rates_from_labels(codet)
    est = make_estimator("features").fit(codet[:20], lam[:20])
    est.save(tmp_path / "m.pkl")
    test = codet[20:]
    plan = plan_budget(test, budget=4, estimator=tmp_path / "m.pkl")
    k = np.array(list(plan.values()))
    assert k.sum() == 4 * len(test) and len(set(k)) > 1  # greedy differs from equal
    assert all(plan[p["task_id"]] >= min(1, len(p["tests"])) for p in test)  # one problem has no tests
    curves = GainCurves(max_k=16).fit(lam[:20], [np.linspace(0, x, 17) for x in lam[:20]])  # gain grows with λ
    plan_c = plan_budget(test, budget=4, estimator=est, gain_curves=curves)
    assert sum(plan_c.values()) == 4 * len(test)
    rich = [p for p in test if len(p["tests"]) >= 16]  # no cap gets in the way
    lam_hat = est.predict(rich)
    kc = plan_budget(rich, budget=4, estimator=est, gain_curves=curves)
    assert kc[rich[int(np.argmax(lam_hat))]["task_id"]] > kc[rich[int(np.argmin(lam_hat))]["task_id"]]


def test_separation_through_reveal(codet):
    rng = np.random.default_rng(0)
    mats = {i: rng.random((len(p["candidates"]), len(p["tests"]))) < 0.5 for i, p in enumerate(codet)}
    plan = plan_budget(codet, budget=3, reveal=lambda req: {i: mats[i][:, :k] for i, k in req.items()})
    assert sum(plan.values()) == 3 * len(codet)


def test_bad_input(codet):
    with pytest.raises(BudgetError, match="below the minimum"):
        plan_budget(codet, budget=0.5, min_tests=1)
    with pytest.raises(BudgetError, match="needs an estimator"):
        plan_budget(codet, budget=4, allocator="greedy")
    with pytest.raises(BudgetError, match="duplicate task_id"):
        plan_budget(codet[:2] + codet[:1], budget=4)
    with pytest.raises(BudgetError, match="unknown allocator"):
        plan_budget(codet, budget=4, allocator="psychic")
