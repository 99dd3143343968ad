"""A reward says why a completion did not pass, in a line a person can read, in every surface that
carries the details (RewardFunction.score, the server's details, TRL's completions table)."""
from __future__ import annotations

import gzip
import json

import coderm
from coderm.rl.adapters import TrlReward, native_reward

BROKEN = {"raises": "def f(x):\n    return 1 / 0\n", "loops": "def f(x):\n    while True:\n        pass\n",
          "wrong": "def f(x):\n    return x + 1\n", "right": "def f(x):\n    return x\n", "prose": "I cannot do that."}
TESTS = ["assert f(1) == 1", {"type": "call", "args": [2], "expected": 2}]


def test_each_failure_has_its_first_failing_test_and_message():
    rf = coderm.RewardFunction()
    results = rf.score(list(BROKEN.values()), tests=[TESTS] * len(BROKEN), entry_points=["f"] * len(BROKEN))
    failures = dict(zip(BROKEN, (r.failure for r in results)))
    assert failures["raises"] == "test 0 ERROR: ZeroDivisionError: division by zero (line 2 of <candidate>)"
    assert failures["loops"].startswith("test 0 TIMEOUT: timed out after ")
    assert failures["wrong"].startswith("test 0 FAIL: AssertionError")
    assert failures["right"] == "" and failures["prose"] == "no code in the reply"
    assert all(r.details()["failure"] == r.failure for r in results)


def test_the_server_details_and_trl_columns_carry_the_failure(shared_data):
    with gzip.open(shared_data / "codet" / "humaneval_codegen16b.problems.jsonl.gz", "rt") as f:
        problem = json.loads(next(f))
    wrong = next(c for c, ok in zip(problem["candidates"], problem["labels"]) if not ok)
    rf = coderm.RewardFunction()
    body = native_reward(rf, {"completions": [wrong], "tests": problem["tests"][:20],
                              "entry_points": [problem["entry_point"]], "details": True})
    failure = body["details"][0]["failure"]
    assert body["rewards"][0] < 1 and failure.startswith("test ") and failure.split()[2].rstrip(":") in (
        "FAIL", "ERROR", "TIMEOUT", "MEMORY", "CRASH")
    columns: dict = {}
    TrlReward(rf)(prompts=None, completions=[wrong], tests=[problem["tests"][:20]],
                  entry_points=[problem["entry_point"]], log_extra=columns.__setitem__)
    assert columns["coderm_failure"] == [failure]
