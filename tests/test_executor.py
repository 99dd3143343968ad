"""Executor behaviour: test kinds, dedupe and order, stdio/call comparison, cache, faults."""
from __future__ import annotations

import gzip
import json
import os
import signal
import threading
import time

import numpy as np
import pytest

from executor import Executor, ExecutorConfig, Job, PassMatrix, Status
from executor.prepare import behaviour_key

P, F, E, T, I, S = Status.PASS, Status.FAIL, Status.ERROR, Status.TIMEOUT, Status.INVALID, Status.SKIPPED

ADD1 = "def f(x):\n    return x + 1\n"
ADD2 = "def f(x):\n    return x + 2\n"


@pytest.fixture(scope="module")
def ex():
    with Executor(ExecutorConfig(workers=2, timeout=1.0, load_timeout=2.0)) as executor:
        yield executor


def rows(m: PassMatrix) -> list[list[Status]]:
    return [[Status(v) for v in row] for row in m.statuses.tolist()]


def test_code_test_kinds(ex):
    unit = (
        "import unittest\n"
        "class T(unittest.TestCase):\n"
        "    def test_a(self):\n        self.assertEqual(f(1), 2)\n"
        "    def test_b(self):\n        self.assertEqual(f(3), 4)\n"
    )
    check = "def check(candidate):\n    assert candidate(5) == 6\n"
    m = ex.run([ADD1, ADD2], ["assert f(1) == 2", check, unit], entry_point="f")
    assert rows(m) == [[P, P, P], [F, F, F]]
    assert "AssertionError" in m.details[(1, 0)]


def test_unittest_class_passes_only_when_every_method_passes(ex):
    half = (
        "import unittest\n"
        "class T(unittest.TestCase):\n"
        "    def test_ok(self):\n        self.assertEqual(f(1), 2)\n"
        "    def test_bad(self):\n        self.assertEqual(f(1), 3)\n"
    )
    skipped = (
        "import unittest\n"
        "class T(unittest.TestCase):\n"
        "    def test_ok(self):\n        self.assertEqual(f(1), 2)\n"
        "    @unittest.skip('no')\n    def test_skip(self):\n        pass\n"
    )
    m = ex.run([ADD1], [half, skipped], entry_point="f")
    assert rows(m) == [[F, F]]


def test_invalid_tests_and_broken_candidates(ex):
    no_methods = "import unittest\nclass T(unittest.TestCase):\n    def helper(self):\n        pass\n"
    tests = ["assert f(1) == 2", "assert f(1) ==", no_methods]
    m = ex.run([ADD1, "def f(x) return 1"], tests, entry_point="f")
    assert rows(m) == [[P, I, I], [E, I, I]]
    assert "SyntaxError" in m.details[(1, 0)]
    assert "without test methods" in m.details[(0, 2)]


def test_duplicates_run_once_and_fill_back_in_input_order(ex):
    before = ex.stats["executed_cells"]
    cands = [ADD2, ADD1, ADD2, ADD1]
    tests = ["assert f(1) == 2", "assert f(1) == 3", "assert f(1) == 2"]
    m = ex.run(cands, tests, entry_point="f")
    assert rows(m) == [[F, P, F], [P, F, P], [F, P, F], [P, F, P]]
    assert ex.stats["executed_cells"] - before == 4  # 2 unique candidates x 2 unique tests


def test_programs_alike_up_to_comments_and_spacing_run_once(ex):
    """Python programs with one syntax tree and the same lines run once; a program whose code moved to
    another line is not merged (its tracebacks differ), and nor are other languages' differing texts."""
    spaced = "def f(x):\n    # one more\n    return x+1  # done\n"
    commented = "def f(x):\n    # plus one, in other words\n    return (x + 1)\n"
    moved = "def f(x):\n    return x + 1\n"
    wrong = "def f(x):\n    # one more\n    return x + 2\n"
    tests = ["assert f(1) == 2", "assert f(2) == 0"]
    before = ex.stats["executed_cells"]
    m = ex.run([spaced, commented, moved, wrong], tests, entry_point="f")
    assert rows(m) == [[P, F], [P, F], [P, F], [F, F]]
    assert ex.stats["executed_cells"] - before == 6  # spaced = commented; moved and wrong apart
    assert m.details[(0, 1)] == m.details[(1, 1)]
    forged = behaviour_key(spaced)  # a text spelled like another program's key is not merged with it
    assert rows(ex.run([spaced, forged, forged[5:]], tests, entry_point="f")) == [[P, F], [E, E], [E, E]]
    js = ["console.log(1)\n", "console.log(1) // one\n"]
    assert ex.run(js, [{"type": "stdio", "input": "", "output": "1"}], language="javascript").run.unique_cells == 2


def test_candidates_compile_as_python_runs_them(ex):
    """No compiler flag of the executor's own modules leaks into candidates: an annotation naming
    something undefined fails at load as in `python`, unless the candidate postpones annotations itself."""
    undefined = "def f(x: List[int]) -> int:\n    return x + 1\n"
    postponed = "from __future__ import annotations\n" + undefined
    m = ex.run([undefined, postponed], ["assert f(1) == 2"], entry_point="f")
    assert rows(m) == [[E], [P]]
    assert "NameError" in m.details[(0, 0)] and "List" in m.details[(0, 0)]


def test_empty_inputs_give_empty_matrices(ex):
    assert ex.run([], ["assert True"]).shape == (0, 1)
    assert ex.run([ADD1], []).shape == (1, 0)


def test_stdio_exact_and_float_judges(ex):
    prog = "a, b = map(float, input().split())\nprint(a / b)\nprint('done   ')\n"
    tests = [
        {"type": "stdio", "input": "1 4\n", "output": "0.25\ndone\n"},
        {"type": "stdio", "input": "1 3\n", "output": "0.333333\ndone"},
        {"type": "stdio", "input": "1 3\n", "output": "0.333333\ndone", "judge": {"kind": "float", "atol": 1e-5}},
        {"type": "stdio", "input": "1 0\n", "output": "inf"},
    ]
    m = ex.run([prog], tests)
    assert rows(m) == [[P, F, P, E]], m.details
    assert "ZeroDivisionError" in m.details[(0, 3)]
    assert m.outputs[(0, 0)] == "0.25\ndone   \n"


def test_stdio_program_that_calls_exit_is_judged_on_its_output(ex):
    prog = "import sys\nprint(int(input()) * 2)\nsys.exit(0)\n"
    m = ex.run([prog, "print(1)\nexit(3)\n"], [{"type": "stdio", "input": "21\n", "output": "42\n"}])
    assert rows(m) == [[P], [E]]


def test_call_tests_compare_in_the_parent(ex):
    cands = [
        "def f(xs):\n    return sorted(xs)\n",
        "def f(xs):\n    return tuple(sorted(xs))\n",  # tuples and lists are alike in JSON
        "def f(xs):\n    return [x + 1e-9 for x in sorted(xs)]\n",
        "def f(xs):\n    return set(xs)\n",
    ]
    tests = [
        {"type": "call", "args": [[3, 1, 2]], "expected": [1, 2, 3]},
        {"type": "call", "args": [[0.5]], "expected": [0.5], "judge": {"kind": "float", "atol": 1e-6}},
    ]
    m = ex.run(cands, tests, entry_point="f")
    assert rows(m) == [[P, P], [P, P], [F, P], [F, F]]
    assert json.loads(m.outputs[(0, 0)]) == [1, 2, 3]


def test_call_test_without_expectation_records_the_output(ex):
    from executor.specs import CallTest

    m = ex.run(["def f(a, b):\n    return {'sum': a + b}\n"], [CallTest("[2, 3]", None)], entry_point="f")
    assert rows(m) == [[P]] and json.loads(m.outputs[(0, 0)]) == {"sum": 5}


def test_timeouts_are_per_test_and_the_rest_still_runs(ex):
    slow_on_two = "def f(x):\n    while x == 2:\n        pass\n    return x + 1\n"
    tests = ["assert f(1) == 2", "assert f(2) == 3", "assert f(3) == 4"]
    start = time.monotonic()
    m = ex.run([slow_on_two], tests, entry_point="f")
    assert rows(m) == [[P, T, P]]
    assert time.monotonic() - start < 5


def test_repeated_timeouts_stop_early(ex):
    loop = "def f(x):\n    while True:\n        pass\n"
    tests = [f"assert f({i}) == {i}" for i in range(8)]
    start = time.monotonic()
    m = ex.run([loop, ADD1], tests, entry_point="f")
    assert rows(m)[0] == [T, T, T] + [S] * 5
    assert rows(m)[1] == [F] * 8
    assert time.monotonic() - start < 3 * 1.0 + 4


def test_candidate_that_never_loads_costs_one_load_timeout(ex):
    start = time.monotonic()
    m = ex.run(["while True:\n    pass\n"], [f"assert f({i})" for i in range(5)], entry_point="f")
    assert rows(m) == [[T] * 5]
    assert "did not load" in m.details[(0, 0)]
    assert time.monotonic() - start < 2.0 + 3


def test_failing_cell_details_carry_the_output_tail(ex):
    chatty = "def f(x):\n    print('looking at', x)\n    return 0\n"
    m = ex.run([chatty], ["assert f(7) == 1"], entry_point="f")
    assert "looking at 7" in m.details[(0, 0)]


def test_run_many_streams_in_input_order(ex):
    jobs = [Job(k, [ADD1] * (k % 3 + 1), [f"assert f({k}) == {k + 1}"], "f") for k in range(12)]
    keys = []
    for key, m in ex.run_many(jobs):
        keys.append(key)
        assert m.shape == (key % 3 + 1, 1) and m.passed.all()
    assert keys == list(range(12))


def test_verdicts_do_not_depend_on_what_the_executor_itself_imported(ex):
    """numpy (the matrix), multiprocess and dill (the pool) live in the caller, not in the workers: with
    site-packages hidden, a candidate importing them fails as it would on a bare interpreter."""
    probes = [f"import {name}\ndef f():\n    return 1\n" for name in ("numpy", "multiprocess", "dill")]
    m = ex.run(probes, [{"type": "call", "args": [], "expected": 1}], entry_point="f")
    assert [Status(s) for s in m.statuses[:, 0]] == [Status.ERROR] * 3, m.details
    assert all("ModuleNotFoundError" in m.details[(i, 0)] for i in range(3)), m.details
    with Executor(ExecutorConfig(workers=1, cache_path=None, site_packages=True)) as exposed:
        assert exposed.run(probes[:1], [{"type": "call", "args": [], "expected": 1}], entry_point="f").passed.all()


def test_per_test_isolation_hides_side_effects():
    leaky = "seen = []\ndef f(x):\n    seen.append(x)\n    return len(seen)\n"
    tests = ["assert f(0) == 1", "assert f(1) == 1"]
    with Executor(ExecutorConfig(workers=1, timeout=1.0, isolation="test")) as iso:
        assert rows(iso.run([leaky], tests, entry_point="f")) == [[P, P]]
    with Executor(ExecutorConfig(workers=1, timeout=1.0, isolation="candidate")) as shared:
        assert rows(shared.run([leaky], tests, entry_point="f")) == [[P, F]]


def test_cache_serves_a_rerun_without_executing(tmp_path):
    cfg = ExecutorConfig(workers=2, timeout=1.0, cache_path=str(tmp_path / "cells.sqlite"))
    tests = ["assert f(1) == 2", "assert f(2) == 4"]
    with Executor(cfg) as first:
        m1 = first.run([ADD1, ADD2], tests, entry_point="f")
        assert first.stats["executed_cells"] == 4
    with Executor(cfg) as second:
        m2 = second.run([ADD2, ADD1], tests, entry_point="f")
        assert second.stats == {"executed_cells": 0, "cached_cells": 4}
    assert (m2.statuses == m1.statuses[::-1]).all()
    assert m2.details[(1, 1)] == m1.details[(0, 1)]


def test_a_rerun_derives_skipped_cells_from_the_cache_instead_of_running_them(tmp_path):
    # SKIPPED cells are not cached; the timeouts that caused them are, so a rerun skips the same cells
    loop = "def f(x):\n    while True:\n        pass\n"
    cfg = ExecutorConfig(workers=2, timeout=0.5, max_timeouts=2, cache_path=str(tmp_path / "cells.sqlite"))
    tests = [f"assert f({i}) == {i + 1}" for i in range(5)]
    with Executor(cfg) as first:
        m1 = first.run([ADD1, loop], tests, entry_point="f")
    assert rows(m1)[1] == [Status.TIMEOUT] * 2 + [Status.SKIPPED] * 3
    with Executor(cfg) as second:
        m2 = second.run([ADD1, loop], tests, entry_point="f")
        assert second.stats == {"executed_cells": 0, "cached_cells": 7}
    assert (m2.statuses == m1.statuses).all() and m2.details == m1.details


def test_a_worker_that_dies_is_replaced_and_its_task_retried(ex):
    # SIGKILL every worker while the candidates run; the tasks must complete on fresh workers.
    pool = ex._pool
    sleepy = "import time\ndef f(x):\n    time.sleep(0.5)\n    return x + 1\n"
    old_pids = [s.process.pid for s in pool.slots]
    timer = threading.Timer(0.2, lambda: [os.kill(pid, signal.SIGKILL) for pid in old_pids])
    timer.start()
    m = ex.run([sleepy, sleepy + "_variant = 1\n"], ["assert f(1) == 2"], entry_point="f")  # one per worker
    timer.join()
    assert rows(m) == [[P], [P]]
    assert not set(old_pids) & {s.process.pid for s in pool.slots}


def test_a_pool_with_a_worker_per_cpu_keeps_each_worker_and_its_candidates_on_one():
    allowed = sorted(os.sched_getaffinity(0))
    probe = "import os\ncpus = sorted(os.sched_getaffinity(0))\n"
    for workers in sorted({len(allowed), max(1, len(allowed) - 1)}):
        pinned = workers >= len(allowed)
        with Executor(ExecutorConfig(workers=workers)) as executor:
            m = executor.run([probe], [f"assert len(cpus) == {1 if pinned else len(allowed)}"])
            cpus = [sorted(os.sched_getaffinity(slot.process.pid)) for slot in executor._pool.slots]
        assert rows(m) == [[P]]
        if pinned:
            assert sorted(c for [c] in cpus) == allowed  # one CPU each, every CPU used
        else:
            assert cpus == [allowed] * workers


def test_codet_problem_matches_labels_where_tests_are_official(ex, shared_data):
    """The official HumanEval check on real CodeGen candidates reproduces the file's labels."""
    with gzip.open(shared_data / "humaneval" / "HumanEval.jsonl.gz", "rt") as f:
        official = {p["task_id"]: p for p in map(json.loads, f)}
    with gzip.open(shared_data / "codet" / "humaneval_codegen16b.problems.jsonl.gz", "rt") as f:
        problems = [json.loads(next(f)) for _ in range(3)]
    for p in problems:
        m = ex.run(p["candidates"], [official[p["task_id"]]["test"]], entry_point=p["entry_point"])
        assert np.array_equal(m.passed[:, 0], np.array(p["labels"])), p["task_id"]
