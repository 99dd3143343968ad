"""scikit-learn ORM: trains with cross-validation on CodeGen-16B pools and predicts on held-out problems."""
import gzip
import json

import numpy as np
import pytest

from coderm.cli import main
from coderm.orm import OrmError, load_orm
from coderm.orm.features import DENSE_NAMES, problem_features
from coderm.orm.sklearn_orm import SklearnOrm, train
from coderm.prune import run_stages

CODET = "codet/humaneval_codegen16b.problems.jsonl.gz"


@pytest.fixture(scope="module")
def problems(shared_data):
    with gzip.open(shared_data / CODET, "rt") as f:
        return [json.loads(next(f)) for _ in range(12)]


@pytest.fixture(scope="module")
def orm(problems):
    return train(problems, folds=3)


def test_features_are_per_candidate_and_pool_aware(problems):
    p = problems[0]
    x = problem_features(p)
    assert x.shape[0] == len(p["candidates"]) and x.shape[1] > len(DENSE_NAMES)
    sub = problem_features(p, [5, 0])
    np.testing.assert_allclose(sub.toarray(), x[[5, 0]].toarray())  # a row does not depend on which rows are asked
    share = DENSE_NAMES.index("exact_share")
    dup = next(i for i, c in enumerate(p["candidates"]) if p["candidates"].count(c) > 1)
    assert x[dup, share] == p["candidates"].count(p["candidates"][dup]) / len(p["candidates"])


def test_cross_validated_orm_beats_chance_on_held_out_problems(orm, problems):
    assert orm.report["problems"] == 12 and orm.report["folds"] == 3
    assert orm.report["cv_auc"] > 0.6
    held = [h for h in orm.heldout]
    assert set().union(*held) == {p["task_id"] for p in problems} and sum(map(len, held)) == 12


def test_training_problems_are_scored_by_the_fold_that_held_them_out(orm, problems):
    p = problems[3]
    fold = next(k for k, h in enumerate(orm.heldout) if p["task_id"] in h)
    x = problem_features(p, [0, 1, 2])
    np.testing.assert_allclose(orm.score(p, [0, 1, 2]), orm.folds[fold].predict_proba(x)[:, 1])
    unseen = dict(p, task_id="unseen/1")
    np.testing.assert_allclose(orm.score(unseen, [0, 1, 2]), orm.full.predict_proba(x)[:, 1])


def test_save_load_and_orm_stage_threshold(orm, problems, tmp_path):
    path = tmp_path / "orm.pkl"
    orm.save(path)
    loaded = load_orm("sklearn", str(path))
    p = problems[1]
    np.testing.assert_allclose(loaded.score(p, [0, 1]), orm.score(p, [0, 1]))
    res = run_stages(p, [{"stage": "orm", "backend": "sklearn", "path": str(path), "threshold": 0.5}], None)
    assert all(res.orm_scores[i] >= 0.5 for i in res.survivors)
    assert all(res.orm_scores[i] < 0.5 for i in res.pruned)
    (tmp_path / "junk.pkl").write_bytes(b"not a model")
    with pytest.raises(OrmError, match="not a coderm scikit-learn ORM"):
        load_orm("sklearn", str(tmp_path / "junk.pkl"))


def test_train_rejects_unlabelled_pools(problems):
    with pytest.raises(OrmError, match="labels"):
        train([{k: v for k, v in p.items() if k != "labels"} for p in problems[:3]])


def test_cli_train_writes_a_model(shared_data, tmp_path, capsys):
    out = tmp_path / "m.pkl"
    assert main(["orm", "train", "--problems", str(shared_data / CODET), "--limit", "4", "--folds", "2",
                 "--out", str(out)]) == 0
    assert isinstance(SklearnOrm.load(out), SklearnOrm)
    assert json.loads(capsys.readouterr().out)["problems"] == 4
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"task_id": "t", "prompt": "", "candidates": ["x"], "labels": [true]}\n{oops\n')
    assert main(["orm", "train", "--problems", str(bad), "--out", str(out)]) == 2
    assert "bad.jsonl:2: malformed JSON" in capsys.readouterr().err
