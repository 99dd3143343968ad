"""`coderm pareto`: best-of-N accuracy vs programs/s of a grid of verification pipelines."""
from __future__ import annotations

import argparse
import json
import sys
from itertools import islice
from pathlib import Path

from coderm.cli import EXIT_BAD_INPUT, EXIT_OK
from coderm.jsonl import read_problems
from coderm.model import ValidationError


class InputError(ValueError):
    """Bad input file or config (message names file, line, field)."""


def load_problems(path: str, limit: int | None = None, need_labels: bool = False) -> list[dict]:
    """Problems of a (optionally gzipped) JSONL file in the data contract, validated like `coderm score`'s."""
    problems = []
    try:
        for lineno, p in islice(read_problems(path), limit):
            if need_labels and p.labels is None:
                raise InputError(f"{path}:{lineno}: field 'labels' must give one label per candidate")
            problems.append(p.to_json())
    except ValidationError as e:
        raise InputError(str(e)) from None
    if not problems:
        raise InputError(f"{path}: no problems")
    return problems


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("pareto", help="accuracy-throughput frontier of staged verification pipelines",
                              description=__doc__)
    p.add_argument("--problems", required=True, help="JSONL(.gz) problems with candidates, tests and labels")
    p.add_argument("--config", default="configs/pareto.yaml", help="pipelines YAML (default: %(default)s)")
    p.add_argument("--orm", help="scikit-learn ORM model for pipelines with path '{orm}'")
    p.add_argument("--out-dir", default="pareto-report", help="where report.md, results.json and frontier.png go")
    p.add_argument("--limit", type=int, help="only the first N problems")
    p.add_argument("--workers", type=int, help="executor workers (default: config or CPU count)")
    p.add_argument("--max-loss", type=float, default=1.0,
                   help="accuracy loss in points allowed when naming the fastest pipeline (default: %(default)s)")
    p.add_argument("--cache", help="executor cell cache (SQLite); timings then measure cache reads, not execution")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import yaml

    from coderm.prune import PruneConfigError
    from coderm.prune.pareto import build_pipelines, evaluate, fastest_within, markdown_table, plot
    from executor import Executor, ExecutorConfig

    try:
        config = yaml.safe_load(Path(args.config).read_text())
        if not isinstance(config, dict) or not isinstance(config.get("pipelines"), list):
            raise InputError(f"{args.config}: expected a mapping with a 'pipelines' list")
        pipelines = build_pipelines(config["pipelines"], args.orm)
        baseline = config.get("baseline", pipelines[0].name)
        if baseline not in {p.name for p in pipelines}:
            raise InputError(f"{args.config}: baseline {baseline!r} is not a pipeline name")
        exec_options = dict(config.get("executor") or {})
        if args.workers:
            exec_options["workers"] = args.workers
        if args.cache:
            exec_options["cache_path"] = args.cache
        exec_config = ExecutorConfig.from_dict(exec_options)
        problems = load_problems(args.problems, args.limit, need_labels=True)
        from coderm.aggregate import DEFAULT, NAMES

        aggregator = config.get("aggregator") or DEFAULT
        if aggregator not in NAMES:
            raise InputError(f"{args.config}: unknown aggregator {aggregator!r}; known: {', '.join(NAMES)}")
    except (OSError, yaml.YAMLError, InputError, PruneConfigError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from tqdm import tqdm

    with Executor(exec_config) as ex, tqdm(total=len(problems), desc="pareto", file=sys.stderr) as bar:
        try:
            outcomes = evaluate(pipelines, problems, ex, aggregator, progress=bar.update)
        except PruneConfigError as e:
            print(f"error: {e}", file=sys.stderr)
            return EXIT_BAD_INPUT
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    title = f"{Path(args.problems).name}: {len(problems)} problems, aggregator {aggregator}"
    plot(outcomes, str(out / "frontier.png"), title)
    note = "\n\n**Timings read the executor cache, not execution.**" if args.cache else ""
    base = next(o for o in outcomes if o.name == baseline)
    win = fastest_within(outcomes, baseline, args.max_loss / 100)
    verdict = (f"Fastest pipeline within {args.max_loss:g} pt of `{baseline}`: **{win.name}** ({win.description}), "
               f"{win.programs_per_second / base.programs_per_second:.1f}× the programs/s at "
               f"{100 * (win.accuracy - base.accuracy):+.1f} pt best-of-N.")
    report = (f"# Pareto report\n\n{title}; executor {exec_config.workers} workers, timeout {exec_config.timeout}s."
              f"{note}\n\n{markdown_table(outcomes, baseline)}\n\n{verdict}\n\n![frontier](frontier.png)\n")
    (out / "report.md").write_text(report)
    (out / "results.json").write_text(json.dumps([{**o.__dict__, "programs_per_second": o.programs_per_second}
                                                  for o in outcomes], indent=1))
    print(report)
    return EXIT_OK
