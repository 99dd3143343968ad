"""Aggregators: pass matrix -> one score per candidate in [0, 1] (higher is better, ties meaningful).

Every aggregator states its score as a share of its own maximum, so a score reads the same on a
problem with 5 tests or 500 and doubles as an RL reward: ``passrate`` the fraction of tests passed,
``coderm`` (pass rate + share of the top candidates agreeing) / 2, ``codet`` sqrt(group share) x
fraction of tests passed, ``mbr`` the share of cells agreeing, ``consensus`` support^0.75 x
reliable tests passed over the same of a unanimous, all-passing pool; ``behaviour``, ``srank`` and
``consensus_outputs`` (the default) also cluster by the outputs recorded on the asserts' inputs
(``behaviour.py``), ``b4`` is a MAP choice over the pass matrix (``bayes.py``).

    scores = aggregate("codet", passed)                 # passed: bool (n_candidates, n_tests)
    scores = aggregate("mbr", passed, matrix=m)         # output agreement needs m.outputs
    scores = aggregate("srank", passed, outputs=o)      # o: outputs on the asserts' inputs (behaviour.py)

``passed`` is in input order with duplicate candidates/tests present as duplicate rows/columns,
so duplicates count as votes. ``candidate_weights``/``test_weights`` multiply those counts.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from coderm.aggregate.bayes import map_b4
from coderm.aggregate.behaviour import behaviour, consensus_outputs, srank
from coderm.aggregate.consensus import consensus
from coderm.aggregate.mbr import mbr
from coderm.aggregate.voting import codet, coderm_vote, passrate
from executor.matrix import PassMatrix

Aggregator = Callable[..., np.ndarray]  # (passed, matrix, candidate weights, test weights, **tunables)

_REGISTRY: dict[str, Aggregator] = {
    "passrate": passrate,
    "coderm": coderm_vote,
    "codet": codet,
    "mbr": mbr,
    "consensus": consensus,
    "behaviour": behaviour,
    "srank": srank,
    "consensus_outputs": consensus_outputs,
    "b4": map_b4,
}
NAMES: tuple[str, ...] = tuple(_REGISTRY)
WITH_OUTPUTS: frozenset[str] = frozenset({"behaviour", "srank", "consensus_outputs"})  # take ``outputs=``
DEFAULT = "consensus_outputs"  # chosen by the split protocol of scripts/reproduce_codet.py (README)


def aggregate(name: str, passed: np.ndarray, *, matrix: PassMatrix | None = None,
              candidate_weights: np.ndarray | None = None, test_weights: np.ndarray | None = None,
              outputs: np.ndarray | None = None, params: dict[str, float] | None = None) -> np.ndarray:
    """Score every candidate of one problem with the aggregator ``name`` (float array, input order).
    ``outputs`` (object array, n_candidates rows, None = no output) reaches those in ``WITH_OUTPUTS``;
    ``params`` overrides an aggregator's tunables (``alpha``/``power``), for tuning scripts."""
    fn = _REGISTRY.get(name)
    if fn is None:
        raise ValueError(f"unknown aggregator {name!r}; expected one of {', '.join(NAMES)}")
    passed = np.asarray(passed, dtype=bool)
    if passed.ndim != 2:
        raise ValueError(f"passed must be a 2-D (n_candidates, n_tests) matrix, got shape {passed.shape}")
    n, t = passed.shape
    cw = _weights(candidate_weights, n, "candidate_weights")
    tw = _weights(test_weights, t, "test_weights")
    if matrix is not None and matrix.shape != passed.shape:
        raise ValueError(f"matrix shape {matrix.shape} differs from passed shape {passed.shape}")
    if outputs is not None and (outputs.ndim != 2 or outputs.shape[0] != n):
        raise ValueError(f"outputs must have {n} rows, got shape {outputs.shape}")
    if n == 0 or t == 0:
        return np.ones(n, dtype=float)
    extra: dict = {**(params or {}), **({"outputs": outputs} if name in WITH_OUTPUTS else {})}
    return np.asarray(fn(passed, matrix, cw, tw, **extra), dtype=float)


def _weights(w: np.ndarray | None, size: int, what: str) -> np.ndarray:
    if w is None:
        return np.ones(size, dtype=float)
    w = np.asarray(w, dtype=float)
    if w.shape != (size,):
        raise ValueError(f"{what} must have shape ({size},), got {w.shape}")
    if (w < 0).any() or not np.isfinite(w).all():
        raise ValueError(f"{what} must be finite and non-negative")
    return w


__all__ = ["DEFAULT", "NAMES", "WITH_OUTPUTS", "aggregate"]
