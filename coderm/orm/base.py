"""What every ORM backend provides, and the error they raise."""
from __future__ import annotations

from typing import Protocol

import numpy as np


class OrmError(ValueError):
    """An ORM that cannot be loaded (missing path, wrong model type, unknown backend)."""


class Orm(Protocol):
    def score(self, problem: dict, indices: list[int]) -> np.ndarray: ...
