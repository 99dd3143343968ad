"""`coderm eval`: how good are the scores? Best-of-N against the labels, beside random pick and oracle."""
from __future__ import annotations

import argparse
import json
import sys
from itertools import islice
from pathlib import Path
from typing import Iterator

import numpy as np

from coderm.cli import EXIT_BAD_INPUT, EXIT_OK, add_limit
from coderm.jsonl import read_json_lines, read_problems
from coderm.evaluate.metrics import best_of_n
from coderm.model import Problem, ScoreResult, ValidationError

DESCRIPTION = "Compare scores with the labels: how often the top-scored candidate is correct."
EXAMPLES = """examples:
  coderm score --problems coderm/examples/example.problems.jsonl --out scores.jsonl
  coderm eval --problems coderm/examples/example.problems.jsonl --scores scores.jsonl
  coderm eval --problems problems.jsonl.gz --scores codet.jsonl passrate.jsonl --json

best-of-N: accuracy of the top-scored candidate (ties broken at random, in expectation);
random pick: pass@1 of a random candidate; oracle: some candidate is correct. All in % over the
problems that have labels and a score line. Several score files are shown side by side.
Exit codes: 0 ok, 1 failure, 2 bad input.
"""


def register(subparsers) -> None:
    p = subparsers.add_parser("eval", help="best-of-N accuracy of scores against labels", description=DESCRIPTION,
                              epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--problems", required=True, metavar="FILE", help="problems JSONL with labels (.gz ok)")
    p.add_argument("--scores", required=True, nargs="+", metavar="FILE", help="outputs of `coderm score`")
    p.add_argument("--json", action="store_true", help="print a JSON list with one report per scores file")
    add_limit(p)
    p.set_defaults(handler=run)


def _score_results(path: str) -> Iterator[ScoreResult]:
    for number, value in read_json_lines(path):
        try:
            yield ScoreResult.from_json(value)
        except ValidationError as e:
            raise e.located(path, number) from None


def _joined(problems_path: str, scores_path: str, unmatched: list[int],
            limit: int | None) -> Iterator[tuple[Problem, ScoreResult | None]]:
    """The first ``limit`` problems with their score line, streaming both files (score lines come in
    problem order; lines out of order are held until their problem comes). ``unmatched`` receives the
    count of score lines with no problem in the file."""
    results = _score_results(scores_path)
    pending: dict[str, ScoreResult] = {}
    problems = read_problems(problems_path)
    for _, problem in islice(problems, limit):
        while problem.task_id not in pending:
            result = next(results, None)
            if result is None:
                break
            pending[result.task_id] = result
        yield problem, pending.pop(problem.task_id, None)
    beyond = {p.task_id for _, p in problems}  # past --limit: their score lines are known, not counted
    unmatched.append(sum(1 for r in [*pending.values(), *results] if r.task_id not in beyond))


def evaluate(problems_path: str, scores_path: str, limit: int | None = None) -> dict:
    """Best-of-N, random pick and oracle (in %) over every labelled problem (of the first ``limit``),
    plus counts; a labelled
    problem with no score line counts as a miss (averaging over the scored ones alone would overstate
    a partial scores file). Raises ValidationError on bad input."""
    counts = {"problems": 0, "labelled": 0, "scored": 0, "unscored": 0, "candidates": 0}
    best, random_pick, oracle = [], [], []
    unmatched: list[int] = []
    for problem, result in _joined(problems_path, scores_path, unmatched, limit):
        counts["problems"] += 1
        if problem.labels is None:
            continue
        counts["labelled"] += 1
        labels = np.asarray(problem.labels, dtype=bool)
        random_pick.append(labels.mean() if len(labels) else 0.0)
        oracle.append(float(labels.any()))
        if result is None:
            counts["unscored"] += 1
            best.append(0.0)
            continue
        if len(result.scores) != len(problem.candidates):
            raise ValidationError(f"{len(result.scores)} scores for {len(problem.candidates)} candidates of "
                                  f"{problem.task_id!r}", path=scores_path, field="scores")
        counts["scored"] += 1
        counts["candidates"] += len(result.scores)
        best.append(best_of_n(np.asarray(result.scores, dtype=float), labels))

    def pct(values: list[float]) -> float | None:
        return round(100.0 * float(np.mean(values)), 2) if values else None

    return {"scores": scores_path, "best_of_n": pct(best), "random_pick": pct(random_pick), "oracle": pct(oracle),
            **counts, "unknown_task_ids": unmatched[0]}


def table(reports: list[dict]) -> str:
    """One column per scores file."""
    names = [Path(r["scores"]).name for r in reports]
    width = max(10, *(len(n) + 2 for n in names))
    rows = [("best-of-N (scores) %", "best_of_n"), ("pass@1 random pick %", "random_pick"),
            ("oracle (any correct) %", "oracle"), ("problems scored", "scored"), ("candidates", "candidates")]
    lines = [f"{'':<24}" + "".join(f"{n:>{width}}" for n in names), "-" * (24 + width * len(names))]
    for label, key in rows:
        cells = [r[key] for r in reports]
        lines.append(f"{label:<24}" + "".join(f"{'-' if v is None else v:>{width}.2f}" if isinstance(v, float)
                                               else f"{'-' if v is None else v:>{width}}" for v in cells))
    first = reports[0]
    lines.append(f"problems {first['problems']}, with labels {first['labelled']}")
    if first["labelled"] < first["problems"]:
        lines.append(f"{first['problems'] - first['labelled']} problems have no labels and are left out; `coderm "
                     f"convert --samples F --label` labels model samples by running the official tests")
    for name, r in zip(names, reports):
        if r["unscored"]:
            lines.append(f"{name}: {r['unscored']} labelled problems have no score line; best-of-N counts them as misses")
        if r["unknown_task_ids"]:
            lines.append(f"{name}: {r['unknown_task_ids']} score lines have a task_id that is not in the problems file")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        reports = [evaluate(args.problems, path, args.limit) for path in args.scores]
    except ValidationError as e:
        print(f"coderm: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(json.dumps(reports) if args.json else table(reports))
    return EXIT_OK
