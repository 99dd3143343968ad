"""`coderm debug`: S*'s sequential scaling on its own; problems in, problems with revised candidates out."""
from __future__ import annotations

import argparse
import json
from typing import Iterable, Iterator

from coderm.cli import EXIT_BAD_INPUT
from coderm.cli.score import add_io_options, config_from_args, fail, print_model_calls, run_to_file
from coderm.config import ConfigError
from coderm.model import Problem
from coderm.pipeline import Pipeline, Progress
from executor import Executor

DESCRIPTION = ("Revise the candidates that fail their problem's visible tests with a model, given the failures, "
               "up to select.debug_rounds rounds (S* self-debugging).")
EXAMPLES = """examples:
  coderm debug --problems problems.jsonl --out debugged.jsonl --config sstar.yaml
  coderm score --problems debugged.jsonl --out scores.jsonl --select sstar

The config names the model and the rounds (select.model: backend, model, base_url...; select.debug_rounds,
default 1 here). Output: the problems, same order, each failing candidate replaced by its last revision
(candidates[i] stays candidate i) and meta.debug saying which were revised, in how many rounds, and
whether they pass the visible tests now. `coderm score` with select.debug_rounds does the same before scoring.
Exit codes: 0 ok, 1 failure, 2 bad input (nothing written), 130 interrupted (partial output kept).
"""


def register(subparsers) -> None:
    p = subparsers.add_parser("debug", help="revise failing candidates with a model (S* debug rounds)",
                              description=DESCRIPTION, epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_io_options(p)
    p.add_argument("--rounds", type=int, metavar="R", help="revisions per candidate at most (config: select.debug_rounds)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = config_from_args(args)
        rounds = args.rounds if args.rounds is not None else config.select.debug_rounds or 1
        config = config.with_overrides(select={"debug_rounds": rounds})
        pipeline = Pipeline(config)
        if pipeline.select_model is None:
            raise ConfigError("coderm debug needs select.model in the config: the settings of the model that revises")
    except ConfigError as e:
        return fail(e, EXIT_BAD_INPUT)

    def records(problems: Iterable[Problem], executor: Executor, progress: Progress) -> Iterator[tuple[str, dict]]:
        for problem, lineage in pipeline.debug(problems, executor):
            yield problem.task_id, {**problem.to_json(), "meta": {**problem.meta, "debug": lineage}}

    key = json.dumps({"command": "debug", "config": json.loads(config.fingerprint())}, sort_keys=True)
    code = run_to_file(args, config, key, records, verb="debugged")
    print_model_calls(config, pipeline)
    return code
