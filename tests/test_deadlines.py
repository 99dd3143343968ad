"""Calibrated deadlines: measured from peers, rerun at the ceiling where that can change a verdict,
stretched on a busy host; fail-fast order."""
from __future__ import annotations

import dataclasses
import os
import signal
import statistics
import subprocess
import sys
import time

import numpy as np
import pytest

from executor import Executor, ExecutorConfig, Job, Status
from executor.deadlines import Peers
from executor.languages import find, startup_seconds
from executor.worker import _Supervision, cpu_seconds, probe_seconds, process_cpu_clock

ADD = "def f(x):\n    return x + 1\n"
TESTS = ["assert f(1) == 2", "assert f(2) == 3", "assert f(3) == 4"]
LOOP = "def f(x):\n    while True:\n        pass\n"
CALIBRATED = ExecutorConfig(workers=1, timeout=2.0, timeout_policy="calibrated", timeout_floor=0.1, timeout_factor=5.0)


def names(row) -> list[str]:
    return [Status(s).name for s in row]


def busy(seconds: str, tag: int = 0) -> str:
    """A correct candidate that computes for ``seconds`` (an expression of x) before answering."""
    return (f"import time\ndef f(x):\n    end = time.perf_counter() + ({seconds}) + 0 * {tag}\n"
            f"    while time.perf_counter() < end:\n        pass\n    return x + 1\n")


def fillers(n: int) -> list[str]:
    """Distinct fast correct candidates (programs alike up to comments would be merged)."""
    return [f"def f(x):\n    return x + 1\n_variant = {k}\n" for k in range(n)]


def test_deadlines_come_from_the_slowest_peer_that_finished_within_floor_and_ceiling():
    peers = Peers(CALIBRATED, 4)
    cols = np.arange(4)
    assert peers.deadlines(cols) == [0.1] * 4  # no evidence: the floor, and an overrun waits for some
    peers.observe(cols, np.array([Status.PASS, Status.FAIL, Status.TIMEOUT, Status.PASS], dtype=np.uint8),
                  np.array([0.001, 0.05, 0.1, 0.9]), slowdown=1.0)
    peers.observe(cols[:2], np.array([Status.PASS, Status.PASS], dtype=np.uint8), np.array([0.03, 0.2]), slowdown=2.0)
    # test 0: 5 x 0.015 (0.03 s on a worker twice as slow) -> 0.075, floored; test 1: 5 x 0.1 (a FAIL
    # finished too); test 2: nobody finished -> the floor; test 3: 5 x 0.9 -> capped at the ceiling
    assert peers.deadlines(cols) == pytest.approx([0.1, 0.5, 0.1, 2.0])
    assert Peers(ExecutorConfig(timeout_policy="fixed"), 4).deadlines(cols) is None


def test_an_overrun_is_rerun_only_when_more_time_could_change_its_verdict():
    peers = Peers(CALIBRATED, 1)
    col = np.array([0])
    assert peers.decide(0, 0.1) == "wait"  # nobody finished the test: wait for a peer (or rerun at the end)
    peers.observe(col, np.array([Status.PASS], dtype=np.uint8), np.array([0.01]), 1.0)
    assert peers.decide(0, 0.1) == "stand"  # a peer finished well within the deadline the cell had
    peers.observe(col, np.array([Status.FAIL], dtype=np.uint8), np.array([0.3]), 1.0)  # a slow peer finished since
    assert peers.decide(0, 0.1) == "rerun"
    hopeless = Peers(CALIBRATED, 1)
    for _ in range(2):  # twice the ceiling and no peer finished: more time is not expected to help
        hopeless.observe(col, np.array([Status.TIMEOUT], dtype=np.uint8), np.array([2.0]), 1.0, deadlines=[2.0])
    assert hopeless.decide(0, 0.1) == "stand"


def test_fail_fast_runs_the_tests_that_failed_peers_first_then_the_cheap_ones():
    peers = Peers(CALIBRATED, 4)
    cols = np.arange(4)
    fail, ok = Status.FAIL, Status.PASS
    peers.observe(cols, np.array([ok, ok, fail, ok], dtype=np.uint8), np.array([0.001, 0.5, 0.001, 0.002]), 1.0)
    peers.observe(cols, np.array([ok, fail, fail, ok], dtype=np.uint8), np.array([0.001, 0.5, 0.001, 0.002]), 1.0)
    assert peers.order(cols).tolist() == [2, 1, 0, 3]  # 2 failed twice, 1 once; 0 and 3 alike keep their order


def test_a_looping_candidate_costs_the_calibrated_deadline_not_the_ceiling():
    """Peers pass in microseconds, so the looper gets the floor per test instead of 2 s; the fixed
    policy spends the full timeout on each."""
    candidates = [ADD, *fillers(6), LOOP]
    with Executor(CALIBRATED) as ex:
        m = ex.run(candidates, TESTS, "f")
    assert names(m.statuses[-1]) == ["TIMEOUT"] * 3
    assert (m.seconds[-1] < 1.0).all(), m.seconds[-1]
    assert (m.statuses[:-1] == Status.PASS).all()
    with Executor(CALIBRATED, timeout_policy="fixed", max_timeouts=1) as ex:
        fixed = ex.run([LOOP], TESTS, "f")
    assert fixed.seconds[0, 0] == pytest.approx(2.0)


def test_when_no_peer_finishes_a_test_overruns_rerun_at_the_ceiling():
    """Every candidate overruns the floor on the first test and none finishes it: once the problem has
    nothing else running they all rerun at the ceiling, with the tests they skipped, and pass as
    under the fixed policy."""
    slow = [busy("0.4 if x == 1 else 0", k) for k in range(3)]
    with Executor(CALIBRATED, fail_fast=True) as ex:
        m = ex.run(slow, TESTS, "f")
        assert ex.stats["executed_cells"] == 3 * 3 + 3 * 3  # the first test and the skipped rest, twice
    assert (m.statuses == Status.PASS).all(), m.details
    assert not m.details  # a PASS at the ceiling keeps no word of the overrun or of the skip before it


def test_a_slow_candidate_among_fast_peers_times_out_at_their_deadline():
    """The policy's trade-off, as the README states it: peers that finish a test in microseconds give it
    the floor, and a candidate 4000x slower on it is TIMEOUT where the fixed policy waits and passes it."""
    slow = busy("0.4")
    with Executor(CALIBRATED) as ex:
        m = ex.run([ADD, *fillers(6), slow], TESTS[:1], "f")
    assert names(m.statuses[:, 0]) == ["PASS"] * 7 + ["TIMEOUT"]
    with Executor(CALIBRATED, timeout_policy="fixed") as ex:
        assert names(ex.run([slow], TESTS[:1], "f").statuses[:, 0]) == ["PASS"]


def test_a_candidate_that_waits_without_computing_keeps_the_ceiling():
    """A host stall or a sleep is not computation: past its calibrated deadline a test gets more time
    while its processes' CPU time stays low, up to the ceiling, so a busy host does not cut it short."""
    sleeper = "import time\ndef f(x):\n    time.sleep(0.4)\n    return x + 1\n"
    with Executor(CALIBRATED) as ex:
        m = ex.run([ADD, *fillers(6), busy("0.4"), sleeper], TESTS[:1], "f")
    assert names(m.statuses[:, 0]) == ["PASS"] * 7 + ["TIMEOUT", "PASS"]


def test_a_reference_solution_sets_the_deadlines_and_stays_out_of_the_matrix():
    reference = "def f(x):\n    return 1 + x\n"
    with Executor(CALIBRATED) as ex:
        [(key, m)] = list(ex.run_many([Job("p", [LOOP, ADD], TESTS, "f", reference=reference)]))
    assert m.shape == (2, 3)
    assert names(m.statuses[1]) == ["PASS"] * 3 and names(m.statuses[0]) == ["TIMEOUT"] * 3


def test_the_policy_is_part_of_the_verdict_key():
    assert ExecutorConfig().timeout_policy == "calibrated"
    assert ExecutorConfig(timeout_policy="fixed").verdict_key() != ExecutorConfig().verdict_key()
    with pytest.raises(ValueError, match="timeout_policy"):
        ExecutorConfig(timeout_policy="adaptive")
    with pytest.raises(ValueError, match="timeout_factor"):
        ExecutorConfig(timeout_factor=0.5)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity (Linux)")
def test_the_cpu_probe_sees_a_busy_core():
    """The probe that stretches deadlines: with two busy loops on its core it runs measurably slower."""
    saved = os.sched_getaffinity(0)
    core = min(saved)
    os.sched_setaffinity(0, {core})
    hogs = []
    try:
        idle = min(probe_seconds() for _ in range(20))  # a moment when the core was free
        hog = f"import os\nos.sched_setaffinity(0, {{{core}}})\nwhile True:\n    pass\n"
        hogs = [subprocess.Popen([sys.executable, "-c", hog]) for _ in range(2)]
        time.sleep(0.5)  # the interpreters are up and spinning
        busy = statistics.median(probe_seconds() for _ in range(9))
    finally:
        for p in hogs:
            p.kill()
            p.wait()
        os.sched_setaffinity(0, saved)
    assert busy > 1.5 * idle, (idle, busy)


def test_a_cached_rerun_executes_nothing_and_keeps_the_verdicts(tmp_path):
    """Overruns that stood are cached once decided (not before), so a rerun finds every cell."""
    cfg = dataclasses.replace(CALIBRATED, max_timeouts=2, cache_path=str(tmp_path / "cells.sqlite"))
    tests = [*TESTS, "assert f(4) == 5"]
    with Executor(cfg) as ex:
        first = ex.run([ADD, *fillers(4), LOOP], tests, "f")
    assert names(first.statuses[-1]) == ["TIMEOUT", "TIMEOUT", "SKIPPED", "SKIPPED"]
    with Executor(cfg) as ex:
        again = ex.run([ADD, *fillers(4), LOOP], tests, "f")
        assert ex.stats["executed_cells"] == 0
    assert (again.statuses == first.statuses).all()


@pytest.mark.parametrize("fail_fast", [False, True])
def test_progress_counts_every_cell_once_through_reruns_and_split_suites(fail_fast):
    slow = [busy("0.2 if x == 1 else 0", k) for k in range(3)]
    calls = [{"type": "call", "args": [k], "expected": k + 1} for k in range(30)]
    jobs = [Job(0, [ADD, LOOP, "def f(x):\n    return x\n"], calls, "f"), Job(1, [*slow, LOOP], calls, "f"),
            Job(2, [LOOP], calls[:3], "f")]
    counted: list[int] = []
    with Executor(CALIBRATED, workers=2, max_timeouts=2, fail_fast=fail_fast) as ex:
        out = list(ex.run_many(jobs, progress=counted.append))
    assert sum(counted) == sum(m.statuses.size for _, m in out)
    assert (out[1][1].statuses[:3] == Status.PASS).all()  # overran the floor computing, reran at the ceiling


@pytest.mark.parametrize("computing", [True, False])
def test_an_overrun_that_computed_all_along_gets_no_grace(computing):
    """At a test's first overrun, a child whose own CPU clock ran for the test's whole time so far is cut
    there (a looper costs one deadline); one that waited gets one more deadline to show whether it computes."""
    pid = os.fork()
    if pid == 0:
        end = time.monotonic() + 5
        while time.monotonic() < end:
            if not computing:
                time.sleep(0.01)
        os._exit(0)
    try:
        watch = _Supervision(CALIBRATED, b"token", [], [], [0.1], ceiling=2.0, busy_share=0.1, on_verdict=lambda: None)
        watch.cpu_clock = process_cpu_clock(pid)
        watch.test_started, watch.test_cpu = time.monotonic(), cpu_seconds(watch.cpu_clock)
        time.sleep(0.3)
        more = watch._grace(pid, 0.1)
        assert (more is None) if computing else (more == pytest.approx(0.1)), more
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def test_a_vm_language_gets_at_least_its_runtime_start_up():
    """Peers in Python finish a test in 2 ms, so its deadline is the floor (20 ms); Node needs about that
    just to start, so a right JavaScript program doing a little work would be a TIMEOUT that stands (the
    peers' evidence says the test is fast). Deadlines of a language with a measured start-up are never
    below timeout_factor times it."""
    toolchain = find("javascript")
    if toolchain is None:
        pytest.skip("node is not installed")  # an environment without the toolchain, not a coderm import
    assert startup_seconds(toolchain.startup) > 0
    fast = [f"print(int(input()) + 1)\n_variant = {k}\n" for k in range(3)]
    honest = ("const end = Date.now() + 30;\nwhile (Date.now() < end) {}\n"  # a little work after starting
              "const n = Number(require('fs').readFileSync(0, 'utf8'));\nconsole.log(n + 1);\n")
    tests = [{"type": "stdio", "input": f"{k}\n", "output": f"{k + 1}\n"} for k in range(2)]
    config = dataclasses.replace(CALIBRATED, timeout=1.0, timeout_floor=0.02)
    with Executor(config) as ex:
        m = ex.run([*fast, honest], tests, language=["python"] * 3 + ["javascript"])
    assert (m.statuses == Status.PASS).all(), m.details
