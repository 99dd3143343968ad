"""S* selection without a model against the pick of the public tests alone (issue 12).

Two pools, each problem scored twice by one Pipeline config apart from ``select``: best-of-N of the
public tests alone (``passrate``: ties among the candidates passing them are broken at random, in
expectation), then with ``select: sstar`` (inputs synthesized from the visible ones, clusters of
outputs, representatives judged by the pool's agreement). Labels come from the hidden tests.

- CodeContests (stdin/stdout): the 31 problems of ``stdio/codecontests31_problems.jsonl.gz`` with the
  Qwen candidates; public = ``sample_io``; labels = passes every hidden test (``test_list``), run here.
- LDB HumanEval pool: one program from each of five models per problem; public = ``given_tests``;
  labels = LDB's ``is_solved`` (the HumanEval tests).

    python scripts/reproduce_sstar.py --cache /tmp/sstar.sqlite
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from coderm.config import Config, SelectConfig
from coderm.evaluate.metrics import best_of_n
from coderm.model import Problem
from coderm.pipeline import Pipeline
from executor import Executor, ExecutorConfig
from scripts.pools import codecontests_pool, ldb_pool


def evaluate(problems: list[Problem], config: Config) -> dict:
    """Best-of-N of the public tests alone and with S*, and what S* cost."""
    labels = [np.asarray(p.labels, dtype=bool) for p in problems]
    row: dict = {"problems": len(problems), "candidates": sum(len(p.candidates) for p in problems),
                 "random": 100 * np.mean([y.mean() for y in labels]),
                 "oracle": 100 * np.mean([y.any() for y in labels])}
    with Executor(config.executor_config()) as ex:
        for name, select in (("public", SelectConfig()), ("sstar", dataclasses.replace(config.select, method="sstar"))):
            start, before = time.perf_counter(), ex.stats["executed_cells"]
            results = [s.result for s in Pipeline(dataclasses.replace(config, select=select)).score(problems, ex)]
            row[name] = 100 * np.mean([best_of_n(np.asarray(r.scores), y) for r, y in zip(results, labels)])
            row[f"{name}_seconds"] = time.perf_counter() - start
            row[f"{name}_executed"] = ex.stats["executed_cells"] - before
            if name == "public":
                public_best = [r.best for r in results]
                continue
            picks = [r.stats.get("select") or {} for r in results]
            row["contested"] = sum(len(s.get("kept", [])) > 1 for s in picks)
            row["synthesized"] = sum(s.get("synthesized", 0) for s in picks)
            row["used_inputs"] = sum(s.get("used_inputs", 0) for s in picks)
            row["extra_cells"] = sum(s.get("cells", 0) for s in picks)
            row["changed"] = sum(r.best != b for r, b in zip(results, public_best))
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", default=None, help="SQLite cell cache (a rerun executes nothing)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=1.0, help="seconds per test (the calibrated ceiling)")
    ap.add_argument("--inputs", type=int, default=SelectConfig.n_inputs, help="inputs synthesized per problem")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=None, help="only the first N problems of each pool")
    args = ap.parse_args()
    config = Config(aggregator="passrate", cache=args.cache, quiet=True,
                    select=SelectConfig(method="sstar", n_inputs=args.inputs, seed=args.seed),
                    executor=ExecutorConfig(workers=args.workers, timeout=args.timeout))
    pools = {"CodeContests (stdin)": codecontests_pool(args.limit, config.executor_config()),
             "LDB HumanEval": ldb_pool("humaneval", args.limit)}
    print(f"\nbest-of-N (%), labels from the hidden tests; {args.inputs} inputs synthesized per contested problem, seed {args.seed}")
    header = (f"{'pool':<22}{'probs':>6}{'cands':>6}{'random':>8}{'public':>8}{'sstar':>8}{'delta':>7}{'oracle':>8}"
              f"{'contested':>10}{'changed':>8}{'synth':>7}{'used':>6}{'extra cells':>12}{'s public':>9}{'s sstar':>8}")
    print(header)
    for title, problems in pools.items():
        r = evaluate(problems, config)
        print(f"{title:<22}{r['problems']:>6}{r['candidates']:>6}{r['random']:>8.1f}{r['public']:>8.1f}{r['sstar']:>8.1f}"
              f"{r['sstar'] - r['public']:>+7.1f}{r['oracle']:>8.1f}{r['contested']:>10}{r['changed']:>8}"
              f"{r['synthesized']:>7}{r['used_inputs']:>6}{r['extra_cells']:>12}{r['public_seconds']:>9.1f}{r['sstar_seconds']:>8.1f}")
    print("\ncontested: problems where more than one candidate passes the public tests (S* runs there); changed: "
          "problems whose top pick differs; synth/used: inputs synthesized / kept after dropping those most "
          "candidates crash on; extra cells: candidate x synthesized-input cells of S* (executed or cached)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
