"""Reproduce CodeT's reranking table and compare every aggregator side by side.

Runs the CodeT CodeGen-16B HumanEval file (100 candidates x generated asserts per problem) and
the LDB HumanEval pool (one program from each of five models, tests from `given_tests`) through
the executor, then prints best-of-N of every aggregator next to random pick and the oracle.

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


def pass_matrices(problems: list[dict], config: ExecutorConfig) -> list[np.ndarray]:
    jobs = (Job(i, p["candidates"], p["tests"], p.get("entry_point")) for i, p in enumerate(problems))
    with Executor(config) as ex:
        return [m.passed for _, m in ex.run_many(jobs)]


def table_column(problems: list[dict], passed: list[np.ndarray]) -> dict[str, float]:
    labels = [np.asarray(p["labels"], dtype=bool) for p in problems]
    column = {name: 100 * np.mean([best_of_n(aggregate(name, m), y) for m, y in zip(passed, labels)]) for name in NAMES}
    column["random pick (pass@1)"] = 100 * np.mean([y.mean() for y in labels])
    column["oracle"] = 100 * np.mean([y.any() for y in labels])
    return column


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
    columns = {}
    for title, problems in (("CodeT CodeGen-16B HumanEval", codet_problems(args.codet, args.limit)),
                            ("LDB HumanEval pool", ldb_problems(args.ldb, args.limit))):
        start = time.perf_counter()
        passed = pass_matrices(problems, config)
        seconds = time.perf_counter() - start
        programs = sum(len(p["candidates"]) for p in problems)
        print(f"{title}: {len(problems)} problems, {programs} programs executed in {seconds:.1f} s "
              f"({throughput(programs, seconds):.1f} programs/s)")
        columns[f"{title} (n={len(problems)})"] = table_column(problems, passed)
    rows = list(next(iter(columns.values())))
    print("\n| aggregator | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for row in rows:
        name = f"{row} (default)" if row == DEFAULT else row
        print(f"| {name} | " + " | ".join(f"{c[row]:.1f}" for c in columns.values()) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
