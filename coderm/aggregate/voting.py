"""Pass-count and agreement votes: passrate, CodeRM's consistency vote, CodeT dual agreement."""
from __future__ import annotations

import numpy as np

from executor.matrix import PassMatrix


def passrate(passed: np.ndarray, matrix: PassMatrix | None, cw: np.ndarray, tw: np.ndarray) -> np.ndarray:
    """Weighted fraction of tests passed, in [0, 1]: the dense RL reward."""
    total = tw.sum()
    return passed @ tw / total if total > 0 else np.zeros(passed.shape[0])


def passed_sets(passed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct passed-sets (rows) and each candidate's index into them (its group)."""
    rows, inverse = np.unique(passed, axis=0, return_inverse=True)
    return rows, inverse.reshape(-1)


def coderm_vote(passed: np.ndarray, matrix: PassMatrix | None, cw: np.ndarray, tw: np.ndarray) -> np.ndarray:
    """Most tests passed; among the top, those whose passed-set is shared by the most rank first.

    Score = (pass rate + for top candidates only the weighted share of top candidates that have
    the same passed-set) / 2, in [0, 1], so every top candidate stays above every other one.
    """
    rate = passrate(passed, matrix, cw, tw)
    top = np.isclose(rate, rate.max())
    _, groups = passed_sets(passed)
    share = np.bincount(groups[top], weights=cw[top], minlength=groups.max() + 1)
    top_total = cw[top].sum()
    bonus = share[groups] / top_total if top_total > 0 else np.zeros_like(rate)
    return (rate + np.where(top, bonus, 0.0)) / 2


def codet(passed: np.ndarray, matrix: PassMatrix | None, cw: np.ndarray, tw: np.ndarray) -> np.ndarray:
    """CodeT dual agreement (Chen et al., 2022): sqrt(#candidates in group) x #tests the group passes,
    as a share of its maximum (every candidate in one group passing every test), in [0, 1]."""
    _, groups = passed_sets(passed)
    size = np.bincount(groups, weights=cw)
    bound = np.sqrt(cw.sum()) * tw.sum()
    return np.sqrt(size[groups]) * (passed @ tw) / bound if bound > 0 else np.zeros(passed.shape[0])
