"""S* selection: cluster the candidates that pass the public tests by their outputs on new inputs, then
let cluster representatives meet pairwise, judged by how the pool agrees or by a model.

S* (Li et al. 2025) selects among samples that all pass the visible tests, where voting over pass
matrices cannot decide. Its steps, and the choices made here:

1. Keep the candidates that pass every usable public test; if none does, those with the best pass count.
2. Inputs: ``coderm.select.synth`` mutates the problem's visible inputs (``inputs: synth``, no model), or
   the model writes them (``inputs: model``, as S* does; ``coderm.select.prompts`` reads them strictly).
3. Run the kept candidates on them as record-only tests, through the pipeline's one executor. An input
   on which most of them produce no output (an error, a timeout) is dropped: it likely left the
   problem's domain. Candidates with the same outputs on every remaining input form a cluster.
4. Representatives of clusters meet pairwise, biggest clusters first (``max_pairs`` pairs); with
   ``inputs: model`` the model first proposes inputs that may tell each pair apart (run on the kept
   candidates too). ``judge: outputs``: each input where the two differ and at least two outputs were
   produced goes to the one whose output more of the kept candidates share (AlphaCode-style agreement).
   ``judge: model``: on one input where both print different outputs, the model says which is right,
   asked twice with the programs swapped; only a consistent verdict counts. A pair's winner takes 1
   point, a tie 0.5 each.
5. The cluster with the most points wins (then the bigger one); its best-scored member is the pick.

Model calls follow the representatives: one for the inputs, at most 3 per pair, none when the kept
candidates form one cluster. The selection becomes the problem's scores (``rescore``): kept candidates
above the rest, by their cluster's place; the others keep their order below. ``Selection.to_json``
says why, and what it cost (cells, model calls by kind).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from coderm.config import SelectConfig
from coderm.model import Problem, ScoreResult
from coderm.select.llm import SelectModel
from coderm.select.prompts import distinguishing_prompt, given_text, inputs_prompt, judge_prompt, parse_inputs, parse_verdict
from coderm.select.synth import synthesize
from executor import Executor, Status

MAX_MAJORITY_CRASH = 0.5  # an input on which more than this share of kept candidates produce nothing is dropped
DECIDING_SHOWN = 3  # deciding inputs recorded per compared pair
TEXT_SHOWN = 200  # characters of an input or output recorded
PAIR_INPUTS = 3  # inputs the model is asked for, per compared pair (inputs: model)


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
    llm_calls: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"method": "sstar", "best": self.best, "kept": self.kept, "clusters": self.clusters,
                "points": self.points, "synthesized": self.synthesized, "used_inputs": self.used_inputs,
                "cells": self.cells, "pairs": self.pairs, "reason": self.reason,
                "llm_calls": self.llm_calls}


def select(problem: Problem, statuses: list[list[str]], result: ScoreResult, executor: Executor,
           config: SelectConfig, model: SelectModel | None = None) -> Selection | None:
    """The S* pick among ``problem.candidates`` (programs), from each candidate's public-test
    ``statuses`` ([] for one pruned before execution) and its score line; None without candidates.
    ``model`` answers when ``config.inputs`` or ``config.judge`` is ``model``."""
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
    ask = _Asker(problem, model, Counter())
    programs = [problem.candidates[i] for i in kept]
    if config.inputs == "model":  # identical programs agree on every input: nothing to ask
        tests = ask.inputs([inputs_prompt(ask.contract, config.n_inputs)], config.n_inputs, "inputs")[0] \
            if len(set(programs)) > 1 else []
    else:
        tests = synthesize(problem.to_json(), config.n_inputs, config.seed)
    if not tests:
        return Selection(order[0], kept, [order], [0.0], reason=f"{len(kept)} candidates {reason}; no input to "
                         f"{'write' if config.inputs == 'model' else 'synthesize'}", llm_calls=dict(ask.calls))
    languages = problem.languages()
    run = _Runs(executor, programs, problem.entry_point, [languages[i] for i in kept])
    shared = run.add(tests)
    used = [j for j in shared if run.valid(j)]
    row_of = {i: r for r, i in enumerate(kept)}
    groups: dict[tuple, list[int]] = {}
    for i in order:
        groups.setdefault(tuple(run.outputs[row_of[i]][j] for j in used), []).append(i)
    clusters = sorted(groups.values(), key=lambda c: (-len(c), order.index(c[0])))
    pairs = _pairs(len(clusters), config.max_pairs)
    reps = [[problem.candidates[clusters[a][0]], problem.candidates[clusters[b][0]]] for a, b in pairs]
    own = _pair_inputs(ask, run, reps) if config.inputs == "model" else [[] for _ in pairs]
    outputs = [[run.outputs[row_of[c[0]]][j] for j in range(len(run.tests))] for c in clusters]
    votes = {j: Counter(o[j] for o in run.outputs if o[j] is not None) for j in used + sum(own, [])}
    if config.judge == "model":
        judged = _judge_by_model(ask, pairs, reps, own, used, outputs, run.tests)
    else:
        judged = [_judge_by_outputs(outputs[a], outputs[b], [j for j in own[k] + used if len(votes[j]) >= 2], votes)
                  for k, (a, b) in enumerate(pairs)]
    points = [0.0] * len(clusters)
    records = []
    for (a, b), (side, deciding, record) in zip(pairs, judged):
        winner = None if side is None else (a, b)[side]
        if winner is None:
            points[a] += 0.5
            points[b] += 0.5
        else:
            points[winner] += 1.0
        records.append({"clusters": [clusters[a][0], clusters[b][0]], "winner": None if winner is None else clusters[winner][0],
                        **record, "deciding": [_shown(run.tests[j], outputs[winner][j]) for j in deciding[:DECIDING_SHOWN]]
                        if winner is not None else []})
    final = sorted(range(len(clusters)), key=lambda k: (-points[k], -len(clusters[k]), order.index(clusters[k][0])))
    distinguishing = sum(len(votes[j]) >= 2 for j in used)
    clusters = [clusters[k] for k in final]
    return Selection(clusters[0][0], kept, clusters, [points[k] for k in final], len(tests), len(used), run.cells,
                     records, f"{len(kept)} candidates {reason}; {len(clusters)} clusters on {len(used)} inputs "
                     f"({distinguishing} distinguishing)", dict(ask.calls))


def _pair_inputs(ask: "_Asker", run: "_Runs", reps: list[list[str]]) -> list[list[int]]:
    """The columns of the inputs the model proposes for each pair of representatives (one call a pair,
    all asked at once), run on every kept candidate in one job; those most of them crash on are left out."""
    proposed = ask.inputs([distinguishing_prompt(ask.contract, *codes, PAIR_INPUTS) for codes in reps], PAIR_INPUTS,
                          "distinguish")
    columns = run.add([t for found in proposed for t in found])
    own = []
    for found in proposed:
        own.append([j for j in columns[:len(found)] if run.valid(j)])
        columns = columns[len(found):]
    return own


def _judge_by_outputs(ra: list, rb: list, inputs: list[int], votes: dict[int, Counter]) -> tuple[int | None, list[int], dict]:
    """A pair judged by agreement: each input where the two differ goes to the output more kept candidates
    share; the side with more inputs wins (0 or 1; None: a tie), with the inputs it won."""
    won: list[list[int]] = [[], []]
    for j in inputs:
        if ra[j] != rb[j]:
            sa, sb = votes[j].get(ra[j], 0), votes[j].get(rb[j], 0)
            if sa != sb:
                won[0 if sa > sb else 1].append(j)
    side = None if len(won[0]) == len(won[1]) else 0 if len(won[0]) > len(won[1]) else 1
    return side, [] if side is None else won[side], {"inputs_won": [len(won[0]), len(won[1])]}


def _judge_by_model(ask: "_Asker", pairs: list[tuple[int, int]], reps: list[list[str]], own: list[list[int]],
                    used: list[int], outputs: list[list[str | None]], tests: list[dict]
                    ) -> list[tuple[int | None, list[int], dict]]:
    """Each pair judged by the model on one input where both representatives print different outputs (its
    own proposed inputs first): asked with the programs as A/B, then as B/A; only the same pick both times
    wins (a model that favours a position gives a tie). Two calls a pair."""
    asked = []
    for k, (a, b) in enumerate(pairs):
        j = next((j for j in own[k] + used if None not in (outputs[a][j], outputs[b][j])
                  and outputs[a][j] != outputs[b][j]), None)
        if j is not None:
            asked.append((k, j))
    prompts = []
    for k, j in asked:
        (a, b), given = pairs[k], given_text(tests[j], ask.problem.entry_point)
        prompts += [judge_prompt(ask.contract, given, reps[k][0], outputs[a][j], reps[k][1], outputs[b][j]),
                    judge_prompt(ask.contract, given, reps[k][1], outputs[b][j], reps[k][0], outputs[a][j])]
    replies = ask.model_asks(prompts, "judge")
    judged: list[tuple[int | None, list[int], dict]] = [(None, [], {"verdicts": []}) for _ in pairs]
    for n, (k, j) in enumerate(asked):
        said = [parse_verdict(replies[2 * n]), parse_verdict(replies[2 * n + 1])]
        side = {("A", "B"): 0, ("B", "A"): 1}.get((said[0], said[1]))
        judged[k] = (side, [j], {"verdicts": said})
    return judged


class _Asker:
    """The model's questions for one problem, counted in ``calls`` by kind (``cached``: answered without a call)."""

    def __init__(self, problem: Problem, model: SelectModel | None, calls: Counter) -> None:
        self.problem, self.model, self.calls = problem, model, calls
        self.contract = problem.to_json()

    def model_asks(self, prompts: list[str], kind: str) -> list[str | None]:
        if not prompts:
            return []
        if self.model is None:
            raise ValueError(f"S* {kind}: the select config asks a model, but none was given")
        return self.model.ask(self.problem.task_id, prompts, kind, self.calls)

    def inputs(self, prompts: list[str], n: int, kind: str) -> list[list[dict]]:
        """Up to ``n`` inputs read from the answer to each prompt (all asked at once)."""
        return [parse_inputs(reply, self.contract, n) for reply in self.model_asks(prompts, kind)]


class _Runs:
    """The kept candidates' outputs on the inputs run so far (None where a program produced none), grown
    input batch by input batch, each batch one executor job."""

    def __init__(self, executor: Executor, programs: list[str], entry_point: str | None, languages: list[str]) -> None:
        self.executor, self.programs, self.entry_point, self.languages = executor, programs, entry_point, languages
        self.tests: list[dict] = []
        self.outputs: list[list[str | None]] = [[] for _ in programs]
        self.cells = 0

    def add(self, tests: list[dict]) -> list[int]:
        """Run ``tests``; their column indices."""
        if not tests:
            return []
        matrix = self.executor.run(self.programs, tests, self.entry_point, self.languages)
        for r, row in enumerate(self.outputs):
            row.extend(matrix.outputs.get((r, j)) if matrix.statuses[r, j] == Status.PASS else None
                       for j in range(len(tests)))
        self.cells += int((matrix.statuses != Status.SKIPPED).sum())
        self.tests += tests
        return list(range(len(self.tests) - len(tests), len(self.tests)))

    def valid(self, j: int) -> bool:
        """An input on which more than ``MAX_MAJORITY_CRASH`` of the programs produce nothing likely left
        the problem's domain: it is not used."""
        return sum(row[j] is None for row in self.outputs) <= MAX_MAJORITY_CRASH * len(self.programs)


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
