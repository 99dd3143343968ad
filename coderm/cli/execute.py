"""`coderm execute`: run every candidate on the problem's given tests and write the raw pass matrices."""
from __future__ import annotations

import argparse
import json
from typing import Iterable, Iterator

from coderm.cli import EXIT_BAD_INPUT
from coderm.cli.score import add_io_options, config_from_args, fail, run_to_file
from coderm.config import ConfigError
from coderm.model import Problem
from coderm.pipeline import Progress, run_given_tests
from executor import Executor

DESCRIPTION = "Run every candidate on its problem's given tests in the sandbox and write the pass matrices."
EXAMPLES = """examples:
  coderm execute --problems coderm/examples/example.problems.jsonl --out matrices.jsonl
  coderm execute --problems problems.jsonl.gz --out matrices.jsonl.gz --workers 8 --timeout 5

Output: one line per problem, same order: {task_id, statuses, executed_pairs, seconds, unique_cells,
executed_cells, cached_cells, wall_seconds} (the keys of `coderm score`'s stats); statuses[i][j] is one of
PASS FAIL ERROR TIMEOUT MEMORY CRASH SKIPPED INVALID for candidates[i] on tests[j] (the given tests;
nothing is mined or generated here). Killed runs continue from OUT.partial like `coderm score`.
Exit codes: 0 ok, 1 failure, 2 bad input (nothing written), 130 interrupted (partial output kept).
"""


def register(subparsers) -> None:
    p = subparsers.add_parser("execute", help="run candidates x given tests into pass matrices", description=DESCRIPTION,
                              epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_io_options(p)
    p.set_defaults(handler=run)


def records(problems: Iterable[Problem], executor: Executor, progress: Progress) -> Iterator[tuple[str, dict]]:
    for problem, matrix in run_given_tests(problems, executor, progress):
        yield problem.task_id, matrix.to_record(problem.task_id)


def run(args: argparse.Namespace) -> int:
    try:
        config = config_from_args(args)
    except ConfigError as e:
        return fail(e, EXIT_BAD_INPUT)
    key = json.dumps({"command": "execute", "executor": config.executor.verdict_key()}, sort_keys=True, default=str)
    return run_to_file(args, config, key, records, verb="executed")
