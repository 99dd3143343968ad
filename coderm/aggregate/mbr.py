"""MBR-exec: minimum Bayes risk by agreement of execution outputs (Shi et al., 2022)."""
from __future__ import annotations

import numpy as np

from executor.matrix import PassMatrix


def mbr(passed: np.ndarray, matrix: PassMatrix | None, cw: np.ndarray, tw: np.ndarray) -> np.ndarray:
    """Weighted share of (candidate, test) cells whose behaviour matches this candidate's.

    On stdio/call tests the behaviour is the recorded output (``matrix.outputs``), so agreement
    needs no expected output at all; on code tests, where there is no output, two cells agree
    when both PASS. A cell that produced nothing (error, timeout) agrees with no one. Agreement
    with itself is counted, which ranks a candidate with output above one that crashed.
    """
    n, t = passed.shape
    outputs = matrix.outputs if matrix is not None else {}
    agree = np.zeros((n, t))
    for j in range(t):
        keys: dict[object, int] = {}
        ids = np.full(n, -1)
        for i in range(n):
            out = outputs.get((i, j))
            key: object = ("out", out) if out is not None else ("pass",) if passed[i, j] else None
            if key is not None:
                ids[i] = keys.setdefault(key, len(keys))
        has = ids >= 0
        if has.any():
            votes = np.bincount(ids[has], weights=cw[has], minlength=len(keys))
            agree[has, j] = votes[ids[has]]
    total = tw.sum() * cw.sum()
    return agree @ tw / total if total > 0 else np.zeros(n)
