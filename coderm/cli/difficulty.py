"""`coderm difficulty train|predict`: fit a pass-rate estimator on labelled problems, predict λ̂."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from coderm.cli import EXIT_BAD_INPUT, EXIT_OK, add_limit
from coderm.jsonl import read_objects
from coderm.model import ValidationError
from difficulty import ESTIMATOR_NAMES, EstimatorError, load_estimator, make_estimator, pass_rates_from_labels
from executor import Status


def read_jsonl(path: Path) -> list[dict]:
    """Problems or matrices, one JSON object with a task_id per line (.gz allowed); errors name file and line."""
    rows = []
    for n, row in read_objects(path):
        if "task_id" not in row:
            raise ValidationError("expected an object with a task_id", path=str(path), line=n)
        rows.append(row)
    return rows


def first_round(matrices: Path, problems: list[dict], k: int) -> list[np.ndarray]:
    """The first ``k`` test columns of each problem from a `coderm execute` output file."""
    by_id = {}
    for n, row in enumerate(read_jsonl(matrices), 1):
        try:
            by_id[row["task_id"]] = np.array([[Status.parse(s) == Status.PASS for s in r] for r in row["statuses"]],
                                             dtype=bool).reshape(len(row["statuses"]), -1)
        except (KeyError, ValueError, TypeError) as e:
            raise ValueError(f"{matrices}:{n}: bad statuses ({e})") from None
    out = []
    for p in problems:
        if p["task_id"] not in by_id:
            raise ValueError(f"{matrices}: no matrix for {p['task_id']}")
        out.append(by_id[p["task_id"]][:, :k])
    return out


def train(args) -> int:
    try:
        problems = read_jsonl(args.problems)[:args.limit]
        passed = first_round(args.matrices, problems, args.first_round) if args.matrices else None
        probe = {"model_path": args.model_path, "layer": args.layer, "pooling": args.pooling, "epochs": args.epochs}
        est = make_estimator(args.estimator, **(probe if args.estimator == "probe" else {}))  # the probe's options
        est.fit(problems, pass_rates_from_labels(problems), passed=passed)
        est.save(args.out)
    except ValueError as e:  # bad input, EstimatorError included
        print(f"coderm difficulty train: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"trained {args.estimator} estimator on {len(problems)} problems -> {args.out}", file=sys.stderr)
    return EXIT_OK


def predict(args) -> int:
    try:
        problems = read_jsonl(args.problems)[:args.limit]
        passed = first_round(args.matrices, problems, args.first_round) if args.matrices else None
        lam = load_estimator(args.model).predict(problems, passed=passed)
    except ValueError as e:  # bad input, EstimatorError included
        print(f"coderm difficulty predict: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    with open(args.out, "w", encoding="utf-8") as f:
        for p, x in zip(problems, lam):
            f.write(json.dumps({"task_id": p["task_id"], "lambda_hat": round(float(x), 6)}) + "\n")
    return EXIT_OK


EXAMPLES = """examples:
  coderm difficulty train --problems labelled.jsonl.gz --out difficulty.pkl
  coderm difficulty train --problems labelled.jsonl.gz --matrices matrices.jsonl --first-round 2 --out difficulty.pkl
  coderm difficulty predict --problems problems.jsonl --model difficulty.pkl --out lambda.jsonl
  coderm score --problems problems.jsonl --out scores.jsonl --budget 8 --allocator greedy --difficulty-model difficulty.pkl

λ is the fraction of a problem's candidates that are correct (from the labels when training);
--matrices (a `coderm execute` output) adds the first round's execution signals.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("difficulty", help="estimate per-problem pass rates (λ) for test-budget allocation",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    dsub = p.add_subparsers(dest="difficulty_command", metavar="ACTION", required=True)

    def common(q):
        q.add_argument("--problems", type=Path, required=True, help="problems JSONL (.gz ok)")
        q.add_argument("--matrices", type=Path, help="`coderm execute` output: first-round execution signals")
        q.add_argument("--first-round", type=int, default=1, help="tests per problem in the first round (default 1)")
        q.add_argument("--out", type=Path, required=True)
        add_limit(q)

    t = dsub.add_parser("train", help="fit an estimator on problems with labels; λ = fraction of correct candidates",
                        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    common(t)
    t.add_argument("--estimator", choices=ESTIMATOR_NAMES, default="features")
    t.add_argument("--model-path", default="", help="probe: transformers model dir or id for hidden states")
    t.add_argument("--layer", type=int, default=-1, help="probe: hidden-state layer (default -1, the last)")
    t.add_argument("--pooling", choices=("mean", "last"), default="mean", help="probe: token pooling")
    t.add_argument("--epochs", type=int, default=300, help="probe: MLP training epochs")
    t.set_defaults(handler=train)

    q = dsub.add_parser("predict", help="write λ̂ per problem as JSONL {task_id, lambda_hat}",
                        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    common(q)
    q.add_argument("--model", type=Path, required=True, help="file written by `coderm difficulty train`")
    q.set_defaults(handler=predict)
