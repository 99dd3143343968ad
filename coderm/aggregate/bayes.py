"""MAP selection over the pass matrix (B4-style, Chen et al., arXiv 2409.08692), priors fitted without labels.

Hypothesis g: the candidates of passed-set group g are the correct ones and the tests they pass
are the correct tests (consistency: a right program passes every right test and no wrong one).
The rest of the matrix is then noise: a wrong program passes a right test with rate q0 and a wrong
test with rate q1; a program is right with rate p, a test with rate r. Instead of priors chosen by
hand (or tuned on labels), each rate is set to its maximum-likelihood value under the hypothesis
(empirical Bayes), so a hypothesis scores -sum of N x binary entropy over its four Bernoulli counts.
A group's score is its posterior share among all hypotheses, in [0, 1].
"""
from __future__ import annotations

import numpy as np

from coderm.aggregate.voting import passed_sets
from executor.matrix import PassMatrix


def _fit(successes: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """Maximized Bernoulli log-likelihood, -N h(A/N), of A successes in N (weighted) trials."""
    rate = np.divide(successes, trials, out=np.zeros_like(trials), where=trials > 0)
    rate = np.clip(rate, 1e-12, 1 - 1e-12)
    return trials * (rate * np.log(rate) + (1 - rate) * np.log(1 - rate))


def map_b4(passed: np.ndarray, matrix: PassMatrix | None, cw: np.ndarray, tw: np.ndarray) -> np.ndarray:
    """Posterior probability that the candidate's group is the correct set (see the module docstring)."""
    rows, group = passed_sets(passed)
    rows = rows.astype(float)
    size = np.bincount(group, weights=cw, minlength=len(rows))
    n, t = cw.sum(), tw.sum()
    colmass = size @ rows  # weighted passes of every test over all candidates
    right_tests = rows @ tw
    others = n - size
    hits_right = (colmass - size[:, None] * rows) * tw * rows  # wrong programs passing right tests
    hits_wrong = (colmass - size[:, None] * rows) * tw * (1 - rows)
    log_like = (_fit(size, np.full_like(size, n)) + _fit(right_tests, np.full_like(right_tests, t))
                + _fit(hits_right.sum(axis=1), others * right_tests)
                + _fit(hits_wrong.sum(axis=1), others * (t - right_tests)))
    posterior = np.exp(log_like - log_like.max())
    posterior /= posterior.sum()
    return posterior[group]
