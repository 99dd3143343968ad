"""Outcome reward models: score candidates of one problem without running them.

``load_orm(backend, path)`` returns an object with ``score(problem, indices) -> np.ndarray``
(higher is better). Backends: ``sklearn`` (features + logistic regression, CPU, trained by
``coderm orm train``) and ``hf`` (any AutoModelForSequenceClassification with a scalar head).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from coderm.orm.base import Orm, OrmError
from coderm.orm.hf import HFOrm

BACKENDS = ("sklearn", "hf")


def load_orm(backend: str, path: str | None, **options: Any) -> Orm:
    if backend not in BACKENDS:
        raise OrmError(f"unknown ORM backend {backend!r}; known: {', '.join(BACKENDS)}")
    if not path:
        raise OrmError(f"backend {backend!r} needs a path")
    if not Path(path).exists():
        raise OrmError(f"ORM path {path} does not exist")
    if backend == "sklearn":
        from coderm.orm.sklearn_orm import SklearnOrm  # scikit-learn and scipy: the 'ml' extra

        return SklearnOrm.load(path, **options)
    return HFOrm(path, **options)
