"""Pass-rate (λ) estimators behind one interface, saved to versioned files (``difficulty.registry``
makes them by name and loads the files).

    est = make_estimator("features")
    est.fit(problems, pass_rates, passed=first_round)   # passed: optional bool matrices
    lam_hat = est.predict(problems, passed=first_round)
    est.save("model.pkl"); est = load_estimator("model.pkl")

λ of a problem is the fraction of its candidates that are correct. ``passed`` is, per problem,
the pass matrix (candidates x tests) of a first small round of tests that the caller ran;
estimators that do not use execution signals ignore it.
"""
from __future__ import annotations

import inspect
import pickle
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from difficulty.allocate import check_pass_rates
from difficulty.features import candidate_features, exec_signals, text_features

FORMAT = "coderm-difficulty-estimator"
VERSION = 1


class EstimatorError(ValueError):
    """A model file or input an estimator cannot use."""


def pass_rates_from_labels(problems: Sequence[dict]) -> np.ndarray:
    """True λ per problem from its ``labels``; names the first problem without them."""
    rates = []
    for i, p in enumerate(problems):
        labels = p.get("labels")
        if not labels:
            raise EstimatorError(f"problem #{i} ({p.get('task_id', '?')}) has no labels; λ needs labels")
        rates.append(float(np.mean([bool(x) for x in labels])))
    return np.asarray(rates)


class Estimator:
    """Base: ``fit``/``predict`` plus versioned ``save``; subclasses define ``name``,
    ``_fit``, ``_predict`` and ``state`` for the file, and keep their constructor's arguments."""

    name = ""

    def fit(self, problems: Sequence[dict], pass_rates: Sequence[float],
            passed: Sequence[np.ndarray] | None = None) -> "Estimator":
        lam = check_pass_rates(pass_rates, "pass-rate label")
        if len(lam) != len(problems):
            raise EstimatorError(f"{len(lam)} pass rates for {len(problems)} problems")
        if not len(problems):
            raise EstimatorError("cannot fit on zero problems")
        _check_passed(problems, passed)
        self._fit(list(problems), lam, passed)
        return self

    def predict(self, problems: Sequence[dict], passed: Sequence[np.ndarray] | None = None) -> np.ndarray:
        _check_passed(problems, passed)
        if not len(problems):
            return np.zeros(0)
        return np.clip(np.asarray(self._predict(list(problems), passed), dtype=float), 0.0, 1.0)

    def _fit(self, problems: list[dict], lam: np.ndarray, passed: Sequence[np.ndarray] | None) -> None:
        raise NotImplementedError

    def _predict(self, problems: list[dict], passed: Sequence[np.ndarray] | None) -> np.ndarray:
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        """The constructor's arguments, for the file (each is kept as the attribute of its name)."""
        return {name: getattr(self, name) for name in inspect.signature(type(self)).parameters}

    def state(self) -> Any:
        return None

    def set_state(self, state: Any) -> None:
        pass

    def save(self, path: str | Path) -> None:
        blob = {"format": FORMAT, "version": VERSION, "estimator": self.name,
                "params": self.params(), "state": self.state()}
        with open(path, "wb") as f:
            pickle.dump(blob, f, protocol=pickle.HIGHEST_PROTOCOL)


def _check_passed(problems: Sequence[dict], passed: Sequence[np.ndarray] | None) -> None:
    if passed is not None and len(passed) != len(problems):
        raise EstimatorError(f"{len(passed)} first-round pass matrices for {len(problems)} problems")


class OracleEstimator(Estimator):
    """λ from the labels themselves: the upper bound of what an estimator can give an allocator."""

    name = "oracle"

    def _fit(self, problems, lam, passed):
        pass

    def _predict(self, problems, passed):
        return pass_rates_from_labels(problems)


@lru_cache(maxsize=4096)
def _static_features(prompt: str, candidates: tuple[str, ...]) -> np.ndarray:
    """Prompt + candidate features, memoised: cross-validation refits on the same problems."""
    return np.concatenate([text_features(prompt), candidate_features(list(candidates))])


class FeatureEstimator(Estimator):
    """LLM-free, CPU: prompt text features, candidate self-consistency (parsed, never run) and,
    when given, first-round execution signals, into a standardised logistic regression fitted
    to soft λ targets (each problem enters as a positive with weight λ and a negative with
    weight 1−λ: cross-entropy on soft labels)."""

    name = "features"

    def __init__(self, C: float = 0.1):
        self.C = C
        self.model = None
        self.uses_exec: bool | None = None

    def _features(self, problems, passed) -> np.ndarray:
        rows = [_static_features(str(p.get("prompt", "")), tuple(p.get("candidates") or [])) for p in problems]
        if passed is not None:
            rows = [np.concatenate([r, exec_signals(m)]) for r, m in zip(rows, passed)]
        return np.vstack(rows)

    def _fit(self, problems, lam, passed):
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        x = self._features(problems, passed)
        n = len(lam)
        xx = np.vstack([x, x])
        yy = np.r_[np.ones(n), np.zeros(n)]
        ww = np.r_[lam, 1.0 - lam] + 1e-6  # both classes present even when every λ is 0 or 1
        self.model = make_pipeline(StandardScaler(), LogisticRegression(C=self.C, max_iter=2000))
        self.model.fit(xx, yy, logisticregression__sample_weight=ww)
        self.uses_exec = passed is not None

    def _predict(self, problems, passed):
        if self.model is None:
            raise EstimatorError("the features estimator is not fitted")
        if self.uses_exec and passed is None:
            raise EstimatorError("this model was fitted with first-round execution signals; pass `passed` matrices")
        if not self.uses_exec and passed is not None:
            raise EstimatorError("this model was fitted on text only; do not pass first-round matrices")
        return self.model.predict_proba(self._features(problems, passed))[:, 1]

    def state(self):
        return {"model": self.model, "uses_exec": self.uses_exec}

    def set_state(self, state):
        self.model, self.uses_exec = state["model"], state["uses_exec"]
