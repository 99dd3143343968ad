"""`coderm pareto`: best-of-N accuracy vs programs/s of a grid of verification pipelines."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm import tqdm

from coderm.cli import EXIT_BAD_INPUT, EXIT_OK, add_limit
from coderm.config import Config, ConfigError, read_yaml
from coderm.evaluate.pareto import build_variants, evaluate, fastest_within, markdown_table, plot
from coderm.jsonl import read_labelled
from coderm.model import ValidationError
from executor import Executor


EXAMPLES = """examples:
  coderm pareto --problems labelled.jsonl.gz --out-dir pareto-report
  coderm pareto --problems labelled.jsonl.gz --config my_grid.yaml --orm orm.pkl --limit 40 --workers 8

Writes report.md, results.json and frontier.png to --out-dir. The config's `pipelines` list holds
the grid (each entry: `stages` and `tests`); `baseline` names the pipeline the others are held to.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("pareto", help="accuracy-throughput frontier of staged verification pipelines",
                              description=__doc__, epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--problems", required=True, help="JSONL(.gz) problems with candidates, tests and labels")
    p.add_argument("--config", default="pareto",
                   help="preset name or YAML with a 'pipelines' list (default: the %(default)s preset)")
    p.add_argument("--orm", help="scikit-learn ORM model for pipelines with path '{orm}'")
    p.add_argument("--out-dir", default="pareto-report", help="where report.md, results.json and frontier.png go")
    add_limit(p)
    p.add_argument("--workers", type=int, help="executor workers (default: config or CPU count)")
    p.add_argument("--max-loss", type=float, default=1.0,
                   help="accuracy loss in points allowed when naming the fastest pipeline (default: %(default)s)")
    p.add_argument("--cache", help="executor cell cache (SQLite); timings then measure cache reads, not execution")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        values, source = read_yaml(args.config)  # a fresh mapping: the pareto keys are popped off it
        entries, baseline = values.pop("pipelines", None), values.pop("baseline", None)
        base = Config.from_dict({"cache": None, **values}, source).with_overrides(workers=args.workers, cache=args.cache)
        variants = build_variants(entries, base, args.orm)
        baseline = baseline or variants[0].name
        if baseline not in {v.name for v in variants}:
            raise ConfigError(f"{source}: baseline {baseline!r} is not a pipeline name")
        problems = read_labelled(args.problems, args.limit)
        with Executor(base.executor_config()) as ex, tqdm(total=len(problems), desc="pareto", file=sys.stderr) as bar:
            outcomes = evaluate(variants, problems, ex, progress=bar.update)
    except (ConfigError, ValidationError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    title = f"{Path(args.problems).name}: {len(problems)} problems, aggregator {base.aggregator}"
    plot(outcomes, str(out / "frontier.png"), title)
    note = "\n\n**Timings read the executor cache, not execution.**" if args.cache else ""
    base_outcome = next(o for o in outcomes if o.name == baseline)
    win = fastest_within(outcomes, baseline, args.max_loss / 100)
    verdict = (f"Fastest pipeline within {args.max_loss:g} pt of `{baseline}`: **{win.name}** ({win.description}), "
               f"{win.programs_per_second / base_outcome.programs_per_second:.1f}× the programs/s at "
               f"{100 * (win.accuracy - base_outcome.accuracy):+.1f} pt best-of-N.")
    report = (f"# Pareto report\n\n{title}; executor {base.executor.workers} workers, timeout {base.executor.timeout}s."
              f"{note}\n\n{markdown_table(outcomes, baseline)}\n\n{verdict}\n\n![frontier](frontier.png)\n")
    (out / "report.md").write_text(report)
    (out / "results.json").write_text(json.dumps([{**o.__dict__, "programs_per_second": o.programs_per_second}
                                                  for o in outcomes], indent=1))
    print(report)
    return EXIT_OK
