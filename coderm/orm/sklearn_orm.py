"""A CPU outcome reward model: logistic regression on candidate features, trained with
cross-validation over problems.

The saved model keeps one model per fold and the task_ids each fold held out; scoring a problem
that was in the training data uses the fold model that never saw it, so evaluating on the training
file never scores a problem with a model trained on it.
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MaxAbsScaler

from coderm.evaluate.metrics import best_of_n
from coderm.orm.base import OrmError
from coderm.orm.features import problem_features

FORMAT = "coderm-sklearn-orm/1"


def _model(c: float) -> Pipeline:
    return make_pipeline(MaxAbsScaler(), LogisticRegression(C=c, solver="liblinear", class_weight="balanced"))


@dataclass
class SklearnOrm:
    """``full`` is trained on every problem; ``folds[k]`` on all but the task_ids in ``heldout[k]``."""

    full: Pipeline
    folds: list[Pipeline] = field(default_factory=list)
    heldout: list[set[str]] = field(default_factory=list)
    report: dict = field(default_factory=dict)

    def _model_for(self, task_id: str | None) -> Pipeline:
        for model, held in zip(self.folds, self.heldout):
            if task_id in held:
                return model
        return self.full

    def score(self, problem: dict, indices: list[int]) -> np.ndarray:
        x = problem_features(problem, list(indices))
        return self._model_for(problem.get("task_id")).predict_proba(x)[:, 1]

    def save(self, path: str | Path) -> None:
        with open(path, "wb") as f:
            pickle.dump({"format": FORMAT, "orm": self}, f)

    @classmethod
    def load(cls, path: str | Path) -> "SklearnOrm":
        try:
            with open(path, "rb") as f:
                data = pickle.load(f)
        except (pickle.UnpicklingError, EOFError, IsADirectoryError, AttributeError, ModuleNotFoundError) as e:
            raise OrmError(f"{path} is not a coderm scikit-learn ORM ({type(e).__name__})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise OrmError(f"{path} is not a coderm scikit-learn ORM (format {FORMAT} expected)")
        return data["orm"]


def _labelled(problems: list[dict]) -> list[dict]:
    out = [p for p in problems if p.get("labels") is not None and len(p["labels"]) == len(p["candidates"])]
    if not out:
        raise OrmError("no problem has labels for every candidate; the ORM trains on labelled pools")
    return out


def train(problems: list[dict], folds: int = 5, c: float = 0.5, seed: int = 0) -> SklearnOrm:
    """Cross-validated training grouped by problem; ``report`` holds held-out AUC and top-1 accuracy."""
    problems = _labelled(problems)
    if not 2 <= folds <= len(problems):
        raise OrmError(f"folds must be between 2 and the number of labelled problems ({len(problems)}), got {folds}")
    xs = [problem_features(p) for p in problems]
    ys = [np.asarray(p["labels"], dtype=bool) for p in problems]
    order = np.random.default_rng(seed).permutation(len(problems))
    splitter = GroupKFold(n_splits=folds)
    fold_models, heldout, aucs, top1 = [], [], [], []
    for train_idx, test_idx in splitter.split(order, groups=order):
        tr, te = order[train_idx], order[test_idx]
        if len({bool(v) for i in tr for v in ys[i]}) < 2:
            raise OrmError("a cross-validation fold has only correct or only incorrect candidates; "
                           "train on more problems or fewer folds")
        model = _model(c).fit(sparse.vstack([xs[i] for i in tr]), np.concatenate([ys[i] for i in tr]))
        fold_models.append(model)
        heldout.append({problems[i]["task_id"] for i in te})
        pred = [model.predict_proba(xs[i])[:, 1] for i in te]
        y = np.concatenate([ys[i] for i in te])
        if 0 < y.sum() < len(y):
            aucs.append(roc_auc_score(y, np.concatenate(pred)))
        top1 += [best_of_n(s, ys[i]) for s, i in zip(pred, te)]
    full = _model(c).fit(sparse.vstack(xs), np.concatenate(ys))
    report = {"problems": len(problems), "candidates": int(sum(len(y) for y in ys)), "folds": folds,
              "cv_auc": float(np.mean(aucs)) if aucs else float("nan"), "cv_top1": float(np.mean(top1)),
              "random_pick": float(np.mean([y.mean() for y in ys]))}
    return SklearnOrm(full, fold_models, heldout, report)
