"""Check the executor against ground truth: the official HumanEval tests must reproduce CodeT's labels.

Every candidate of CodeT's CodeGen-16B HumanEval file (164 problems x 100) runs the official
``check(candidate)`` test of its problem (``HumanEval.jsonl.gz``: the test code, then
``check(entry_point)``) through ``executor.Executor`` with generous timeouts; PASS is compared
with the file's ``labels``. Every mismatch is printed (task, candidate index, status, detail).

The labels were computed where numpy, pandas and torch were not installed (boto3 and requests
were): 13 correct candidates that import one of them after their function are labelled False,
and the one that imports boto3/requests is labelled True. So by default those modules are made
unimportable in each candidate (``sys.modules[name] = None`` before it runs), which recreates
that environment; ``--absent-modules ''`` runs the candidates as they are and shows the 13.

    nice python scripts/reproduce_humaneval_labels.py                  # all 16,400 candidates
    nice python scripts/reproduce_humaneval_labels.py --problems 5     # the first 5 problems
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from executor import Executor, ExecutorConfig, Job, Status  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_PROBLEMS = DATA / "codet" / "humaneval_codegen16b.problems.jsonl.gz"
DEFAULT_HUMANEVAL = DATA / "humaneval" / "HumanEval.jsonl.gz"
LABEL_ENV_ABSENT = ("numpy", "pandas", "torch")  # not installed where the labels were computed


@dataclass(frozen=True)
class Mismatch:
    task_id: str
    candidate: int  # index in the problem's candidates
    label: bool
    status: Status
    detail: str


def _read_jsonl(path: Path) -> Iterator[dict]:
    with gzip.open(path, "rt") if path.suffix == ".gz" else open(path) as f:
        for n, line in enumerate(f, 1):
            try:
                yield json.loads(line)
            except ValueError as e:
                raise ValueError(f"{path}:{n}: not valid JSON ({e})") from None


def without_modules(candidate: str, absent: tuple[str, ...]) -> str:
    """The candidate preceded by a line that makes ``absent`` modules fail to import, as if not installed."""
    if not absent:
        return candidate
    return f"__import__('sys').modules.update(dict.fromkeys({absent!r}))\n" + candidate


def labelled_jobs(problems_path: Path, humaneval_path: Path, limit: int | None = None,
                  absent: tuple[str, ...] = LABEL_ENV_ABSENT) -> list[tuple[Job, list[bool]]]:
    """One Job per problem (all its candidates x the official test) with the problem's labels."""
    official = {row["task_id"]: row for row in _read_jsonl(humaneval_path)}
    out = []
    for row in _read_jsonl(problems_path):
        if limit is not None and len(out) == limit:
            break
        task = official.get(row["task_id"])
        if task is None:
            raise ValueError(f"{problems_path}: task {row['task_id']!r} is not in {humaneval_path}")
        if len(row["labels"]) != len(row["candidates"]):
            raise ValueError(f"{problems_path}: {row['task_id']}: {len(row['labels'])} labels for "
                             f"{len(row['candidates'])} candidates")
        candidates = [without_modules(c, absent) for c in row["candidates"]]
        reference = task["prompt"] + task["canonical_solution"]  # under the calibrated policy: the first evidence
        out.append((Job(row["task_id"], candidates, [task["test"]], task["entry_point"], reference), row["labels"]))
    return out


def mismatches(executor: Executor, jobs: list[tuple[Job, list[bool]]]) -> tuple[list[Mismatch], int]:
    """Cells whose PASS disagrees with the label, and the number of candidates checked."""
    labels = {job.key: lab for job, lab in jobs}
    found, checked = [], 0
    for task_id, matrix in executor.run_many(job for job, _ in jobs):
        for i, label in enumerate(labels[task_id]):
            checked += 1
            status = Status(matrix.statuses[i, 0])
            if (status == Status.PASS) != bool(label):
                found.append(Mismatch(task_id, i, bool(label), status, matrix.details.get((i, 0), "")))
    return found, checked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems-file", type=Path, default=DEFAULT_PROBLEMS)
    parser.add_argument("--humaneval", type=Path, default=DEFAULT_HUMANEVAL)
    parser.add_argument("--problems", type=int, default=None, help="only the first N problems")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds for the check (generous; calibrated: the ceiling)")
    parser.add_argument("--timeout-policy", choices=("fixed", "calibrated"), default=ExecutorConfig().timeout_policy,
                        help="fixed: --timeout for every check; calibrated: from the reference's and peers' times "
                             "(default: the executor's, %(default)s)")
    parser.add_argument("--absent-modules", default=",".join(LABEL_ENV_ABSENT),
                        help="comma-separated modules made unimportable, as where the labels were computed "
                             "(default %(default)s; '' to run candidates unchanged)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    for path in (args.problems_file, args.humaneval):
        if not path.is_file():
            print(f"error: data file not found: {path}", file=sys.stderr)
            return 2
    try:
        absent = tuple(m.strip() for m in args.absent_modules.split(",") if m.strip())
        jobs = labelled_jobs(args.problems_file, args.humaneval, args.problems, absent)
    except (ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    config = ExecutorConfig(workers=args.workers, timeout=args.timeout, load_timeout=args.timeout, cache_path=None,
                            timeout_policy=args.timeout_policy, site_packages=True)  # the labelling environment had boto3 and requests
    start = time.perf_counter()
    with Executor(config) as ex:
        found, checked = mismatches(ex, jobs)
    seconds = time.perf_counter() - start
    print(f"{checked} candidates of {len(jobs)} problems checked in {seconds:.0f}s "
          f"(timeout {args.timeout}s, {args.timeout_policy} policy, absent modules: {', '.join(absent) or 'none'}): "
          f"{len(found)} mismatches with the labels")
    for m in found:
        detail = m.detail.replace("\n", " | ")[:300]
        print(f"  {m.task_id} candidate {m.candidate}: label={m.label} status={m.status.name} {detail}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
