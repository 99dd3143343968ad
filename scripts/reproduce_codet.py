"""Every aggregator on every labelled candidate pool in ../shared/data, side by side with CodeT.

The pools (``scripts/pools.py``): CodeT's CodeGen-16B HumanEval file (100 candidates x generated
asserts per problem), the LDB HumanEval and MBPP pools (one program per model, the visible
``given_tests``), and the CodeContests stdin problems with Qwen candidates (public ``sample_io`` as
tests, labels from the hidden cases). Each runs through the executor; then best-of-N of every
aggregator is printed next to random pick and the oracle. Every assert of the shape
``assert f(<literals>) == <literal>`` also becomes a record-only call test
(``coderm.select.synth.recording``), run in the same jobs, so the output-using aggregators get each
candidate's output on the asserts' inputs (stdin problems have none).

The split protocol: for every aggregator with parameters, pick them on a random half of the
problems (best mean best-of-N over the grid) and report the other half; 20 splits, mean ± sd, and
how many splits fall below ``codet``.

    python scripts/reproduce_codet.py --cache /tmp/coderm-cache.sqlite [--pools ldb-mbpp codecontests]
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from coderm.aggregate import DEFAULT, NAMES, aggregate
from coderm.evaluate.metrics import best_of_n, throughput
from coderm.model import Problem
from coderm.select.synth import recordings
from executor import Executor, ExecutorConfig, Job
from executor.matrix import PassMatrix
from scripts.pools import codecontests_pool, codet_file, ldb_generated_pool, ldb_pool

POOLS: dict[str, tuple[str, Callable[[int | None, ExecutorConfig], list[Problem]]]] = {
    "codet": ("CodeT CodeGen-16B HumanEval", lambda limit, _: codet_file(limit)),
    "ldb-humaneval": ("LDB HumanEval pool", lambda limit, _: ldb_pool("humaneval", limit)),
    "ldb-generated": ("LDB HumanEval pool x CodeT's generated asserts", lambda limit, _: ldb_generated_pool(limit)),
    "ldb-mbpp": ("LDB MBPP pool", lambda limit, _: ldb_pool("mbpp", limit)),
    "codecontests": ("CodeContests stdin, Qwen", codecontests_pool),
}

ALPHAS = (0.25, 0.5, 0.75, 1.0)
POWERS = (0.5, 1.0, 2.0, 3.0)
GRID: dict[str, list[dict[str, float]]] = {  # aggregator -> the parameters a split may choose from
    "consensus": [{"alpha": a, "power": p} for a in ALPHAS for p in POWERS],
    "behaviour": [{"alpha": a} for a in ALPHAS],
    "srank": [{"alpha": a, "power": p} for a in ALPHAS for p in POWERS],
    "consensus_outputs": [{"alpha": a, "power": p} for a in ALPHAS for p in POWERS],
}
SPLITS = 20


def run(problems: list[Problem], config: ExecutorConfig) -> list[tuple[PassMatrix, np.ndarray]]:
    """Per problem: the pass matrix on its tests (with stdio/call outputs, for ``mbr``), and the outputs
    (object array, None = none) on its recordings, both from one job."""
    extra = [recordings(p.tests or [], p.entry_point) for p in problems]
    jobs = (Job(i, p.candidates, (p.tests or []) + r, p.entry_point) for i, (p, r) in enumerate(zip(problems, extra)))
    out = []
    with Executor(config) as ex:
        for (i, m), r in zip(ex.run_many(jobs), extra):
            t = len(problems[i].tests or [])
            outputs = np.empty((m.shape[0], len(r)), dtype=object)
            for (row, col), text in m.outputs.items():
                if col >= t and m.passed[row, col]:
                    outputs[row, col - t] = text
            out.append((m.take_columns(np.arange(t)), outputs))
    return out


def per_problem(problems: list[Problem], runs: list[tuple[PassMatrix, np.ndarray]]) -> dict[str, np.ndarray]:
    """Best-of-N on every problem of every aggregator (defaults) and every grid point ("name[i]"),
    and each aggregator's scoring seconds per problem ("seconds:name")."""
    labels = [np.asarray(p.labels, dtype=bool) for p in problems]
    cells: dict[str, np.ndarray] = {}
    for name in NAMES:
        start = time.perf_counter()
        cells[name] = np.array([best_of_n(aggregate(name, m.passed, matrix=m, outputs=o), y)
                                for (m, o), y in zip(runs, labels)])
        cells[f"seconds:{name}"] = np.array([(time.perf_counter() - start) / max(len(runs), 1)])
        for k, params in enumerate(GRID.get(name, [])):
            cells[f"{name}[{k}]"] = np.array([best_of_n(aggregate(name, m.passed, matrix=m, outputs=o, params=params), y)
                                             for (m, o), y in zip(runs, labels)])
    return cells


def split_protocol(cells: dict[str, np.ndarray], n: int) -> dict[str, tuple[float, float, int]]:
    """Held-out best-of-N (mean, sd over SPLITS random halves, splits below codet) of every aggregator,
    its grid point chosen on the other half; aggregators without a grid are evaluated as they are."""
    result: dict[str, list[float]] = {name: [] for name in NAMES}
    for seed in range(SPLITS):
        order = np.random.default_rng(seed).permutation(n)
        tune, held = order[: n // 2], order[n // 2:]
        for name in NAMES:
            points = [f"{name}[{k}]" for k in range(len(GRID.get(name, [])))] or [name]
            best = max(points, key=lambda k: cells[k][tune].mean())
            result[name].append(100 * cells[best][held].mean())
    below = {name: sum(a < c for a, c in zip(v, result["codet"])) for name, v in result.items()}
    return {name: (float(np.mean(v)), float(np.std(v)), below[name]) for name, v in result.items()}


def report(problems: list[Problem], config: ExecutorConfig) -> dict[str, dict[str, str]]:
    """Run one pool and score it: per aggregator, best-of-N on the whole pool, held out by the split
    protocol, and scoring milliseconds per problem; random pick and oracle beside them."""
    start = time.perf_counter()
    runs = run(problems, config)
    seconds = time.perf_counter() - start
    programs = sum(len(p.candidates) for p in problems)
    print(f"  {len(problems)} problems, {programs} programs executed in {seconds:.1f} s "
          f"({throughput(programs, seconds):.1f} programs/s); {sum(np.prod(m.shape) for m, _ in runs)} judged cells + "
          f"{sum(o.size for _, o in runs)} recorded outputs ({sum(o.shape[1] for _, o in runs)} record-only call "
          f"tests from the asserts)")
    cells = per_problem(problems, runs)
    held = split_protocol(cells, len(problems))
    labels = [np.asarray(p.labels, dtype=bool) for p in problems]
    table = {"best-of-N": {name: f"{100 * cells[name].mean():.1f}" for name in NAMES},
             "held-out (splits < codet)": {name: f"{m:.1f} ± {sd:.1f} ({below})" for name, (m, sd, below) in held.items()},
             "ms/problem": {name: f"{1000 * cells[f'seconds:{name}'][0]:.2f}" for name in NAMES}}
    table["best-of-N"]["random pick (pass@1)"] = f"{100 * np.mean([y.mean() for y in labels]):.1f}"
    table["best-of-N"]["oracle"] = f"{100 * np.mean([y.any() for y in labels]):.1f}"
    return table


def print_table(title: str, table: dict[str, dict[str, str]]) -> None:
    print(f"\n| {title} | " + " | ".join(table) + " |")
    print("|---|" + "---:|" * len(table))
    for row in [*NAMES, "random pick (pass@1)", "oracle"]:
        name = f"{row} (default)" if row == DEFAULT else row
        print(f"| {name} | " + " | ".join(column.get(row, "") for column in table.values()) + " |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pools", nargs="+", choices=list(POOLS), default=list(POOLS), help="the pools to run")
    ap.add_argument("--cache", default=None, help="SQLite cache of cell verdicts (a second run is served from it)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=1.0, help="seconds per test")
    ap.add_argument("--limit", type=int, default=None, help="only the first N problems of each pool")
    args = ap.parse_args()
    config = ExecutorConfig(workers=args.workers, timeout=args.timeout, cache_path=args.cache)
    for key in args.pools:
        title, build = POOLS[key]
        print(f"{title}:")
        problems = build(args.limit, config)
        print_table(f"{title} (n={len(problems)})", report(problems, config))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
