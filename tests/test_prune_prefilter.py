"""Prefilter stage: a few tests through the real executor, early stop per candidate."""
import pytest

from coderm.prune import run_stages
from executor import Executor, ExecutorConfig

GOOD = "def f(x):\n    return x + 1\n"
WRONG = "def f(x):\n    return x - 1\n"
CRASH = "def f(x):\n    raise RuntimeError('no')\n"
LOOP = "def f(x):\n    while True:\n        pass\n"
PROBLEM = {
    "entry_point": "f",
    "candidates": [GOOD, WRONG, CRASH, LOOP, GOOD],
    "tests": ["assert f(1) == 2", "assert f(1) == 2", "assert f(2) == 3", "assert f(0) == 1", "assert f(5) == 6"],
}


@pytest.fixture(scope="module")
def executor():
    with Executor(ExecutorConfig(workers=2, timeout=0.5)) as ex:
        yield ex


def test_keep_runs_prunes_only_crashes_and_timeouts(executor):
    res = run_stages(PROBLEM, [{"stage": "prefilter", "tests": 2, "keep": "runs"}], executor)
    assert res.survivors == [0, 1, 4]
    assert res.pruned == {2: "prefilter", 3: "prefilter"}
    assert res.stage_seconds["prefilter"] > 0


def test_keep_pass_needs_one_passing_test_and_stops_early(executor):
    calls = []

    class Counting:
        def run(self, candidates, tests, entry_point=None):
            calls.append((len(candidates), len(tests)))
            return executor.run(candidates, tests, entry_point)

    res = run_stages(PROBLEM, [{"stage": "prefilter", "tests": 3, "keep": "pass"}], Counting())
    assert res.survivors == [0, 4] and set(res.pruned) == {1, 2, 3}
    # the duplicated first test counts once; the passing candidates are not run again
    assert calls == [(5, 1), (3, 1), (3, 1)]


def test_dedupe_then_prefilter_runs_representatives_only(executor):
    res = run_stages(PROBLEM, [{"stage": "dedupe"}, {"stage": "prefilter", "tests": 1, "keep": "pass"}], executor)
    assert res.survivors == [0] and res.weights[0] == 2
    assert list(res.kept) == [0, 4] and list(res.rows) == [0, 0]
    assert res.pruned == {1: "prefilter", 2: "prefilter", 3: "prefilter"}
