"""Estimators by name: a new one to fit, or one that ``Estimator.save`` wrote.

    est = make_estimator("features")
    est.save("model.pkl"); est = load_estimator("model.pkl")
"""
from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from difficulty.estimators import FORMAT, VERSION, Estimator, EstimatorError, FeatureEstimator, OracleEstimator
from difficulty.probe import ProbeEstimator

ESTIMATOR_NAMES = ("features", "probe", "oracle")
_CLASSES: dict[str, type[Estimator]] = {c.name: c for c in (OracleEstimator, FeatureEstimator, ProbeEstimator)}


def make_estimator(name: str, **params: Any) -> Estimator:
    """A new, unfitted estimator by name (``features``, ``probe``, ``oracle``)."""
    if name not in _CLASSES:
        raise EstimatorError(f"unknown estimator {name!r}; expected one of {', '.join(ESTIMATOR_NAMES)}")
    return _CLASSES[name](**params)


def load_estimator(path: str | Path) -> Estimator:
    """Load a file written by ``Estimator.save``; refuses other formats and other versions."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            blob = pickle.load(f)
    except FileNotFoundError:
        raise EstimatorError(f"{path}: no such estimator file") from None
    except Exception as e:  # not a pickle at all, truncated, or classes that no longer exist
        if isinstance(e, ModuleNotFoundError) and (e.name or "").split(".")[0] not in ("difficulty", "coderm"):
            raise  # a dependency the model needs (scikit-learn: the 'ml' extra) is not installed
        raise EstimatorError(f"{path}: not a coderm difficulty estimator file ({type(e).__name__}: {e})") from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise EstimatorError(f"{path}: not a coderm difficulty estimator file")
    if blob.get("version") != VERSION:
        raise EstimatorError(f"{path}: estimator file version {blob.get('version')!r}, this coderm reads version "
                             f"{VERSION}; retrain it with `coderm difficulty train`")
    est = make_estimator(blob.get("estimator", "?"), **blob.get("params", {}))
    est.set_state(blob.get("state"))
    return est
