"""fail_fast: the executor stops a candidate at its first failing test; rewards equal masking a full run."""
from __future__ import annotations

import time

import pytest

from coderm.config import load_config
from coderm.rl import RewardFunction
from executor import Executor, ExecutorConfig, Status
from executor.runner import FAIL_FAST_SPLIT

ADD = "def f(x):\n    return x + 1\n"
SLOW_AFTER_FAIL = "import time\ndef f(x):\n    if x == 2:\n        time.sleep(4)\n    return x\n"
TESTS = ["assert f(1) == 2", "assert f(2) == 3", "assert f(3) == 4"]


@pytest.fixture(scope="module")
def ex():
    with Executor(ExecutorConfig(workers=2, timeout=10.0, load_timeout=5.0, fail_fast=True)) as executor:
        executor.containment  # workers up before anything is timed
        yield executor


def names(row) -> list[str]:
    return [Status(s).name for s in row]


def test_fail_fast_is_part_of_the_verdict_key():
    assert ExecutorConfig(fail_fast=True).verdict_key() != ExecutorConfig().verdict_key()


def test_the_worker_stops_at_the_first_failure(ex):
    start = time.monotonic()
    m = ex.run([ADD, SLOW_AFTER_FAIL], TESTS, "f")
    assert time.monotonic() - start < 3.5  # the 4 s sleep of the second test never ran
    assert names(m.statuses[0]) == ["PASS"] * 3
    assert names(m.statuses[1]) == ["FAIL", "SKIPPED", "SKIPPED"]
    assert "fail_fast" in m.details[(1, 1)]


def test_a_wrong_output_judged_in_the_parent_skips_the_rest_and_invalid_stays(ex):
    echo = "print(input())\n"
    tests = [{"type": "stdio", "input": "a\n", "output": "a\n"}, {"type": "stdio", "input": "b\n", "output": "c\n"},
             "assert f(", {"type": "stdio", "input": "d\n", "output": "d\n"}]
    m = ex.run([echo], tests)
    assert names(m.statuses[0]) == ["PASS", "FAIL", "INVALID", "SKIPPED"]


def test_a_loop_costs_one_timeout_then_the_rest_is_skipped():
    loop = "def f(x):\n    while True:\n        pass\n"
    with Executor(ExecutorConfig(workers=1, timeout=1.0, fail_fast=True)) as ex:
        m = ex.run([loop], TESTS, "f")
    assert names(m.statuses[0]) == ["TIMEOUT", "SKIPPED", "SKIPPED"]


def test_skipped_cells_are_not_cached(tmp_path):
    cfg = ExecutorConfig(workers=1, timeout=5.0, fail_fast=True, cache_path=str(tmp_path / "cells.sqlite"))
    wrong_first = "def f(x):\n    return 0 if x == 1 else x + 1\n"
    with Executor(cfg) as ex:
        assert names(ex.run([wrong_first], TESTS[:2], "f").statuses[0]) == ["FAIL", "SKIPPED"]
        # the same cell alone: it runs (and passes) instead of coming back SKIPPED from the cache
        assert names(ex.run([wrong_first], TESTS[1:2], "f").statuses[0]) == ["PASS"]
        assert ex.stats["cached_cells"] == 0


def test_a_rerun_skips_after_a_cached_failure_without_running(tmp_path):
    cfg = ExecutorConfig(workers=1, timeout=5.0, fail_fast=True, cache_path=str(tmp_path / "cells.sqlite"))
    wrong_first = "def f(x):\n    return 0 if x == 1 else x + 1\n"
    with Executor(cfg) as ex:
        first = ex.run([wrong_first], TESTS, "f")
    with Executor(cfg) as ex:
        again = ex.run([wrong_first], TESTS, "f")
        assert ex.stats == {"executed_cells": 0, "cached_cells": 1}
    assert names(again.statuses[0]) == names(first.statuses[0]) == ["FAIL", "SKIPPED", "SKIPPED"]
    assert again.details == first.details


def test_fail_fast_rewards_equal_masking_a_full_run():
    """The same batch through the fail_fast executor (the config's own) and through one that runs every
    test (whose statuses the pipeline masks): identical rewards and outcomes, and the one failure the
    fail_fast executor stopped at is the candidate's verdict on that test in the full run."""
    config = load_config("reward").with_overrides(workers=2, timeout=2.0, max_timeouts=1, cache=None,
                                                  reward={"mode": "fail_fast"})
    assert config.executor_config().fail_fast
    tests = TESTS + [{"type": "call", "args": [5], "expected": 6}, "assert f("]
    codes = [ADD, "def f(x):\n    return x\n", "def f(x):\n    return 0 if x == 2 else x + 1\n",
             "def f(x):\n    raise ValueError\n", "def f(x):\n    return x + 1 if x < 5 else 0\n", "raise RuntimeError(1)\ndef f(x):\n    return x\n"]
    problems = [{"tests": tests, "entry_point": "f"}] * len(codes)
    fast = RewardFunction(config).score(codes, tests=problems)
    with Executor(config.executor_config(), fail_fast=False) as full_executor:
        full = RewardFunction(config, executor=full_executor).score(codes, tests=problems)
        unmasked = full_executor.run(codes, tests, "f")
    assert [(r.reward, r.outcome) for r in fast] == [(r.reward, r.outcome) for r in full]
    assert [r.outcome for r in fast] == ["passed"] + ["failed"] * 5
    for f, row in zip(fast, unmasked.status_names()):
        stopped = [k for k, s in enumerate(f.statuses) if s not in ("PASS", "INVALID", "SKIPPED")]
        assert len(stopped) == (f.outcome == "failed")
        assert [f.statuses[k] for k in stopped] == [row[k] for k in stopped]


def test_a_wrong_output_stops_a_long_suite_after_its_first_part(ex):
    """The worker cannot see a wrong call output, so a long suite goes in two parts: the rest only once
    the parent judged the first part passed. A wrong candidate costs FAIL_FAST_SPLIT cells, not 40."""
    tests = [{"type": "call", "args": [k], "expected": k + 1} for k in range(40)]
    before = ex.stats["executed_cells"]
    m = ex.run([ADD, "def f(x):\n    return x if x % 2 else x + 1\n"], tests, "f")
    assert ex.stats["executed_cells"] - before == 40 + FAIL_FAST_SPLIT
    assert names(m.statuses[0]) == ["PASS"] * 40
    wrong = names(m.statuses[1])
    assert wrong.count("FAIL") == 1 and wrong.count("SKIPPED") >= 40 - FAIL_FAST_SPLIT
    assert set(wrong) == {"PASS", "FAIL", "SKIPPED"}
