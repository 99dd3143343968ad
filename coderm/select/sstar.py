"""S* selection without a model: cluster the candidates that pass the public tests by their outputs on
synthesized inputs, then let cluster representatives meet, judged by how the pool agrees.

S* (Li et al. 2025) selects among samples that all pass the visible tests, where voting over pass
matrices cannot decide. Its steps, with the model-free choices made here:

1. Keep the candidates that pass every usable public test; if none does, those with the best pass count.
2. Inputs: ``coderm.select.synth`` mutates the problem's visible inputs (S* asks a model to write them).
3. Run the kept candidates on them as record-only tests, through the pipeline's one executor. An input
   on which most of them produce no output (an error, a timeout) is dropped: it likely left the
   problem's domain. Candidates with the same outputs on every remaining input form a cluster.
4. Representatives of clusters meet pairwise, biggest clusters first (``max_pairs`` pairs). They are
   judged on the inputs where they differ and at least two outputs were produced (an input with one
   output group says nothing): each such input goes to the one whose output more of the kept
   candidates share (AlphaCode-style agreement; S* asks a model); a pair's winner takes 1 point,
   a tie 0.5 each.
5. The cluster with the most points wins (then the bigger one); its best-scored member is the pick.

The selection becomes the problem's scores (``rescore``): kept candidates above the rest, by
their cluster's place; the others keep their order below. ``Selection.to_json`` says why.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from coderm.config import SelectConfig
from coderm.model import Problem, ScoreResult
from coderm.select.synth import synthesize
from executor import Executor, Status

MAX_MAJORITY_CRASH = 0.5  # an input on which more than this share of kept candidates produce nothing is dropped
DECIDING_SHOWN = 3  # deciding inputs recorded per compared pair
TEXT_SHOWN = 200  # characters of an input or output recorded


@dataclass
class Selection:
    """Why a candidate won: the kept candidates, their clusters in final order (winner first), each
    cluster's points, the compared pairs with the inputs that decided them, and what it cost."""

    best: int
    kept: list[int]
    clusters: list[list[int]]
    points: list[float]
    synthesized: int = 0
    used_inputs: int = 0
    cells: int = 0
    pairs: list[dict] = field(default_factory=list)
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"method": "sstar", "best": self.best, "kept": self.kept, "clusters": self.clusters,
                "points": self.points, "synthesized": self.synthesized, "used_inputs": self.used_inputs,
                "cells": self.cells, "pairs": self.pairs, "reason": self.reason}


def select(problem: Problem, statuses: list[list[str]], result: ScoreResult, executor: Executor,
           config: SelectConfig) -> Selection | None:
    """The S* pick among ``problem.candidates`` (programs), from each candidate's public-test
    ``statuses`` ([] for one pruned before execution) and its score line; None without candidates."""
    passes = {i: row.count("PASS") for i, row in enumerate(statuses) if row}
    if not passes:
        return None
    top = max(passes.values())
    kept = [i for i, p in passes.items() if p == top]
    order = sorted(kept, key=lambda i: (-result.scores[i], i))  # the aggregator's preference breaks every tie
    every = top == result.n_tests
    reason = "passes every public test" if every else f"best public pass count ({top})"
    if len(kept) == 1:
        return Selection(kept[0], kept, [kept], [0.0], reason=f"the only candidate that {reason}")
    tests = synthesize(problem.to_json(), config.n_inputs, config.seed)
    if not tests:
        return Selection(order[0], kept, [order], [0.0], reason=f"{len(kept)} candidates {reason}; no input to synthesize")
    languages = problem.languages()
    matrix = executor.run([problem.candidates[i] for i in kept], tests, problem.entry_point,
                          [languages[i] for i in kept])
    row_of = {i: r for r, i in enumerate(kept)}
    outputs = [[matrix.outputs.get((r, j)) if matrix.statuses[r, j] == Status.PASS else None
                for j in range(len(tests))] for r in range(len(kept))]
    used = [j for j in range(len(tests)) if sum(o[j] is None for o in outputs) <= MAX_MAJORITY_CRASH * len(kept)]
    groups: dict[tuple, list[int]] = {}
    for i in order:
        groups.setdefault(tuple(outputs[row_of[i]][j] for j in used), []).append(i)
    clusters = sorted(groups.values(), key=lambda c: (-len(c), order.index(c[0])))
    votes = {j: Counter(o[j] for o in outputs if o[j] is not None) for j in used}
    distinguishing = [j for j in used if len(votes[j]) >= 2]
    points = [0.0] * len(clusters)
    pairs = []
    for a, b in _pairs(len(clusters), config.max_pairs):
        ra, rb = outputs[row_of[clusters[a][0]]], outputs[row_of[clusters[b][0]]]
        won: dict[int, list[int]] = {a: [], b: []}
        for j in distinguishing:
            if ra[j] != rb[j]:
                sa, sb = votes[j].get(ra[j], 0), votes[j].get(rb[j], 0)
                if sa != sb:
                    won[a if sa > sb else b].append(j)
        if len(won[a]) == len(won[b]):
            points[a] += 0.5
            points[b] += 0.5
            winner = None
        else:
            winner = a if len(won[a]) > len(won[b]) else b
            points[winner] += 1.0
        pairs.append({"clusters": [clusters[a][0], clusters[b][0]], "winner": None if winner is None else clusters[winner][0],
                      "inputs_won": [len(won[a]), len(won[b])],
                      "deciding": [_shown(tests[j], ra[j] if winner == a else rb[j])
                                   for j in won[winner][:DECIDING_SHOWN]] if winner is not None else []})
    final = sorted(range(len(clusters)), key=lambda k: (-points[k], -len(clusters[k]), order.index(clusters[k][0])))
    clusters = [clusters[k] for k in final]
    return Selection(clusters[0][0], kept, clusters, [points[k] for k in final], len(tests), len(used),
                     int((matrix.statuses != Status.SKIPPED).sum()), pairs,
                     f"{len(kept)} candidates {reason}; {len(clusters)} clusters on {len(used)} inputs "
                     f"({len(distinguishing)} distinguishing)")


def _pairs(n: int, limit: int) -> list[tuple[int, int]]:
    """Cluster pairs, those of the biggest clusters first: (0, 1), (0, 2), (1, 2), (0, 3), ..."""
    return [(a, b) for b in range(1, n) for a in range(b)][:limit]


def _shown(test: dict, output: str | None) -> dict[str, Any]:
    """A deciding input and the winning output, cut to what a score line can carry."""
    given = test["input"] if test["type"] == "stdio" else {k: test[k] for k in ("args", "kwargs") if k in test}
    text = given if isinstance(given, str) else repr(given)
    return {"input": text[:TEXT_SHOWN], "output": (output or "")[:TEXT_SHOWN]}


def rescore(result: ScoreResult, selection: Selection) -> ScoreResult:
    """Scores that say the selection: kept candidates in (0.5, 1] by their cluster's place (the winning
    cluster 1.0, its pick ranked first), the others' scores halved below them, pruned ones unchanged."""
    scores = [0.5 * s if s >= 0 else s for s in result.scores]
    for place, cluster in enumerate(selection.clusters):
        for i in cluster:
            scores[i] = 0.5 + 0.5 * (len(selection.clusters) - place) / len(selection.clusters)
    ranking = sorted(range(len(scores)), key=lambda i: (-scores[i], i != selection.best, i))
    return ScoreResult(result.task_id, scores, ranking, ranking[0], result.n_tests,
                       {**result.stats, "select": selection.to_json()})
