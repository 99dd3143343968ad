"""Estimators on the CodeT HumanEval file: held-out quality, oracle, save/load and bad input."""
import gzip
import json
import pickle

import numpy as np
import pytest
from scipy.stats import spearmanr

from difficulty import (BudgetError, EstimatorError, exec_signals, load_estimator, make_estimator,
                        pass_rates_from_labels, text_features)
from difficulty.features import EXEC_FEATURES, TEXT_FEATURES


@pytest.fixture(scope="module")
def codet(shared_data):
    with gzip.open(shared_data / "codet/humaneval_codegen16b.problems.jsonl.gz", "rt") as f:
        return [json.loads(line) for line in f]


def test_text_estimator_ranks_held_out_problems(codet):
    lam = pass_rates_from_labels(codet)
    train, test = codet[::2], codet[1::2]
    est = make_estimator("features").fit(train, lam[::2])
    pred = est.predict(test)
    assert pred.shape == (len(test),) and ((pred > 0) & (pred < 1)).all()
    rho = spearmanr(pred, lam[1::2]).statistic
    assert rho > 0.35  # prompt length and structure carry real signal on HumanEval (5-fold CV: ~0.55)


def test_exec_signals_add_information(codet):
    # a "first round" built from the labels alone: candidates that are correct pass, others fail
    # with probability 0.7 -> the estimator must use it
    rng = np.random.default_rng(0)
    first = [np.asarray(p["labels"], bool)[:, None] | (rng.random((len(p["labels"]), 1)) < 0.3) for p in codet]
    lam = pass_rates_from_labels(codet)
    est = make_estimator("features").fit(codet[::2], lam[::2], passed=first[::2])
    rho = spearmanr(est.predict(codet[1::2], passed=first[1::2]), lam[1::2]).statistic
    assert rho > 0.7
    with pytest.raises(EstimatorError, match="first-round execution signals"):
        est.predict(codet[1::2])


def test_oracle_returns_label_rates(codet):
    est = make_estimator("oracle").fit(codet[:3], [0.0, 0.5, 1.0])
    np.testing.assert_allclose(est.predict(codet[:5]), [np.mean(p["labels"]) for p in codet[:5]])
    with pytest.raises(EstimatorError, match="no labels"):
        est.predict([{"task_id": "x", "prompt": "def f(): pass"}])


def test_feature_vectors_have_named_columns(codet):
    assert text_features(codet[0]["prompt"]).shape == (len(TEXT_FEATURES),)
    sig = exec_signals(np.array([[1, 1], [1, 1], [0, 1], [0, 0]], bool))
    assert sig.shape == (len(EXEC_FEATURES),)
    np.testing.assert_allclose(sig[:4], [0.5, 0.25, 0.625, 0.5])


def test_save_load_round_trip_and_version_check(codet, tmp_path):
    lam = pass_rates_from_labels(codet)
    est = make_estimator("features").fit(codet[:40], lam[:40])
    est.save(tmp_path / "m.pkl")
    np.testing.assert_allclose(load_estimator(tmp_path / "m.pkl").predict(codet[40:50]), est.predict(codet[40:50]))

    blob = pickle.loads((tmp_path / "m.pkl").read_bytes())
    blob["version"] = 99
    (tmp_path / "old.pkl").write_bytes(pickle.dumps(blob))
    with pytest.raises(EstimatorError, match="version 99.*retrain"):
        load_estimator(tmp_path / "old.pkl")
    (tmp_path / "junk.pkl").write_text("not a model")
    with pytest.raises(EstimatorError, match="not a coderm difficulty estimator file"):
        load_estimator(tmp_path / "junk.pkl")
    with pytest.raises(EstimatorError, match="no such estimator file"):
        load_estimator(tmp_path / "missing.pkl")


def test_bad_labels_and_names(codet):
    with pytest.raises(BudgetError, match=r"problem #1 is 1\.5"):
        make_estimator("features").fit(codet[:3], [0.2, 1.5, 0.1])
    with pytest.raises(EstimatorError, match="3 pass rates for 2 problems"):
        make_estimator("features").fit(codet[:2], [0.2, 0.5, 0.1])
    with pytest.raises(EstimatorError, match="unknown estimator 'gpt'"):
        make_estimator("gpt")
