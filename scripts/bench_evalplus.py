"""The executor at volume on HumanEval+ and MBPP+: every candidate on the full base and plus suites.

- HumanEval+ (v0.1.0): the 164 x 100 CodeGen-16B candidates of CodeT's file, labelled by the
  official HumanEval tests.
- MBPP+ (the 399-task pre-release): LDB's seed programs (CodeLlama, GPT-3.5, StarCoder: one per
  model per problem), labelled by LDB's ``is_solved``; 239 MBPP+ tasks have them (the others, among
  them Mbpp/793 whose ``plus_input`` is ``{}``, are left out). 7 of the 239 name their function
  differently from MBPP+, so their candidates cannot pass.

The candidates are written as evalplus samples (``task_id``, ``solution``, ``passed`` = label), the
tasks that have some are converted twice by ``coderm convert --from humanevalplus|mbppplus`` (a
subprocess: the reference outputs are computed there): ``--base-only`` and base + plus. The base
suite is the first tests of the full one (checked), so only the full suite is executed, by one
``Executor`` in this process with no cache; a candidate passes a suite when it passes all its tests.

Every suite runs twice (``--modes``): in full, and with ``fail_fast`` (a candidate stops at its first
failing test, the tests that failed most peers first), with the programs/s of both and how often
their pass/fail verdicts on the whole suite agree.

Prints, per dataset and mode: wall time of the execution, programs/s (candidates, duplicates included),
cells/s (cells executed, after the executor's dedupe), the parent's resident memory before the run
and its peak, and how many candidates pass the base and the plus suites next to the labels.

    nice python scripts/bench_evalplus.py                          # everything (long)
    nice python scripts/bench_evalplus.py --limit 10 --datasets humanevalplus
"""
from __future__ import annotations

import argparse
import dataclasses
import glob
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from coderm.jsonl import read_problems  # noqa: E402
from coderm.loaders.evalplus import task_id  # noqa: E402
from coderm.loaders.ldb import ldb  # noqa: E402
from coderm.loaders.records import read_records  # noqa: E402
from executor import Executor, ExecutorConfig, Job  # noqa: E402
from scripts.shared_data import DATA, require  # noqa: E402



def humaneval_samples() -> Iterator[dict]:
    """CodeT's CodeGen-16B candidates with their labels, as evalplus samples."""
    for _, problem in read_problems(DATA / "codet" / "humaneval_codegen16b.problems.jsonl.gz"):
        for solution, passed in zip(problem.candidates, problem.labels or []):
            yield {"task_id": problem.task_id, "solution": solution, "passed": passed}


def mbpp_samples() -> Iterator[dict]:
    """LDB's MBPP seed programs with is_solved, under MBPP+'s task ids (MBPP/11 -> Mbpp/11)."""
    for problem in ldb(sorted(glob.glob(str(DATA / "ldb" / "mbpp__seed__*__seed.jsonl.gz")))):
        for solution, passed in zip(problem["candidates"], problem["labels"]):
            yield {"task_id": problem["task_id"].replace("MBPP/", "Mbpp/"), "solution": solution, "passed": passed}


@dataclass
class Dataset:
    name: str  # the coderm convert loader
    problems: Path
    samples: Callable[[], Iterator[dict]]
    label_source: str


DATASETS = {
    "humanevalplus": Dataset("humanevalplus", DATA / "humaneval" / "HumanEvalPlus-v0.1.0.jsonl.gz", humaneval_samples,
                             "official HumanEval tests"),
    "mbppplus": Dataset("mbppplus", DATA / "mbpp" / "MbppPlus-prerelease-767efcc.jsonl.gz", mbpp_samples,
                        "LDB is_solved"),
}


def write_inputs(dataset: Dataset, samples: Path, problems: Path) -> None:
    """The candidates as evalplus samples, and the dataset's records that have some."""
    sampled = list(dataset.samples())
    samples.write_text("".join(json.dumps(s) + "\n" for s in sampled))
    task_ids = {s["task_id"] for s in sampled}
    with open(problems, "w") as f:
        for _, record in read_records(str(dataset.problems)):
            if task_id(record) in task_ids:
                f.write(json.dumps(record) + "\n")


def convert(dataset: Dataset, problems: Path, samples: Path, out: Path, base_only: bool, limit: int | None,
            workers: int) -> None:
    argv = [sys.executable, "-m", "coderm", "convert", "--from", dataset.name, "--input", str(problems),
            "--samples", str(samples), "--out", str(out), "--workers", str(workers), "--quiet"]
    argv += ["--base-only"] if base_only else []
    argv += ["--limit", str(limit)] if limit is not None else []
    subprocess.run(argv, check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


@dataclass
class Tally:
    problems: int = 0
    candidates: int = 0
    cells: int = 0  # of the full suites, duplicates included
    labels: int = 0
    base: int = 0
    plus: int = 0
    base_and_label: int = 0
    plus_and_label: int = 0


def execute(base_path: Path, full_path: Path, config: ExecutorConfig) -> tuple[Tally, float, dict, dict]:
    """Run the full suites; count passes of the base prefix and of the whole, next to the labels. Also
    returns each task's verdicts on the whole suite (a candidate passes when it passes every test)."""
    tally = Tally()
    verdicts: dict[str, np.ndarray] = {}
    pending: dict[str, tuple[int, np.ndarray]] = {}  # task_id -> (base tests, labels)

    def jobs() -> Iterator[Job]:
        for (_, base), (_, full) in zip(read_problems(base_path), read_problems(full_path), strict=True):
            tests = full.tests or []
            if base.task_id != full.task_id or base.tests != tests[:len(base.tests or [])]:
                raise ValueError(f"{full.task_id}: the base suite is not the first tests of the full one")
            labels = full.labels or [False] * len(full.candidates)
            pending[full.task_id] = (len(base.tests or []), np.array(labels, dtype=bool))
            tally.cells += len(full.candidates) * len(tests)
            yield Job(full.task_id, full.candidates, tests, full.entry_point)

    start = time.perf_counter()
    with Executor(config) as ex:
        for task_id, matrix in ex.run_many(jobs()):
            n_base, labels = pending.pop(task_id)
            base, plus = matrix.passed[:, :n_base].all(axis=1), matrix.passed.all(axis=1)
            verdicts[task_id] = plus
            tally.problems += 1
            tally.candidates += len(labels)
            tally.labels += int(labels.sum())
            tally.base += int(base.sum())
            tally.plus += int(plus.sum())
            tally.base_and_label += int((base & labels).sum())
            tally.plus_and_label += int((plus & labels).sum())
            if tally.problems % 10 == 0:
                print(f"  {tally.problems} problems, {tally.candidates:,} candidates in {time.perf_counter() - start:.0f}s",
                      file=sys.stderr, flush=True)
        stats = dict(ex.stats)
    return tally, time.perf_counter() - start, stats, verdicts


def report(dataset: Dataset, mode: str, tally: Tally, seconds: float, stats: dict, rss_before: float) -> None:
    executed = stats["executed_cells"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n{dataset.name} ({mode}): {tally.problems} problems, {tally.candidates:,} candidates, {tally.cells:,} cells "
          f"({executed:,} executed after dedupe)")
    print(f"  wall {seconds:.1f}s   programs/s {tally.candidates / seconds:.1f}   cells/s {executed / seconds:,.0f}")
    print(f"  parent RSS: {rss_before:.0f} MB before the run, peak {peak:.0f} MB (this process so far)")
    n = max(tally.candidates, 1)
    print(f"  {'candidates passing':36s} {'count':>7s} {'%':>6s}")
    print(f"  {'labels (' + dataset.label_source + ')':36s} {tally.labels:7,} {100 * tally.labels / n:6.1f}")
    suites = [("base + plus suites", tally.plus, tally.plus_and_label)]
    if mode == "full":  # fail_fast runs the tests that failed most peers first: the base prefix may be SKIPPED
        suites.insert(0, ("base suite", tally.base, tally.base_and_label))
    for name, passed, both in suites:
        print(f"  {name:36s} {passed:7,} {100 * passed / n:6.1f}   labelled pass: {both:,}, labelled fail: "
              f"{passed - both:,}; labelled pass but fail here: {tally.labels - both:,}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", choices=sorted(DATASETS), default=sorted(DATASETS))
    parser.add_argument("--limit", type=int, help="only the first N problems of each dataset")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=float, default=1.0, help="seconds per test (the executor's default)")
    parser.add_argument("--modes", nargs="+", choices=("full", "fail_fast"), default=["full", "fail_fast"],
                        help="full: every test runs; fail_fast: a candidate stops at its first failing test")
    parser.add_argument("--work-dir", type=Path, help="keep the samples and converted suites here (default: a temp dir)")
    args = parser.parse_args(argv)
    require(*(DATASETS[name].problems for name in args.datasets))
    config = ExecutorConfig(workers=args.workers, timeout=args.timeout, cache_path=None)
    with tempfile.TemporaryDirectory(prefix="bench-evalplus-") as tmp:
        work = args.work_dir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for name in args.datasets:
            dataset = DATASETS[name]
            samples, problems = work / f"{name}.samples.jsonl", work / f"{name}.problems.jsonl"
            write_inputs(dataset, samples, problems)
            base, full = work / f"{name}.base.jsonl", work / f"{name}.full.jsonl"
            start = time.perf_counter()
            for out, base_only in ((base, True), (full, False)):
                convert(dataset, problems, samples, out, base_only, args.limit, args.workers)
            print(f"{name}: converted (reference outputs, base and full) in {time.perf_counter() - start:.0f}s", flush=True)
            rates, verdicts = {}, {}
            for mode in args.modes:
                rss_before = rss_mb()
                tally, seconds, stats, verdicts[mode] = execute(base, full, dataclasses.replace(config, fail_fast=mode == "fail_fast"))
                report(dataset, mode, tally, seconds, stats, rss_before)
                rates[mode] = tally.candidates / seconds
            if len(rates) == 2:
                same = np.concatenate([verdicts["full"][t] == verdicts["fail_fast"][t] for t in verdicts["full"]])
                print(f"\n{name}: fail_fast {rates['fail_fast']:.1f} programs/s vs full {rates['full']:.1f} = "
                      f"{rates['fail_fast'] / rates['full']:.2f}x; pass/fail verdicts agree on {same.mean():.4f} "
                      f"of {len(same):,} candidates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
