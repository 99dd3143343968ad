"""`coderm score`: problems JSONL in, one score line per problem out (DESIGN.md contract)."""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator

from coderm.aggregate import DEFAULT as DEFAULT_AGGREGATOR
from coderm.aggregate import NAMES as AGGREGATORS
from coderm.cli import EXIT_BAD_INPUT, EXIT_OK, add_limit
from coderm.cli._progress import CellProgress
from coderm.config import (ALLOCATORS, DEFAULT_CACHE, MINED_TESTS_MODES, SELECT_METHODS, Config, ConfigError,
                           load_config, load_generator_section, presets)
from coderm.jsonl import ResumableOutput, ResumeError, read_problems
from coderm.model import Problem, ValidationError
from coderm.pipeline import Pipeline, Progress
from executor import Executor

DESCRIPTION = "Score and rank the candidates of every problem with its tests (given, mined from the prompt, or generated)."
EXAMPLES = """examples:
  coderm score --problems coderm/examples/example.problems.jsonl --out scores.jsonl
  coderm score --problems problems.jsonl.gz --out scores.jsonl --aggregator codet --workers 8
  coderm score --problems problems.jsonl.gz --out sstar.jsonl --aggregator passrate --select sstar
  coderm eval --problems problems.jsonl.gz --scores scores.jsonl

Input: one JSON problem per line {task_id, prompt, entry_point, candidates, tests?, labels?, meta?}.
Output: one line per problem, same order: {task_id, scores, ranking, best, n_tests, stats}.
A run that is killed leaves OUT.partial; running the same command again continues from it.
Exit codes: 0 ok, 1 failure, 2 bad input (nothing written), 130 interrupted (partial output kept).
"""

# Records maker: (problems, executor, progress) -> (task_id, JSON line) in input order.
MakeRecords = Callable[[Iterable[Problem], Executor, Progress], Iterator[tuple[str, dict]]]


def add_io_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by the commands that run problems through the executor."""
    parser.add_argument("--problems", required=True, metavar="FILE", help="problems JSONL (.gz ok)")
    parser.add_argument("--out", required=True, metavar="FILE", help="output JSONL (.gz ok), written atomically")
    parser.add_argument("--config", metavar="CONFIG", help=f"a preset ({', '.join(presets())}) or a YAML file; "
                                                           "flags override it")
    parser.add_argument("--workers", type=int, metavar="N", help="sandboxed worker processes (config: executor.workers)")
    parser.add_argument("--timeout", type=float, metavar="S", help="seconds per test (config: executor.timeout)")
    parser.add_argument("--timeout-policy", choices=("fixed", "calibrated"),
                        help="fixed: --timeout per test; calibrated: from the peers' times, --timeout the ceiling "
                             "(config: executor.timeout_policy)")
    parser.add_argument("--cache", metavar="PATH", help=f"SQLite cell cache (config: cache; default {DEFAULT_CACHE})")
    parser.add_argument("--no-cache", action="store_true", help="run every cell, cache nothing (config: cache: null)")
    parser.add_argument("--skip-invalid", action="store_true", default=None,
                        help="report invalid problem lines and go on (config: skip_invalid)")
    parser.add_argument("--quiet", action="store_true", default=None, help="no progress bar or summary (config: quiet)")
    add_limit(parser)


def register(subparsers) -> None:
    p = subparsers.add_parser("score", help="score and rank candidates with tests", description=DESCRIPTION,
                              epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_io_options(p)
    p.add_argument("--aggregator", metavar="NAME", help=f"pass matrix -> scores in [0, 1]: {', '.join(AGGREGATORS)} "
                                                        f"(config: aggregator; default {DEFAULT_AGGREGATOR})")
    p.add_argument("--mined-tests", choices=MINED_TESTS_MODES,
                   help="add tests mined from the prompt: only for problems without tests (absent), always, never "
                        "(config: mined_tests)")
    p.add_argument("--generator", metavar="CONFIG",
                   help="preset or YAML with a 'generator' section (e.g. coderm-8b): generate tests for problems "
                        "that have none (config: generator)")
    p.add_argument("--budget", type=float, metavar="B",
                   help="average tests per problem, allocated by difficulty (config: budget.tests; default: every test)")
    p.add_argument("--allocator", choices=ALLOCATORS,
                   help="budget split: equal, greedy by predicted pass rates, or adaptive: in rounds, to the problems "
                        "whose pick the tests run so far leave open (config: budget.allocator)")
    p.add_argument("--difficulty-model", metavar="FILE",
                   help="estimator from `coderm difficulty train` for the greedy allocator (config: budget.difficulty_model)")
    p.add_argument("--select", choices=SELECT_METHODS,
                   help="after aggregation: sstar picks among the candidates passing the public tests by clustering "
                        "their outputs on synthesized inputs (or the model's: select.inputs/judge); stats.select says why "
                        "(config: select.method)")
    p.set_defaults(handler=run)


def config_from_args(args: argparse.Namespace, **extra) -> Config:
    """Defaults <- --config preset or file <- flags."""
    config = load_config(args.config)
    if args.no_cache:
        config = dataclasses.replace(config, cache=None)
    return config.with_overrides(workers=args.workers, timeout=args.timeout, timeout_policy=args.timeout_policy,
                                 cache=args.cache,
                                 skip_invalid=args.skip_invalid, quiet=args.quiet, **extra)


def run(args: argparse.Namespace) -> int:
    try:
        config = config_from_args(args, aggregator=args.aggregator, mined_tests=args.mined_tests,
                                  generator=load_generator_section(args.generator) if args.generator else None,
                                  budget=args.budget, allocator=args.allocator, difficulty_model=args.difficulty_model,
                                  select=args.select)
        pipeline = Pipeline(config)
    except ConfigError as e:
        return fail(e, EXIT_BAD_INPUT)

    def records(problems: Iterable[Problem], executor: Executor, progress: Progress) -> Iterator[tuple[str, dict]]:
        for scored in pipeline.score(problems, executor, progress=progress):
            yield scored.problem.task_id, scored.result.to_json()

    code = run_to_file(args, config, config.fingerprint(), records, verb="scored")
    print_model_calls(config, pipeline)
    return code


def print_model_calls(config: Config, pipeline: Pipeline) -> None:
    """The S* model's calls of the run, by kind (nothing when no model was set)."""
    if pipeline.select_model is not None and not config.quiet:
        print(f"coderm: S* model calls: {pipeline.select_model.summary()}", file=sys.stderr)


def fail(message: object, code: int) -> int:
    print(f"coderm: error: {message}", file=sys.stderr)
    return code


def run_to_file(args: argparse.Namespace, config: Config, fingerprint: str, make_records: MakeRecords, verb: str) -> int:
    """Validate all input first (bad input: exit 2, nothing written), then write records resumably."""
    invalid: list[ValidationError] = []

    def report(error: ValidationError) -> None:
        invalid.append(error)
        print(f"coderm: skipped invalid line: {error}", file=sys.stderr)

    try:
        sizes = {p.task_id: len(p.candidates)
                 for _, p in islice(read_problems(args.problems, report if config.skip_invalid else None), args.limit)}
    except ValidationError as e:
        hint = " (use --skip-invalid to skip such lines)" if e.line is not None else ""
        return fail(f"{e}{hint}", EXIT_BAD_INPUT)
    order = list(sizes)
    if not order:
        return fail(f"{args.problems}: no problems to {verb.removesuffix('d')}", EXIT_BAD_INPUT)
    out_path = Path(args.out)
    if not out_path.parent.is_dir():
        return fail(f"{args.out}: the output directory does not exist", EXIT_BAD_INPUT)
    if out_path.resolve() == Path(args.problems).resolve():
        return fail(f"{args.out}: --out is the problems file; writing it would destroy the input", EXIT_BAD_INPUT)
    try:
        out = ResumableOutput(out_path, fingerprint)
    except ResumeError as e:
        return fail(e, EXIT_BAD_INPUT)
    resumed = len(out.done.intersection(order))
    todo = (p for _, p in islice(read_problems(args.problems, (lambda e: None) if config.skip_invalid else None), len(order))
            if p.task_id not in out.done)
    start = time.perf_counter()
    try:
        with Executor(config.executor_config()) as executor, \
                CellProgress([n for t, n in sizes.items() if t not in out.done], config.quiet) as progress:
            for task_id, record in make_records(todo, executor, progress):
                out.write(task_id, record)
                progress.problem_done()
            cells = dict(executor.stats)
        out.finish(order)
    finally:
        out.close()
    if not config.quiet:
        parts = [f"{verb} {len(order)} problem{'s' if len(order) != 1 else ''}"]
        if resumed:
            parts.append(f"{resumed} kept from {out.partial.name}")
        if invalid:
            parts.append(f"{len(invalid)} invalid lines skipped")
        print(f"coderm: {', '.join(parts)} in {time.perf_counter() - start:.1f}s wall; executed_cells "
              f"{cells['executed_cells']}, cached_cells {cells['cached_cells']} -> {args.out}", file=sys.stderr)
    return EXIT_OK
