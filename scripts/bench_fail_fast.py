"""HumanEval+ full test suites with binary verdicts: the executor's fail_fast against a full run, side by side.

CodeT's CodeGen-16B candidates for the first N HumanEval problems, judged by each problem's full
HumanEval+ suite (base and plus inputs as call tests, expected outputs from the canonical solution).
Both runs use the same executor settings but ``fail_fast``; the binary verdict (every usable test
passes) of the two must agree, and fail_fast should need far fewer cells.

    nice python scripts/bench_fail_fast.py --problems 20 --candidates 20
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coderm.loaders import humanevalplus  # noqa: E402
from executor import Executor, ExecutorConfig, Job, Status  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def load(problems: int, candidates: int, workers: int) -> list[dict]:
    """The first ``problems`` HumanEval+ problems with ``candidates`` CodeT candidates each."""
    with gzip.open(DATA / "codet" / "humaneval_codegen16b.problems.jsonl.gz", "rt") as f:
        codet = [json.loads(line) for line in islice(f, problems)]
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as samples:
        for p in codet:
            for c in p["candidates"][:candidates]:
                samples.write(json.dumps({"task_id": p["task_id"], "solution": c}) + "\n")
    try:
        return list(islice(humanevalplus(str(DATA / "humaneval" / "HumanEvalPlus-v0.1.0.jsonl.gz"), samples=samples.name,
                                         executor_config=ExecutorConfig(workers=workers)), problems))
    finally:
        os.unlink(samples.name)


def run(problems: list[dict], config: ExecutorConfig) -> tuple[float, np.ndarray, int]:
    """Seconds, each candidate's binary verdict, and cells that ran (not SKIPPED)."""
    jobs = [Job(p["task_id"], p["candidates"], p["tests"], p["entry_point"]) for p in problems]
    with Executor(config) as ex:
        ex.containment  # workers up before the clock starts
        start = time.perf_counter()
        matrices = [m for _, m in ex.run_many(jobs)]
        seconds = time.perf_counter() - start
    verdicts = np.concatenate([((m.statuses == Status.PASS) | (m.statuses == Status.INVALID)).all(axis=1)
                               for m in matrices])
    ran = sum(int((m.statuses != Status.SKIPPED).sum()) for m in matrices)
    return seconds, verdicts, ran


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problems", type=int, default=20)
    ap.add_argument("--candidates", type=int, default=20)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--timeout", type=float, default=1.0)
    args = ap.parse_args()
    problems = load(args.problems, args.candidates, args.workers)
    programs = sum(len(p["candidates"]) for p in problems)
    tests = sum(len(p["tests"]) for p in problems)
    print(f"{len(problems)} HumanEval+ problems, {programs} programs, {tests} tests ({tests / len(problems):.0f} a "
          f"problem); workers={args.workers}, cpus={os.cpu_count()}, timeout={args.timeout}s")
    results = {}
    for fail_fast in (False, True):
        seconds, verdicts, ran = run(problems, ExecutorConfig(workers=args.workers, timeout=args.timeout,
                                                              fail_fast=fail_fast))
        results[fail_fast] = verdicts
        name = "fail_fast" if fail_fast else "full run"
        print(f"{name:<10} {seconds:8.1f}s  programs/s={programs / seconds:8.1f}  cells run={ran:,}  "
              f"passing programs={int(verdicts.sum())}")
        results[(fail_fast, "s")] = seconds
    print(f"fail_fast/full programs/s = {results[(False, 's')] / results[(True, 's')]:.2f}x; binary verdict "
          f"agreement {np.mean(results[False] == results[True]):.4f}")


if __name__ == "__main__":
    main()
