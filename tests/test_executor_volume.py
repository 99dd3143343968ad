"""The executor under volume: large jobs, large results, many cells (issue 19).

The fast tests run by default; ``-m slow`` runs the volume suite: the HumanEval+ repro of issue 19,
10,000 tests x 100 candidates, 1 MB call arguments and results, 1,000 candidates x 1,000 tests, and
a candidate printing 100 MB among peers returning large values. Each has a pytest-timeout bound,
so a regression fails instead of hanging.
"""
from __future__ import annotations

import gzip
import json
import time

import numpy as np
import pytest

from cli import coderm
from executor import Executor, ExecutorConfig, ExecutorStalled, Job, Status, pool, runner

ECHO = "def f(s):\n    return s\n"
SHOUT = "def f(s):\n    return s + '!'\n"
BACKWARDS = "def f(s):\n    return s[::-1]\n"
ADD1 = "def f(x):\n    return x + 1\n"
ADD2 = "def f(x):\n    return x + 2\n"


def echo_tests(n: int, size: int) -> list[dict]:
    """``n`` call tests whose argument (and expected result) is a distinct string of ``size`` characters."""
    return [{"type": "call", "args": [f"{i:08d}" + "x" * (size - 8)], "expected": f"{i:08d}" + "x" * (size - 8)}
            for i in range(n)]


@pytest.mark.timeout(30)
def test_a_large_job_and_a_large_result_in_flight_at_once_do_not_deadlock():
    """One worker, two tasks in flight: the parent sends the second 420 KB job while the worker sends
    the first 420 KB result. Both exceed a socket's buffer; this hung before issue 19."""
    with Executor(ExecutorConfig(workers=1, timeout=1.0)) as ex:
        m = ex.run([ECHO, SHOUT, BACKWARDS], echo_tests(1000, 400), entry_point="f")
    assert (m.statuses[0] == Status.PASS).all()
    assert (m.statuses[1:] == Status.FAIL).all()


# The worker a stalled-worker test starts instead of the real one (executor.pool.WORKER_MAIN is patched
# in the parent, so nothing in the executor honours it and a candidate cannot reach it): it runs its
# first task, then wedges on the next one without a word, as a worker blocked forever would.
WEDGED_AFTER_ONE_TASK = """
import time
from executor import worker
run_candidate = worker.Worker.run_candidate
def wedge(self, *args):
    if getattr(self, "ran", False):
        time.sleep(3600)
    self.ran = True
    return run_candidate(self, *args)
worker.Worker.run_candidate = wedge
worker.main()
"""


@pytest.mark.timeout(60)
def test_a_silent_worker_fails_the_run_naming_it_and_finished_cells_stay_cached(tmp_path, monkeypatch):
    cfg = ExecutorConfig(workers=1, timeout=1.0, stall_timeout=2.0, cache_path=str(tmp_path / "cells.sqlite"))
    tests = ["assert f(1) == 2", "assert f(2) == 3"]
    monkeypatch.setattr(pool, "WORKER_MAIN", WEDGED_AFTER_ONE_TASK)
    start = time.monotonic()
    with Executor(cfg) as ex, pytest.raises(ExecutorStalled) as stalled:
        for _ in ex.run_many([Job("first", [ADD1], tests, "f"), Job("second", [ADD2], tests, "f")]):
            pass
    assert time.monotonic() - start < 20
    message = str(stalled.value)
    assert stalled.value.worker == 0 and "executor worker 0" in message, message
    assert "said nothing for 2s" in message and "problems in flight there: 'second'" in message, message
    assert "2 tests, a " in message and "-byte job" in message and "return x + 2" in message, message
    monkeypatch.undo()
    with Executor(cfg) as ex:  # the first problem finished before the stall: served from the cache
        assert ex.run([ADD1], tests, "f").passed.all()
        assert ex.stats == {"executed_cells": 0, "cached_cells": 2}


@pytest.mark.timeout(60)
def test_slow_candidates_and_a_slow_consumer_are_not_stalls():
    """Pauses longer than a 2 s stall timeout that are no stall: a consumer that dawdles between
    problems (with a 2 MB job in flight), cells that take most of a second each, and timeouts."""
    slow = "import time\ndef f(x):\n    time.sleep(0.6)\n    return x + 1\n"
    loops = "def f(x):\n    while True:\n        pass\n"
    tests = [f"assert f({i}) == {i + 1}" for i in range(4)]
    jobs = [Job(0, [ADD1], tests, "f"), Job(1, [ECHO], echo_tests(2, 1_000_000), "f"), Job(2, [slow, loops], tests, "f")]
    cfg = ExecutorConfig(workers=2, timeout=1.0, load_timeout=1.0, stall_timeout=2.0)
    with Executor(cfg) as ex:
        matrices = []
        for key, m in ex.run_many(jobs):
            matrices.append(m)
            if key == 0:
                time.sleep(2.5)
    assert [m.passed[0].all() for m in matrices] == [True, True, True]
    assert [Status(s) for s in matrices[2].statuses[1]] == [Status.TIMEOUT] * 3 + [Status.SKIPPED]


@pytest.mark.timeout(60)
def test_a_slow_head_problem_holds_back_a_bounded_number_of_cells(monkeypatch):
    """Problems are yielded in input order, so those after a slow one wait in the parent's memory;
    they are opened only while fewer than CELLS_IN_FLIGHT_PER_WORKER x workers cells are open."""
    monkeypatch.setattr(runner, "CELLS_IN_FLIGHT_PER_WORKER", 200)
    slow = "import time\ntime.sleep(2)\ndef f(x):\n    return x + 1\n"
    tests = [f"assert f({i}) == {i + 1}" for i in range(10)]
    pulled = []

    def jobs():
        yield Job(0, [slow], tests[:1], "f")
        for k in range(1, 60):
            pulled.append(k)
            yield Job(k, [f"def f(x):\n    return x + {c}\n" for c in range(10)], tests, "f")

    with Executor(ExecutorConfig(workers=2, timeout=1.0, load_timeout=5.0)) as ex:
        stream = ex.run_many(jobs())
        assert next(stream)[0] == 0
        assert len(pulled) <= 400 // 100 + 1  # the open cells reached the budget with one more problem
        assert [key for key, _ in stream] == list(range(1, 60))


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_humaneval_plus_problem_6_with_three_codet_candidates(shared_data, tmp_path):
    """The repro of issue 19, as a user runs it: HumanEval/6's 1,003 call tests make a 266 KB job and
    its failing cells a large result; `coderm execute` hung forever."""
    with gzip.open(shared_data / "codet" / "humaneval_codegen16b.problems.jsonl.gz", "rt") as f:
        codet = next(p for p in map(json.loads, f) if p["task_id"] == "HumanEval/6")
    samples = tmp_path / "samples.jsonl"
    samples.write_text("".join(json.dumps({"task_id": "HumanEval/6", "solution": c}) + "\n" for c in codet["candidates"][:3]))
    problems, out = tmp_path / "he+.jsonl", tmp_path / "out.jsonl"
    converted = coderm("convert", "--from", "humanevalplus", "--input", shared_data / "humaneval" / "HumanEvalPlus-v0.1.0.jsonl.gz",
                       "--samples", samples, "--limit", 7, "--out", problems, "--quiet", cwd=tmp_path)
    assert converted.returncode == 0, converted.stderr
    executed = coderm("execute", "--no-cache", "--problems", problems, "--out", out, "--quiet", cwd=tmp_path)
    assert executed.returncode == 0, executed.stderr
    row = [json.loads(line) for line in out.read_text().splitlines()][6]
    assert row["task_id"] == "HumanEval/6" and [len(r) for r in row["statuses"]] == [1003] * 3


def doubling_candidates(n: int) -> list[str]:
    """``n`` distinct candidates for ``f(x) = 2x``; every tenth is wrong."""
    return [f"def f(x):\n    return x * 2 + {int(c % 10 == 9)} * {c}\n" for c in range(n)]


def doubling_tests(n: int) -> list[dict]:
    return [{"type": "call", "args": [i], "expected": 2 * i} for i in range(n)]


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.parametrize("n_candidates, n_tests", [(100, 10_000), (1000, 1000)], ids=["100x10000", "1000x1000"])
def test_a_million_cells(n_candidates, n_tests):
    """As few large tasks (10,000 tests each) or as many small ones."""
    with Executor(ExecutorConfig(workers=2)) as ex:
        m = ex.run(doubling_candidates(n_candidates), doubling_tests(n_tests), entry_point="f")
    wrong = np.arange(n_candidates) % 10 == 9
    assert m.passed[~wrong].all() and not m.passed[wrong].any()


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_call_arguments_and_results_of_a_megabyte():
    """1 MB arguments make 8 MB jobs; 1 MB return values (passing or not) make 8 MB results."""
    size = 1_000_000
    candidates = [ECHO, SHOUT, BACKWARDS, "def f(s):\n    return len(s)\n", "def f(s):\n    return 'y' * len(s)\n"]
    with Executor(ExecutorConfig(workers=2)) as ex:
        m = ex.run(candidates, echo_tests(8, size), entry_point="f")
    assert m.passed[0].all() and not m.passed[1:].any()
    assert len(m.outputs[(0, 7)]) == size + 2 and len(m.outputs[(4, 7)]) == size + 2  # JSON strings: quoted


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_a_candidate_printing_100_mb_among_peers_returning_large_values():
    chatty = "import sys\ndef f(s):\n    sys.stdout.write('z' * (100 << 20))\n    return s\n"
    peers = [f"def f(s):\n    return s + {k} * ''\n" for k in range(8)]
    with Executor(ExecutorConfig(workers=2, timeout=5.0)) as ex:
        m = ex.run([chatty, *peers], echo_tests(20, 200_000), entry_point="f")
    assert m.passed[1:].all()
    assert {Status(s) for s in m.statuses[0]} <= {Status.PASS, Status.TIMEOUT, Status.SKIPPED}
    assert max(map(len, m.details.values()), default=0) < 10_000
