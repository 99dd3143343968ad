"""`coderm eval`: how good are the scores? Best-of-N against the labels, beside random pick and oracle."""
from __future__ import annotations

import argparse
import json
import sys

from coderm.cli import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK
from coderm.jsonl import read_json_lines, read_problems
from coderm.model import ScoreResult, ValidationError

EXAMPLES = """examples:
  coderm score --problems coderm/examples/example.problems.jsonl --out scores.jsonl
  coderm eval --problems coderm/examples/example.problems.jsonl --scores scores.jsonl
  coderm eval --problems problems.jsonl.gz --scores scores.jsonl --json

best-of-N: accuracy of the top-scored candidate (ties broken at random, in expectation);
random pick: pass@1 of a random candidate; oracle: some candidate is correct. All in % over the
problems that have labels and a score line. Exit codes: 0 ok, 1 failure, 2 bad input.
"""


def register(subparsers) -> None:
    p = subparsers.add_parser("eval", help="best-of-N accuracy of scores against labels", description=__doc__,
                              epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--problems", required=True, metavar="FILE", help="problems JSONL with labels (.gz ok)")
    p.add_argument("--scores", required=True, metavar="FILE", help="output of `coderm score`")
    p.add_argument("--json", action="store_true", help="print the numbers as one JSON object")
    p.set_defaults(handler=run)


def evaluate(problems_path: str, scores_path: str) -> dict:
    """Best-of-N, random pick and oracle (in %) plus counts; raises ValidationError on bad input."""
    import numpy as np

    from coderm.metrics import best_of_n

    scores: dict[str, list[float]] = {}
    for number, value in read_json_lines(scores_path):
        try:
            result = ScoreResult.from_json(value)
        except ValidationError as e:
            raise e.located(scores_path, number) from None
        scores[result.task_id] = result.scores
    counts = {"problems": 0, "labelled": 0, "scored": 0, "candidates": 0}
    best, random_pick, oracle = [], [], []
    for number, problem in read_problems(problems_path):
        counts["problems"] += 1
        if problem.labels is None:
            continue
        counts["labelled"] += 1
        if problem.task_id not in scores:
            continue
        s = scores.pop(problem.task_id)
        if len(s) != len(problem.candidates):
            raise ValidationError(f"{len(s)} scores for {len(problem.candidates)} candidates of {problem.task_id!r}",
                                  path=scores_path, field="scores")
        counts["scored"] += 1
        counts["candidates"] += len(s)
        labels = np.asarray(problem.labels, dtype=bool)
        best.append(best_of_n(np.asarray(s, dtype=float), labels) if len(s) else 0.0)
        random_pick.append(labels.mean() if len(labels) else 0.0)
        oracle.append(float(labels.any()))
    counts["unknown_task_ids"] = len(scores)

    def pct(values: list[float]) -> float | None:
        return round(100.0 * float(np.mean(values)), 2) if values else None

    return {"best_of_n": pct(best), "random_pick": pct(random_pick), "oracle": pct(oracle), **counts}


def table(report: dict) -> str:
    rows = [("best-of-N (scores)", report["best_of_n"]), ("pass@1 random pick", report["random_pick"]),
            ("oracle (any correct)", report["oracle"])]
    lines = [f"{'metric':<22}{'%':>8}", "-" * 30]
    lines += [f"{name:<22}{'-' if v is None else f'{v:.2f}':>8}" for name, v in rows]
    lines.append("-" * 30)
    lines.append(f"problems {report['problems']}, with labels {report['labelled']}, scored {report['scored']}, "
                 f"candidates {report['candidates']}")
    if report["unknown_task_ids"]:
        lines.append(f"{report['unknown_task_ids']} score lines have a task_id that is not in the problems file")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        report = evaluate(args.problems, args.scores)
    except ValidationError as e:
        print(f"coderm: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ImportError as e:
        print(f"coderm: error: the metrics are not installed ({e})", file=sys.stderr)
        return EXIT_FAILURE
    print(json.dumps(report) if args.json else table(report))
    return EXIT_OK
