"""`coderm score` of this checkout against another one (e.g. the last release), side by side.

    git worktree add /tmp/base <REV>
    python scripts/compare_score.py --baseline /tmp/base    # --problems F: default, CodeT's HumanEval file

For each side: one cold run (fresh cell cache) with the default aggregator, timed, then a run per
other aggregator from that side's cache. Prints wall times and their ratio, and for every aggregator
whether the score lines are byte-identical, and if not whether rankings and every other field are,
and how far scores are from a constant multiple of the baseline's per problem.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.shared_data import DATA, require  # noqa: E402

AGGREGATORS = ("consensus", "passrate", "coderm", "codet", "mbr")


def run(checkout: Path, problems: str, out: Path, aggregator: str, cache: Path, workers: int | None) -> float:
    cmd = [sys.executable, "-m", "coderm", "score", "--problems", problems, "--out", str(out), "--aggregator",
           aggregator, "--cache", str(cache), "--quiet"] + (["--workers", str(workers)] if workers else [])
    start = time.perf_counter()
    subprocess.run(cmd, env={**os.environ, "PYTHONPATH": str(checkout)}, cwd=out.parent, check=True)
    return time.perf_counter() - start


def compare(base: Path, ours: Path) -> str:
    if base.read_bytes() == ours.read_bytes():
        return "byte-identical"
    b = [json.loads(line) for line in base.read_text().splitlines()]
    o = [json.loads(line) for line in ours.read_text().splitlines()]
    rankings = sum(x["ranking"] == y["ranking"] for x, y in zip(b, o))
    others = sum({k: v for k, v in x.items() if k != "scores"} == {k: v for k, v in y.items() if k != "scores"}
                 for x, y in zip(b, o))
    spread = 0.0
    for x, y in zip(b, o):
        xs, ys = np.array(x["scores"]), np.array(y["scores"])
        if (xs > 0).any():
            ratio = ys[xs > 0] / xs[xs > 0]
            spread = max(spread, float((ratio.max() - ratio.min()) / ratio.mean()))
    return (f"rankings equal {rankings}/{len(b)}, other fields equal {others}/{len(b)}, "
            f"max relative spread of ours/baseline per problem {spread:.1e}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", required=True, type=Path, help="a checkout of the code to compare against")
    ap.add_argument("--problems", type=Path, default=DATA / "codet" / "humaneval_codegen16b.problems.jsonl.gz")
    ap.add_argument("--workers", type=int)
    ap.add_argument("--repeats", type=int, default=1,
                    help="cold runs per side, alternating which goes first (load drifts hit both alike)")
    args = ap.parse_args()
    require(args.problems)
    problems = str(args.problems.resolve())
    sides = {"baseline": args.baseline.resolve(), "ours": ROOT}
    with tempfile.TemporaryDirectory() as tmp:
        seconds: dict[str, list[float]] = {side: [] for side in sides}
        for r in range(args.repeats):
            for side in (sides if r % 2 == 0 else reversed(sides)):
                d = Path(tmp) / f"{side}{r}"
                d.mkdir()
                seconds[side].append(run(sides[side], problems, d / "consensus.jsonl", "consensus", d / "cells.sqlite",
                                         args.workers))
        for side in sides:  # the other aggregators from the first run's cache
            d = Path(tmp) / f"{side}0"
            for aggregator in AGGREGATORS[1:]:
                run(sides[side], problems, d / f"{aggregator}.jsonl", aggregator, d / "cells.sqlite", args.workers)
        base, ours = np.median(seconds["baseline"]), np.median(seconds["ours"])
        print(f"cold wall time, default aggregator, median of {args.repeats}: baseline {base:.1f} s "
              f"{[round(s, 1) for s in seconds['baseline']]}, ours {ours:.1f} s {[round(s, 1) for s in seconds['ours']]}, "
              f"ours/baseline {ours / base:.2f}")
        for aggregator in AGGREGATORS:
            print(f"{aggregator:>10}: {compare(Path(tmp) / 'baseline0' / f'{aggregator}.jsonl', Path(tmp) / 'ours0' / f'{aggregator}.jsonl')}")


if __name__ == "__main__":
    main()
