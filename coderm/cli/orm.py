"""`coderm orm train`: fit the scikit-learn ORM on labelled candidate pools with cross-validation."""
from __future__ import annotations

import argparse
import json
import sys

from coderm.cli import EXIT_BAD_INPUT, EXIT_OK, add_limit
from coderm.jsonl import read_labelled
from coderm.model import ValidationError
from coderm.orm import OrmError


EXAMPLES = """examples:
  coderm orm train --problems labelled.jsonl.gz --out orm.pkl
  coderm orm train --problems labelled.jsonl.gz --out orm.pkl --folds 3 --limit 100
  coderm pareto --problems labelled.jsonl.gz --orm orm.pkl

Prints the held-out AUC and top-1 accuracy as JSON; a config's prune stage `orm` uses the model file.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("orm", help="outcome reward models (train the scikit-learn ORM)", epilog=EXAMPLES,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="orm_command", metavar="ORM_COMMAND", required=True)
    t = sub.add_parser("train", help="train on labelled problems; reports held-out AUC and top-1 accuracy",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("--problems", required=True, help="JSONL(.gz) problems with candidates and labels")
    t.add_argument("--out", required=True, help="model file to write")
    t.add_argument("--folds", type=int, default=5, help="cross-validation folds over problems (default: %(default)s)")
    add_limit(t)
    t.set_defaults(handler=train)


def train(args: argparse.Namespace) -> int:
    from coderm.orm.sklearn_orm import train as fit  # scikit-learn and scipy: the 'ml' extra

    try:
        problems = [p.to_json() for p in read_labelled(args.problems, args.limit)]
        orm = fit(problems, folds=args.folds)
        orm.save(args.out)
    except (ValidationError, OrmError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(json.dumps(orm.report))
    return EXIT_OK
