"""Reproduce CodeT's reranking table and compare every aggregator side by side.

Runs the CodeT CodeGen-16B HumanEval file (100 candidates x generated asserts per problem) and
the LDB HumanEval pool (one program from each of five models, tests from `given_tests`) through
the executor, then prints best-of-N of every aggregator next to random pick and the oracle.
Every assert of the shape ``assert f(<literals>) == <literal>`` also becomes a record-only call test
(``coderm.select.synth.recording``), run in the same jobs, so the output-using aggregators get each
candidate's output on the asserts' inputs.

The split protocol: for every aggregator with parameters, pick them on a random half of the
problems (best mean best-of-N over the grid) and report the other half; 20 splits, mean ± sd.

    python scripts/reproduce_codet.py --cache /tmp/coderm-cache.sqlite
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from coderm.aggregate import DEFAULT, NAMES, aggregate
from coderm.evaluate.metrics import best_of_n, throughput
from coderm.select.synth import recordings
from executor import Executor, ExecutorConfig, Job

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def codet_problems(path: Path, limit: int | None) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        problems = [json.loads(line) for _, line in zip(range(limit or 10**9), f)]
    return problems


def ldb_problems(folder: Path, limit: int | None) -> list[dict]:
    """One problem per task: the five models' programs as candidates, the union of given_tests."""
    by_task: dict[str, dict] = {}
    for path in sorted(folder.glob("humaneval__seed__*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                p = by_task.setdefault(row["task_id"], {"task_id": row["task_id"], "entry_point": row["entry_point"],
                                                        "candidates": [], "tests": [], "labels": []})
                p["candidates"].append(row["solution"])
                p["labels"].append(str(row["is_solved"]) == "True")
                given = row.get("given_tests") or []  # the reflexion file has none
                p["tests"] += [t for t in given if t not in p["tests"]]
    return list(by_task.values())[:limit]


ALPHAS = (0.25, 0.5, 0.75, 1.0)
POWERS = (0.5, 1.0, 2.0, 3.0)
GRID: dict[str, list[dict[str, float]]] = {  # aggregator -> the parameters a split may choose from
    "consensus": [{"alpha": a, "power": p} for a in ALPHAS for p in POWERS],
    "behaviour": [{"alpha": a} for a in ALPHAS],
    "srank": [{"alpha": a, "power": p} for a in ALPHAS for p in POWERS],
    "consensus_outputs": [{"alpha": a, "power": p} for a in ALPHAS for p in POWERS],
}
SPLITS = 20


def run(problems: list[dict], config: ExecutorConfig) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per problem: the pass matrix on its tests, and the outputs (object array, None = none) on its
    recordings, both from one job."""
    extra = [recordings(p["tests"], p.get("entry_point")) for p in problems]
    jobs = (Job(i, p["candidates"], p["tests"] + r, p.get("entry_point")) for i, (p, r) in enumerate(zip(problems, extra)))
    out = []
    with Executor(config) as ex:
        for (i, m), r in zip(ex.run_many(jobs), extra):
            t = len(problems[i]["tests"])
            outputs = np.empty((m.shape[0], len(r)), dtype=object)
            for (row, col), text in m.outputs.items():
                if col >= t and m.passed[row, col]:
                    outputs[row, col - t] = text
            out.append((m.passed[:, :t], outputs))
    return out


def per_problem(problems: list[dict], runs: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, np.ndarray]:
    """Best-of-N on every problem of every aggregator (defaults) and every grid point ("name[i]"),
    and each aggregator's scoring seconds per problem ("seconds:name")."""
    labels = [np.asarray(p["labels"], dtype=bool) for p in problems]
    cells: dict[str, np.ndarray] = {}
    for name in NAMES:
        start = time.perf_counter()
        cells[name] = np.array([best_of_n(aggregate(name, m, outputs=o), y) for (m, o), y in zip(runs, labels)])
        cells[f"seconds:{name}"] = np.array([(time.perf_counter() - start) / max(len(runs), 1)])
        for k, params in enumerate(GRID.get(name, [])):
            cells[f"{name}[{k}]"] = np.array([best_of_n(aggregate(name, m, outputs=o, params=params), y)
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--codet", type=Path, default=DATA / "codet" / "humaneval_codegen16b.problems.jsonl.gz")
    ap.add_argument("--ldb", type=Path, default=DATA / "ldb", help="folder with humaneval__seed__*.jsonl.gz")
    ap.add_argument("--cache", default=None, help="SQLite cache of cell verdicts (a second run is served from it)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=1.0, help="seconds per test")
    ap.add_argument("--limit", type=int, default=None, help="only the first N problems of each set")
    args = ap.parse_args()
    config = ExecutorConfig(workers=args.workers, timeout=args.timeout, cache_path=args.cache)
    columns: dict[str, dict[str, str]] = {}
    for title, problems in (("CodeT CodeGen-16B HumanEval", codet_problems(args.codet, args.limit)),
                            ("LDB HumanEval pool", ldb_problems(args.ldb, args.limit))):
        start = time.perf_counter()
        runs = run(problems, config)
        seconds = time.perf_counter() - start
        programs = sum(len(p["candidates"]) for p in problems)
        judged = sum(m.size for m, _ in runs)
        recorded = sum(o.size for _, o in runs)
        print(f"{title}: {len(problems)} problems, {programs} programs executed in {seconds:.1f} s "
              f"({throughput(programs, seconds):.1f} programs/s); {judged} judged cells + {recorded} recorded "
              f"outputs ({sum(o.shape[1] for _, o in runs)} record-only call tests from the asserts)")
        cells = per_problem(problems, runs)
        held = split_protocol(cells, len(problems))
        labels = [np.asarray(p["labels"], dtype=bool) for p in problems]
        key = f"{title} (n={len(problems)})"
        columns[key] = {name: f"{100 * cells[name].mean():.1f}" for name in NAMES}
        columns[key + " held-out (splits < codet)"] = {name: f"{held[name][0]:.1f} ± {held[name][1]:.1f} ({held[name][2]})"
                                                       for name in NAMES}
        columns[key + " ms/problem"] = {name: f"{1000 * cells[f'seconds:{name}'][0]:.2f}" for name in NAMES}
        for extra in ("random pick (pass@1)", "oracle"):
            value = np.mean([y.mean() if extra.startswith("random") else y.any() for y in labels])
            columns[key][extra] = f"{100 * value:.1f}"
    print("\n| aggregator | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for row in [*NAMES, "random pick (pass@1)", "oracle"]:
        name = f"{row} (default)" if row == DEFAULT else row
        print(f"| {name} | " + " | ".join(c.get(row, "") for c in columns.values()) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
