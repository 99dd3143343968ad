"""Reward throughput for RL: coderm's RewardFunction, its HTTP server over loopback, and a
verl-prime_code-style baseline, side by side on the same batches.

Batches: 256 completions x 20 tests from CodeT's HumanEval file (CodeGen-16B candidates, the
generated asserts; 16 problems x 16 candidates per batch, so batches hold real duplicates,
loopers and crashers). The baseline does what verl's prime_code does per sample: a
multiprocessing Manager, one Process that execs the program and runs the tests under per-test
alarms, a global join timeout, then the Manager is shut down; samples are scored one after
another as verl's NaiveRewardManager does. It runs unsandboxed (cheaper than coderm's sandbox).

coderm runs every batch under ``--policy`` (calibrated deadlines by default) and under the other
timeout policy, printed side by side with the share of identical rewards.

Also: 64 one-sample calls, one after another vs from 64 threads at once (the batch's first 64 samples,
repeats included, and 64 distinct ones), and 4 clients each posting its own batch to the server at
once vs one client posting all of them, alternating (aggregate rewards/s, identical rewards).

    nice python scripts/bench_reward.py --batches 3
"""
from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coderm.config import load_config  # noqa: E402
from coderm.rl import RewardFunction  # noqa: E402
from scripts.shared_data import DATA as SHARED, require  # noqa: E402

DATA = SHARED / "codet" / "humaneval_codegen16b.problems.jsonl.gz"


def load_batches(path: Path, n_batches: int, problems_per_batch: int, cands: int, n_tests: int) -> list[dict]:
    """Each batch: parallel lists completions / tests / entry_points (256 samples by default)."""
    problems = []
    with gzip.open(path, "rt") as f:
        for line in f:
            p = json.loads(line)
            tests = list(dict.fromkeys(p["tests"]))[:n_tests]
            if len(tests) == n_tests:
                problems.append(p | {"tests": tests})
    need = n_batches * problems_per_batch
    if len(problems) < need:
        raise SystemExit(f"{path}: only {len(problems)} problems with {n_tests} tests, need {need}")
    batches = []
    for b in range(n_batches):
        batch: dict[str, list] = {"completions": [], "tests": [], "entry_points": []}
        for p in problems[b * problems_per_batch:(b + 1) * problems_per_batch]:
            for cand in p["candidates"][:cands]:
                batch["completions"].append(cand)
                batch["tests"].append(p["tests"])
                batch["entry_points"].append(p["entry_point"])
        batches.append(batch)
    return batches


# ---- baseline: verl prime_code style (Manager + one process per sample) ----

def _alarm(signum, frame):
    raise TimeoutError


def _run_sample(code: str, tests: list[str], timeout: float, result) -> None:
    sys.stdout = sys.stderr = open(os.devnull, "w")
    signal.signal(signal.SIGALRM, _alarm)
    env: dict = {}
    try:
        signal.setitimer(signal.ITIMER_REAL, timeout)
        exec(compile(code, "<completion>", "exec", dont_inherit=True), env)  # as Python runs it: no inherited futures
        signal.setitimer(signal.ITIMER_REAL, 0)
    except BaseException:
        result.extend([False] * len(tests))
        return
    for test in tests:
        try:
            signal.setitimer(signal.ITIMER_REAL, timeout)
            exec(compile(test, "<test>", "exec", dont_inherit=True), env)
            signal.setitimer(signal.ITIMER_REAL, 0)
            result.append(True)
        except BaseException:
            signal.setitimer(signal.ITIMER_REAL, 0)
            result.append(False)


def baseline_score(code: str, tests: list[str], timeout: float) -> float:
    manager = multiprocessing.Manager()
    try:
        result = manager.list()
        p = multiprocessing.Process(target=_run_sample, args=(code, tests, timeout, result))
        p.start()
        p.join(timeout * (len(tests) + 1) + 1)
        if p.is_alive():
            p.kill()
            p.join()
        passed = list(result)
    finally:
        manager.shutdown()
    return sum(passed) / len(tests) if len(passed) == len(tests) else 0.0


def baseline_batch(batch: dict, timeout: float) -> list[float]:
    return [baseline_score(c, t, timeout) for c, t in zip(batch["completions"], batch["tests"])]


# ---- coderm server over loopback ----

def start_server(workers: int, timeout: float, policy: str) -> tuple[subprocess.Popen, str]:
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "coderm", "serve", "--port", str(port), "--workers", str(workers),
                             "--timeout", str(timeout), "--timeout-policy", policy,
                             "--join-prompt", "never"], cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            if httpx.get(f"{base}/health").status_code == 200:
                return proc, base
        except httpx.TransportError:
            if time.time() > deadline or proc.poll() is not None:
                raise SystemExit("coderm serve did not start")
            time.sleep(0.2)


def timed(fn, batches: list[dict]) -> tuple[list[float], list[list[float]]]:
    seconds, rewards = [], []
    for batch in batches:
        start = time.perf_counter()
        rewards.append(fn(batch))
        seconds.append(time.perf_counter() - start)
    return seconds, rewards


def report(name: str, seconds: list[float], n: int) -> float:
    rate = n * len(seconds) / sum(seconds)
    print(f"{name:<24} batches={len(seconds):<3} p50={np.percentile(seconds, 50):7.3f}s "
          f"p99={np.percentile(seconds, 99):7.3f}s  rewards/s={rate:9.1f}")
    return rate


def single_sample_calls(rf: RewardFunction, batch: dict, calls: int, repeats: int) -> None:
    """One-sample calls: one after another, then all at once from ``calls`` threads (an async trainer
    scoring each rollout as it finishes); ``repeats`` rounds of the pair, since one round lasts well
    under a second. Twice: on the batch's first ``calls`` samples, as the trainer makes them (sampled
    completions repeat, and concurrent repeats run once), and on its first ``calls`` distinct samples
    (what concurrency alone gives)."""
    samples = list(zip(batch["completions"], batch["tests"], batch["entry_points"]))

    def key(sample: tuple) -> tuple:
        completion, tests, entry_point = sample
        return completion, json.dumps(tests), entry_point

    distinct = list({key(s): s for s in samples}.values())

    def one(sample: tuple) -> float | None:
        completion, tests, entry_point = sample
        return rf([completion], tests=[tests], entry_points=[entry_point])[0]

    for name, chosen in ((f"the first {calls}", samples[:calls]), (f"{calls} distinct", distinct[:calls])):
        unique = len(set(map(key, chosen)))
        ratios, identical = [], True
        for _ in range(repeats):
            start = time.perf_counter()
            sequential = [one(s) for s in chosen]
            seq_s = time.perf_counter() - start
            start = time.perf_counter()
            with ThreadPoolExecutor(calls) as threads:
                together = list(threads.map(one, chosen))
            conc_s = time.perf_counter() - start
            ratios.append(seq_s / conc_s)
            identical = identical and together == sequential
            print(f"{calls} single-sample calls ({name}): sequential {calls / seq_s:7.1f} rewards/s, concurrent "
                  f"{calls / conc_s:7.1f} rewards/s = {seq_s / conc_s:.2f}x")
        print(f"{calls} single-sample calls, {name} samples ({unique} distinct), concurrent/sequential over {repeats} "
              f"rounds: median {np.median(ratios):.2f}x (min {min(ratios):.2f}x); rewards identical: {identical}")


def concurrent_clients(base: str, batches: list[dict], rounds: int) -> None:
    """One client posting every batch one after another, then one client per batch all at once,
    alternating ``rounds`` times (so a drift of the host's speed hits both alike): aggregate rewards/s
    and identical rewards. The batches hold different problems, so no client's work is another's
    (identical work in flight runs once)."""
    import httpx

    def post(batch: dict) -> list[float]:
        with httpx.Client(timeout=600) as client:
            return client.post(f"{base}/reward", json=batch).json()["rewards"]

    alone_s = together_s = 0.0
    first, identical = None, True
    for _ in range(rounds):
        start = time.perf_counter()
        alone = [post(b) for b in batches]
        alone_s += time.perf_counter() - start
        start = time.perf_counter()
        with ThreadPoolExecutor(len(batches)) as threads:
            together = list(threads.map(post, batches))
        together_s += time.perf_counter() - start
        first = first or alone
        identical = identical and alone == first and together == first
    n = rounds * sum(len(b["completions"]) for b in batches)
    print(f"coderm serve, {len(batches)} concurrent clients (a batch each; {rounds} rounds alternating with one "
          f"client posting them all): {n / together_s:7.1f} rewards/s aggregate = {alone_s / together_s:.2f}x one "
          f"client ({n / alone_s:.1f}); every reward identical to the one-client run: {identical}")


def timeout_floor(rf: RewardFunction, batch: dict, timeout: float, workers: int) -> float:
    """Seconds any executor with these per-test timeouts needs for ``batch``: every TIMEOUT cell of a
    unique (program, tests) pair holds a core for the whole timeout before it can be called one."""
    results = rf.score(batch["completions"], tests=batch["tests"], entry_points=batch["entry_points"])
    timeouts = {(r.code, json.dumps(t)): r.statuses.count("TIMEOUT") for r, t in zip(results, batch["tests"])}
    return sum(timeouts.values()) * timeout / workers


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--batches", type=int, default=3, help="batches for coderm, the server and the baseline")
    ap.add_argument("--baseline-batches", type=int, default=None,
                    help="fewer batches for the slow baseline (default: all); the ratio then compares "
                         "coderm on those same batches")
    ap.add_argument("--problems-per-batch", type=int, default=16)
    ap.add_argument("--candidates", type=int, default=16, help="completions per problem in a batch")
    ap.add_argument("--tests", type=int, default=20)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--timeout", type=float, default=1.0, help="seconds per test (both sides; calibrated: the ceiling)")
    ap.add_argument("--policy", choices=("fixed", "calibrated"), default="calibrated",
                    help="coderm's timeout policy for every run; the other policy's batches are printed beside it")
    ap.add_argument("--single-calls", type=int, default=64, help="one-sample calls, sequential vs concurrent")
    ap.add_argument("--repeats", type=int, default=9, help="rounds of each single-sample comparison (median printed)")
    ap.add_argument("--clients", type=int, default=4,
                    help="concurrent batch clients on coderm serve, each with its own batch (default 4)")
    args = ap.parse_args()
    require(args.data)

    n_base = min(args.baseline_batches or args.batches, args.batches)
    batches = load_batches(args.data, max(args.batches, args.clients), args.problems_per_batch, args.candidates,
                           args.tests)
    n = len(batches[0]["completions"])
    print(f"{args.batches} batches x {n} completions x {args.tests} tests; workers={args.workers}, "
          f"cpus={os.cpu_count()}, timeout={args.timeout}s per test")

    reward_config = load_config("reward").with_overrides(workers=args.workers, timeout=args.timeout,
                                                         join_prompt="never", timeout_policy=args.policy)
    rf = RewardFunction(reward_config)
    rf(["def f():\n    return 1\n"], tests=[["assert f() == 1"]])  # start the worker pool outside the timing
    ours_s, ours_r = timed(lambda b: rf(b["completions"], tests=b["tests"], entry_points=b["entry_points"]),
                           batches[:args.batches])
    other = "fixed" if args.policy == "calibrated" else "calibrated"
    other_rf = RewardFunction(reward_config.with_overrides(timeout_policy=other))
    other_rf(["def f():\n    return 1\n"], tests=[["assert f() == 1"]])
    other_s, other_r = timed(lambda b: other_rf(b["completions"], tests=b["tests"], entry_points=b["entry_points"]),
                             batches[:args.batches])
    single_sample_calls(rf, batches[0], args.single_calls, args.repeats)

    import httpx

    proc, base = start_server(args.workers, args.timeout, args.policy)
    try:
        with httpx.Client(timeout=600) as client:
            client.post(f"{base}/reward", json={"completions": ["x = 1\n"], "tests": [["assert x == 1"]]})
            srv_s, srv_r = timed(lambda b: client.post(f"{base}/reward", json=b).json()["rewards"],
                                 batches[:args.batches])
        concurrent_clients(base, batches[:args.clients], args.batches)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)

    base_s, base_r = timed(lambda b: baseline_batch(b, args.timeout), batches[:n_base])

    report(f"coderm {args.policy}", ours_s, n)
    report(f"coderm {other}", other_s, n)
    agree = np.array(ours_r) == np.array(other_r)
    print(f"{args.policy} vs {other}: identical rewards on {agree.mean():.2%} of samples")
    report("coderm serve (HTTP)", srv_s, n)
    base_rate = report("prime_code-style", base_s, n)
    ours, srv = (n * n_base / sum(s[:n_base]) for s in (ours_s, srv_s))
    print(f"ratio rewards/s on the same {n_base} batch(es): coderm/baseline = {ours / base_rate:.1f}x   "
          f"server/baseline = {srv / base_rate:.1f}x")
    print(f"server rewards identical to library rewards: {srv_r == ours_r}")
    same = np.abs(np.array(ours_r[:n_base]) - np.array(base_r)) < 1e-9
    print(f"baseline rewards identical on {same.mean():.1%} of samples")
    floors = [timeout_floor(rf, b, args.timeout, args.workers) for b in batches[:args.batches]]
    print(f"timeout floor per batch (TIMEOUT cells x {args.timeout}s / {args.workers} workers): "
          f"p50={np.percentile(floors, 50):.3f}s max={max(floors):.3f}s; even a zero-overhead executor with these "
          f"timeouts reaches at most {n * len(floors) / sum(floors) / base_rate:.1f}x the baseline"
          if sum(floors) else "no TIMEOUT cells in these batches")


if __name__ == "__main__":
    main()
