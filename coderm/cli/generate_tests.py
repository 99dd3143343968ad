"""`coderm generate-tests`: fill the `tests` of contract problems with generated unit tests."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from coderm.cli import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, add_limit
from coderm.config import load_generator_section
from coderm.generate import GeneratorError, generate_tests
from coderm.jsonl import read_objects, write_atomic
from coderm.model import ValidationError

EXAMPLES = """examples:
  coderm generate-tests --problems coderm/examples/example.problems.jsonl --out with_tests.jsonl --config coderm-8b
  coderm generate-tests --problems problems.jsonl.gz --out with_tests.jsonl.gz --config coderm-8b --model ./CodeRM-8B --limit 20
  coderm score --problems with_tests.jsonl --out scores.jsonl

The config's `generator:` section names the backend (vllm, transformers or an OpenAI-compatible
server) and the sampling. Exit codes: 0 ok, 1 every generation failed, 2 bad input or config.
"""
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "coderm" / "generations"


def register(subparsers) -> None:
    p = subparsers.add_parser("generate-tests", help="generate unit tests for problems with a test-generator model",
                              description="Generate unit tests for each problem (JSONL contract) and write the "
                                          "problems back with `tests` filled. Raw generations are cached, so a "
                                          "rerun only generates what is missing.",
                              epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--problems", required=True, help="input JSONL (.gz ok), one problem per line")
    p.add_argument("--out", required=True, help="output JSONL: the problems with generated tests")
    p.add_argument("--config", required=True, help="preset or YAML config with a `generator:` section (e.g. coderm-8b)")
    p.add_argument("--model", help="override generator.model (a local path or a served model name)")
    p.add_argument("--cache-dir", default=str(DEFAULT_CACHE), help="where raw generations are cached (default: %(default)s)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the generation cache")
    p.add_argument("--overwrite", action="store_true", help="also replace tests that problems already have")
    add_limit(p)
    p.set_defaults(handler=run)


def read_problems(path: str) -> list[dict]:
    """Contract problems; a bad line raises ValidationError naming the file, line and field."""
    problems = []
    for lineno, problem in read_objects(path):
        for name in ("task_id", "prompt"):
            if not isinstance(problem.get(name), str):
                raise ValidationError("must be a string", path=path, line=lineno, field=name)
        if problem.get("entry_point") is not None and not isinstance(problem["entry_point"], str):
            raise ValidationError("must be a string or null", path=path, line=lineno, field="entry_point")
        problems.append(problem)
    return problems


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        problems = read_problems(args.problems)[:args.limit]
        section = load_generator_section(args.config)
    except (OSError, ValueError) as err:
        print(f"coderm generate-tests: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.model:
        section = {**section, "model": args.model}
    todo = [p for p in problems if args.overwrite or not p.get("tests")]
    try:
        generated = generate_tests(todo, section, cache_dir=None if args.no_cache else args.cache_dir)
    except (GeneratorError, ValueError) as err:
        print(f"coderm generate-tests: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    def with_generated(problem: dict) -> dict:
        if problem["task_id"] not in generated:
            return problem
        meta = dict(problem.get("meta") or {})
        meta["generated_tests"] = [{"model": p.model, "sample": p.sample_index, "prompt_hash": p.prompt_hash}
                                   for p in generated.provenance[problem["task_id"]]]
        return {**problem, "tests": generated[problem["task_id"]], "meta": meta}

    write_atomic(args.out, (json.dumps(with_generated(p)) + "\n" for p in problems))
    report = generated.report
    print(f"coderm generate-tests: {len(problems) - len(todo)} problems kept their tests; {report.summary()}",
          file=sys.stderr)
    if report.prompts_generated and report.prompts_failed == report.prompts_generated:
        print("coderm generate-tests: every generation request failed (see the warnings above)", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK
