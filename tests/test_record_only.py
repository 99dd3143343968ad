"""What S* selection needs from the executor: record-only stdio and call tests (no expected value;
the output comes back in ``PassMatrix.outputs`` to be clustered outside the sandbox), calls with
keyword arguments and calls of ``Solution().method`` (LeetCode programs)."""
from __future__ import annotations

import json

import pytest

from coderm.config import load_config
from coderm.rl import RewardFunction
from executor import Executor, ExecutorConfig, Status, as_test
from executor.compare import is_record_only
from executor.specs import test_to_json as to_json
from test_executor import rows

P, E = Status.PASS, Status.ERROR


@pytest.fixture(scope="module")
def ex():
    with Executor(ExecutorConfig(workers=2, timeout=2.0, load_timeout=3.0)) as executor:
        yield executor


def test_record_only_tests_parse_round_trip_and_differ_from_judged_ones():
    stdio, call = {"type": "stdio", "input": "3\n"}, {"type": "call", "args": [1], "kwargs": {"k": 2}}
    for test in (stdio, call):
        assert is_record_only(as_test(test)) and to_json(as_test(test)) == test
    assert as_test(stdio) != as_test({**stdio, "output": ""})  # distinct columns and cache keys
    returns_none = as_test({**call, "expected": None})  # an explicit null is an expectation
    assert not is_record_only(returns_none) and as_test(call) != returns_none


@pytest.mark.parametrize("test, reason", [
    ({"type": "stdio", "input": "1\n", "judge": "tokens"}, "record-only stdio test .* takes no 'judge'"),
    ({"type": "call", "args": [1], "alternatives": [2]}, "record-only call test .* takes no 'alternatives'"),
    ({"type": "stdio", "input": "1\n", "output": 3}, "'output' must be a string"),
])
def test_record_only_tests_refuse_what_they_cannot_use(test, reason):
    with pytest.raises(ValueError, match=reason):
        as_test(test)


def test_record_only_cells_record_outputs_and_errors_record_none(ex):
    prog = "n = int(input())\nprint(*range(n))\n"
    crash = "n = int(input())\nprint(n)\nraise SystemExit(1)\n"
    tests = [{"type": "stdio", "input": "3\n"}, {"type": "stdio", "input": "x\n"}]
    m = ex.run([prog, crash], tests)
    assert rows(m) == [[P, E], [E, E]]
    assert m.outputs == {(0, 0): "0 1 2\n"}  # an error's partial output is never clustered


def test_keyword_and_solution_method_calls_record_their_values(ex):
    leetcode = ("class Solution:\n"
                "    def __init__(self):\n        self.calls = 0\n"
                "    def twoSum(self, nums, target):\n"
                "        self.calls += 1\n"  # a fresh instance per call: always 1
                "        seen = {}\n"
                "        for i, x in enumerate(nums):\n"
                "            if target - x in seen:\n                return [seen[target - x], i, self.calls]\n"
                "            seen[x] = i\n")
    plain = "def twoSum(nums, target):\n    return [0, 1, 0]\n"
    tests = [{"type": "call", "args": [[2, 7, 11, 15]], "kwargs": {"target": 9}},
             {"type": "call", "args": [], "kwargs": {"nums": [3, 3], "target": 6}},
             {"type": "call", "args": [[3, 3], 6], "expected": [0, 1, 1]}]
    m = ex.run([leetcode, plain, "class Solution:\n    pass\n"], tests, entry_point="twoSum")
    assert rows(m) == [[P, P, P], [P, P, Status.FAIL], [E, E, E]], m.details
    assert [json.loads(m.outputs[(0, j)]) for j in range(3)] == [[0, 1, 1], [0, 1, 1], [0, 1, 1]]
    assert json.loads(m.outputs[(1, 0)]) == [0, 1, 0]
    assert "does not define 'twoSum'" in m.details[(2, 0)]


def test_a_record_only_test_earns_no_reward_and_no_score():
    """Its PASS only means the program ran: for scoring and rewards the column is INVALID."""
    from_stdin = [{"type": "stdio", "input": "a\n"}, {"type": "stdio", "input": "b\n", "output": "b\n"}]
    rf = RewardFunction(load_config("reward").with_overrides(workers=1, cache=None))
    assert rf(["print(input())", "print('zzz')"], tests=[from_stdin] * 2) == [1.0, 0.0]
    assert rf(["def f(x):\n    return 0\n"], tests=[[{"type": "call", "args": [1]}]], entry_points=["f"]) == [None]
    [result] = RewardFunction(load_config("reward").with_overrides(workers=1, cache=None)).score(
        ["print('zzz')"], tests=[from_stdin])
    assert result.statuses == ["INVALID", "FAIL"]
