"""Consensus: Dawid-Skene EM with tests as annotators and candidates as items.

Each candidate is correct or not (latent); each test j has its own reliability: the chance
``a_j`` that a correct candidate passes it (near 1 for a right test, near 0 for a wrong one)
and the chance ``b_j`` that a wrong candidate passes it. EM estimates both jointly from the
matrix alone; the score is the posterior log-odds that the candidate is correct.
"""
from __future__ import annotations

import numpy as np

from coderm.aggregate.voting import codet
from executor.matrix import PassMatrix

ITERATIONS = 20
PRIOR = 1.0  # Beta pseudo-counts on every test's pass rates


def consensus(passed: np.ndarray, matrix: PassMatrix | None, cw: np.ndarray, tw: np.ndarray) -> np.ndarray:
    x = passed.astype(float)
    start = codet(passed, matrix, cw, tw)
    q = (start == start.max()).astype(float)  # the CodeT winners seed the "correct" class
    logit = np.zeros(len(q))
    for _ in range(ITERATIONS):
        wq, wn = cw * q, cw * (1 - q)
        a = (wq @ x + PRIOR) / (wq.sum() + 2 * PRIOR)
        b = (wn @ x + PRIOR) / (wn.sum() + 2 * PRIOR)
        pi = (wq.sum() + 1) / (cw.sum() + 2)
        pass_llr = np.log(a) - np.log(b)
        fail_llr = np.log1p(-a) - np.log1p(-b)
        logit = np.log(pi / (1 - pi)) + x @ (tw * pass_llr) + (1 - x) @ (tw * fail_llr)
        q_new = 1 / (1 + np.exp(-np.clip(logit, -50, 50)))
        if np.allclose(q_new, q, atol=1e-6):
            break
        q = q_new
    return logit
