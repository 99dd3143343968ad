"""`coderm convert`: a dataset in its own format -> the problems JSONL contract (DESIGN.md)."""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections import Counter
from collections.abc import Iterator
from itertools import islice

from tqdm import tqdm

from coderm.cli import EXIT_BAD_INPUT, EXIT_OK, add_limit
from coderm.evaluate.labels import label_config, with_labels
from coderm.jsonl import write_atomic
from coderm.loaders import NAMES, LoaderError, load, options
from coderm.loaders.records import is_local
from coderm.model import ValidationError
from executor import Executor, ExecutorConfig

EXAMPLES = """examples:
  coderm convert --from humaneval --input HumanEval.jsonl.gz --samples samples.jsonl --out he.jsonl
  coderm convert --from humaneval --input HumanEval.jsonl.gz --samples samples.jsonl --label --out he.jsonl  # samples without 'passed'
  coderm convert --from humanevalplus --input HumanEvalPlus-v0.1.0.jsonl.gz --max-inputs 50 --out he+.jsonl.gz
  coderm convert --from codet --input solutions=HumanEval_codegen16B_..._code_solution.jsonl.gz \\
      --input test_cases=HumanEval_codegen16B_..._test_case.jsonl.gz \\
      --input problems=HumanEval_for_code_generation.jsonl.gz --labels labels.json --out codet.jsonl
  coderm convert --from ldb --input ldb/humaneval__seed__*__seed.jsonl.gz --out ldb.jsonl
  coderm convert --from stdio --input codecontests31_problems.jsonl.gz --samples codecontests31_candidates_qwen.jsonl.gz --out cc.jsonl
  coderm convert --from apps --input BAAI/TACO --limit 100 --out taco.jsonl        # stdin and fn_name problems
  coderm convert --from codecontests --splits public,private --out cc.jsonl.gz     # deepmind/code_contests
  coderm convert --from livecodebench --splits public --out lcb.jsonl              # functional: call tests

--input takes a path (repeatable) or NAME=PATH for loaders with named files (codet);
without --input a loader reads its Hugging Face Hub dataset (network needed: an unreachable Hub is
reported at once; HF_HUB_OFFLINE=1 reads a copy cached by an earlier run).
"""


def register(subparsers) -> None:
    p = subparsers.add_parser("convert", help="convert a dataset into the problems JSONL contract",
                              description="Stream a dataset (local files or Hugging Face Hub) into problems JSONL "
                                          "(.gz by suffix).",
                              epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--from", dest="source", required=True, metavar="NAME", help=f"dataset: {', '.join(NAMES)}")
    p.add_argument("--input", action="append", default=[], metavar="F", help="input file, or NAME=FILE (repeatable)")
    p.add_argument("--samples", metavar="F", help="model samples to use as candidates (humaneval/evalplus/mbpp/stdio)")
    p.add_argument("--labels", metavar="F", help="JSON task_id -> [bool] labels (codet)")
    p.add_argument("--out", required=True, metavar="OUT", help="output .jsonl or .jsonl.gz, written atomically")
    add_limit(p)
    p.add_argument("--base-only", action="store_true", help="evalplus: only base_input, no plus_input")
    p.add_argument("--max-inputs", type=int, metavar="N", help="evalplus: at most N inputs per problem")
    p.add_argument("--max-output-chars", type=int, metavar="N",
                   help="evalplus: drop inputs whose reference output exceeds N characters of JSON (default 10000)")
    p.add_argument("--splits", metavar="S,S", help="livecodebench (public,private) / codecontests (public,private,"
                                                   "generated): the test splits to keep (default: all)")
    p.add_argument("--workers", type=int, metavar="N", help="executor workers for --label and for evalplus's "
                                                            "reference outputs")
    p.add_argument("--label", action="store_true",
                   help="label every candidate by running it on its problem's tests (the dataset's official ones): "
                        "correct when it passes them all; replaces labels the samples carry")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=run)


def _loader_kwargs(args) -> dict:
    """Map CLI flags onto the loader's keyword arguments; flags a loader lacks are an error."""
    kwargs: dict = {}
    paths = []
    for item in args.input:
        name, sep, path = item.partition("=")
        if sep and name.isidentifier() and not os.path.exists(item):
            kwargs[name] = path
        else:
            paths.append(item)
    if paths:
        kwargs["inputs"] = paths
    flags = {"samples": args.samples, "labels": args.labels, "plus": False if args.base_only else None,
             "max_inputs": args.max_inputs, "max_output_chars": args.max_output_chars,
             "splits": args.splits.split(",") if args.splits else None}
    kwargs.update((key, value) for key, value in flags.items() if value is not None)
    if args.workers is not None and (not args.label or "executor_config" in options(args.source)):
        kwargs["executor_config"] = ExecutorConfig(workers=args.workers, timeout=5.0, cache_path=None)
    return kwargs


def _check_paths(args, kwargs: dict) -> None:
    """LoaderError for a named input file that does not exist (Hub names are left to the loader) or a
    missing output directory."""
    for key in ("samples", "labels", "solutions", "test_cases", "problems"):
        if key in kwargs and not os.path.isfile(kwargs[key]):
            flag = f"--{key} " if key in ("samples", "labels") else f"--input {key}="
            raise LoaderError(f"{flag}{kwargs[key]}: no such file")
    for path in kwargs.get("inputs", []):
        if is_local(path) and not os.path.exists(path):
            raise LoaderError(f"--input {path}: no such file")
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(out_dir):
        raise LoaderError(f"--out {args.out}: directory {out_dir} does not exist")


def run(args) -> int:
    labels = Counter()  # problems without labels; with one candidate, labelled correct

    def lines(problems: Iterator[dict]) -> Iterator[str]:
        with tqdm(desc=f"convert {args.source}", unit="problem", disable=args.quiet, file=sys.stderr) as bar, \
                contextlib.ExitStack() as stack:
            try:
                rows: Iterator[dict] = islice(problems, args.limit)
                if args.label:
                    rows = with_labels(rows, stack.enter_context(Executor(label_config(args.workers))))
                for problem in rows:
                    labels["none"] += problem.get("labels") is None
                    labels["one correct"] += problem.get("labels") == [True]
                    yield json.dumps(problem, ensure_ascii=False) + "\n"
                    bar.update()
            except ValidationError as e:
                raise LoaderError(str(e)) from None
            finally:
                problems.close()  # loaders are generators; this releases an executor they hold

    try:
        kwargs = _loader_kwargs(args)
        _check_paths(args, kwargs)
        count = write_atomic(args.out, lines(load(args.source, **kwargs)))
    except LoaderError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not args.quiet:
        print(f"wrote {count} problems to {args.out}", file=sys.stderr)
    for note in label_notes(count, labels["none"], labels["one correct"]):
        print(f"note: {note}", file=sys.stderr)
    return EXIT_OK


def label_notes(problems: int, unlabelled: int, one_correct: int) -> list[str]:
    """What a newcomer should know before `coderm eval` reads the file: labels missing, or a file
    whose only candidate per problem is the reference solution (every pick is right)."""
    notes = []
    if unlabelled:
        notes.append(f"{unlabelled} of {problems} problems have no labels (samples without 'passed'), so `coderm "
                     f"eval` skips them; --label labels the candidates by running the problems' tests")
    if problems and one_correct == problems:
        notes.append("every problem has one candidate, labelled correct (without --samples it is the reference "
                     "solution), so `coderm eval` shows 100%; --samples gives model samples as candidates")
    return notes
