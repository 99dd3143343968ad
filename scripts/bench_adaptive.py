"""Worker utilization and accuracy of `coderm score --budget B` under the equal and adaptive allocators.

The adaptive allocator runs its tests in rounds (every problem of a round in flight together
through run_many); a round ends on its slowest problem, so workers may idle at the barrier.
Utilization = CPU seconds of the worker processes and every candidate they ran / (wall seconds x
workers): how busy the sandbox kept its cores (read from /proc, so Linux only). Beside it: the
seconds the cells themselves ran, and the worker CPU per cell; a candidate restarted in a later
round pays its process start again, so adaptive's cells cost more CPU even at equal utilization.
No cell cache. The allocators alternate (``--repeats`` times each, equal first) so a busy machine
slows both alike; the last lines compare adaptive's cells/s and utilization with equal's. Both score
with ``--aggregator`` (default codet: no recorded outputs, so both execute the same B x problems x
candidates cells).

    python scripts/bench_adaptive.py --problems 40 --budget 4 --workers 2 --repeats 2
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coderm.config import Config  # noqa: E402
from coderm.model import Problem  # noqa: E402
from coderm.pipeline import Pipeline  # noqa: E402
from scripts.shared_data import DATA, require  # noqa: E402

DEFAULT_PROBLEMS = DATA / "codet" / "humaneval_codegen16b.problems.jsonl.gz"


def descendants_cpu() -> float:
    """CPU seconds used so far by this process's descendants: the workers, their namespace helpers and
    (reaped by the workers, so in their children's times) every candidate they ran."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        children.setdefault(int(fields[1]), []).append(int(name))
        cpu[int(name)] = sum(int(v) for v in fields[11:15]) / tick  # utime, stime, cutime, cstime
    total, todo = 0.0, list(children.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        total += cpu[pid]
        todo += children.get(pid, [])
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--file", type=Path, default=DEFAULT_PROBLEMS)
    ap.add_argument("--problems", type=int, default=40, help="the first N problems of the file")
    ap.add_argument("--budget", type=float, default=4.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--aggregator", default="codet")
    args = ap.parse_args(argv)
    require(args.file)
    with gzip.open(args.file, "rt") as f:
        rows = [json.loads(line) for _, line in zip(range(args.problems), f)]
    labels = {r["task_id"]: np.asarray(r.pop("labels"), dtype=bool) for r in rows}
    print("| allocator | wall s | cells | cells/s | utilization | cells ran s | worker CPU ms/cell | best-of-N % |\n"
          "|---|---|---|---|---|---|---|---|")
    rate: dict[str, list[float]] = {"equal": [], "adaptive": []}
    used: dict[str, list[float]] = {"equal": [], "adaptive": []}
    for _ in range(args.repeats):
        for allocator in rate:
            config = Config(cache=None).with_overrides(workers=args.workers, budget=args.budget, allocator=allocator,
                                                       aggregator=args.aggregator)
            cpu0, t0 = descendants_cpu(), time.perf_counter()  # the workers are shared across runs: a difference
            results = [s.result for s in Pipeline(config).score(Problem.from_json(r) for r in rows)]
            wall, cpu = time.perf_counter() - t0, descendants_cpu() - cpu0
            cells = sum(r.stats["executed_pairs"] for r in results)
            ran = sum(r.stats["seconds"] for r in results)
            acc = np.mean([labels[r.task_id][r.best] if r.best is not None else 0.0 for r in results])
            rate[allocator].append(cells / wall)
            used[allocator].append(cpu / (wall * args.workers))
            print(f"| {allocator} | {wall:.1f} | {cells} | {cells / wall:,.0f} | {used[allocator][-1]:.2f} | {ran:.1f} "
                  f"| {1000 * cpu / cells:.2f} | {100 * acc:.1f} |", flush=True)
    print(f"\nadaptive / equal utilization: {np.mean(used['adaptive']) / np.mean(used['equal']):.2f}")
    print(f"adaptive / equal cells/s: {sum(rate['adaptive']) / sum(rate['equal']):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
