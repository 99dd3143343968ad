"""Aggregators over the pass matrix and the recorded outputs (behaviour on the tests' inputs).

A generated assert ``assert f(3, [1, 2]) == 7`` may expect a wrong value, but its input is still a
fair input: running every candidate on it and keeping the output (a record-only call test, see
``coderm.select.synth.recording``) clusters candidates by what they do, not only by which possibly
wrong expectations they meet. ``outputs`` is an object array (n_candidates, n_recorded): the output
text of a cell, None where the program produced none (error, timeout).

- ``behaviour``: clusters = same passed-set and same outputs; CodeT's score over those clusters
  (cluster size^ALPHA x tests passed);
- ``srank``: SRank (To et al., arXiv 2311.03366): the same cluster score, summed over every cluster
  weighted by the functional overlap, the share of recorded inputs on which two clusters' outputs agree;
- ``consensus_outputs``: ``consensus``'s fixed point of support and test reliability over behaviour
  clusters, the passed-set overlap of two clusters multiplied by their output overlap.

Without recorded outputs (no assert of that shape) every one falls back to passed-set clusters.
"""
from __future__ import annotations

import numpy as np

from coderm.aggregate.consensus import consensus, fixed_point
from executor.matrix import PassMatrix

ALPHA = 1.0
POWER = 1.0
# consensus_outputs: the point the split protocol of scripts/reproduce_codet.py picks most often on the
# CodeT file (tuned on half the problems, 20 splits); lower than consensus's, as output overlap already
# separates the clusters that a steep support had to.
CONSENSUS_ALPHA = 0.5
CONSENSUS_POWER = 1.0


def clusters(passed: np.ndarray, outputs: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Behaviour clusters: each cluster's passed-set (rows), its output vector, each candidate's cluster."""
    n = passed.shape[0]
    recorded = outputs if outputs is not None else np.empty((n, 0), dtype=object)
    keys: dict[tuple, int] = {}
    group = np.array([keys.setdefault((passed[i].tobytes(), tuple(recorded[i])), len(keys)) for i in range(n)],
                     dtype=int)
    first = np.unique(group, return_index=True)[1]
    return passed[first], recorded[first], group


def overlap(outs: np.ndarray) -> np.ndarray:
    """Share of recorded inputs on which two clusters produced the same output (a crash agrees with
    no one); identity where nothing was recorded."""
    k, m = outs.shape
    if m == 0:
        return np.eye(k)
    same = np.zeros((k, k))
    for j in range(m):
        column = outs[:, j]
        ids: dict[str, int] = {}
        code = np.array([ids.setdefault(o, len(ids)) if o is not None else -1 for o in column])
        same += (code[:, None] == code[None, :]) & (code[:, None] >= 0)
    return np.maximum(same / m, np.eye(k))


def behaviour(passed: np.ndarray, matrix: PassMatrix | None, cw: np.ndarray, tw: np.ndarray, *,
              outputs: np.ndarray | None = None, alpha: float = ALPHA) -> np.ndarray:
    """Cluster size^alpha x weighted tests passed over behaviour clusters, as a share of its maximum."""
    rows, _, group = clusters(passed, outputs)
    size = np.bincount(group, weights=cw, minlength=len(rows))
    score = size**alpha * (rows @ tw)
    bound = cw.sum() ** alpha * tw.sum()
    return score[group] / bound if bound > 0 else np.zeros(passed.shape[0])


def srank(passed: np.ndarray, matrix: PassMatrix | None, cw: np.ndarray, tw: np.ndarray, *,
          outputs: np.ndarray | None = None, alpha: float = ALPHA, power: float = POWER) -> np.ndarray:
    """Every cluster's size^alpha x tests passed, summed through the functional overlap^power with this
    cluster (SRank's interaction matrix times its cluster features), as a share of its maximum."""
    rows, outs, group = clusters(passed, outputs)
    size = np.bincount(group, weights=cw, minlength=len(rows))
    score = overlap(outs) ** power @ (size**alpha * (rows @ tw))
    bound = cw.sum() ** alpha * len(rows) ** max(0.0, 1 - alpha) * tw.sum()  # power-mean bound of sum(size^alpha)
    return score[group] / bound if bound > 0 else np.zeros(passed.shape[0])


def consensus_outputs(passed: np.ndarray, matrix: PassMatrix | None, cw: np.ndarray, tw: np.ndarray, *,
                      outputs: np.ndarray | None = None, alpha: float = CONSENSUS_ALPHA,
                      power: float = CONSENSUS_POWER) -> np.ndarray:
    """``consensus`` over behaviour clusters, two clusters overlapping by their (reliability-weighted)
    passed-set Jaccard times their output overlap; plain ``consensus`` when nothing was recorded."""
    if outputs is None or outputs.shape[1] == 0:  # nothing recorded (e.g. stdin problems): consensus as tuned
        return consensus(passed, matrix, cw, tw)
    rows, outs, group = clusters(passed, outputs)
    size = np.bincount(group, weights=cw, minlength=len(rows))
    score = fixed_point(rows.astype(float), size, tw, overlap(outs), alpha, power)
    bound = cw.sum() ** alpha * tw.sum()
    return score[group] / bound if bound > 0 else np.zeros(passed.shape[0])
