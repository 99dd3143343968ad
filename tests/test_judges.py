"""Judging of stdio and call outputs: exact, tokens, float tolerance, unordered, alternatives, keyword
arguments and checker programs (the sandboxed special judge)."""
from __future__ import annotations

import json

import pytest

from executor import Executor, ExecutorConfig, PassMatrix, Status, as_test
from executor.specs import test_to_json as to_json
from executor.checker import settle_checkers
from executor import compare
from executor.compare import CHECKER_PENDING, text_matches, value_matches
from executor.specs import Judge
from test_executor import rows

P, F, E = Status.PASS, Status.FAIL, Status.ERROR
SORT_CHECKER = ("def check(input, expected, got):\n"
                "    return sorted(got.split()) == sorted(expected.split())\n")


@pytest.fixture(scope="module")
def ex():
    with Executor(ExecutorConfig(workers=2, timeout=2.0, load_timeout=3.0)) as executor:
        yield executor


def judged(ex: Executor, candidates: list[str], tests: list, entry_point: str | None = None) -> PassMatrix:
    m = ex.run(candidates, tests, entry_point)
    settle_checkers(ex, tests, m)
    return m


@pytest.mark.parametrize("kind, got, want, ok", [
    ("exact", "1 2\n3  \n\n", "1 2\n3", True),
    ("exact", "1  2\n3", "1 2\n3", False),
    ("tokens", "1  2\n3\n", "1 2 3", True),
    ("tokens", "1 2", "1 2 3", False),
    ({"kind": "float", "atol": 1e-6}, "0.3333333 x", "0.33333333 x", True),
    ({"kind": "float", "atol": 1e-6}, "0.3334", "0.3333", False),
    ({"kind": "float", "rtol": 1e-6}, "1000000.5", "1000000", True),
    ({"kind": "float", "atol": 1e-6}, "nan inf", "nan inf", True),
    ({"kind": "float", "atol": 1e-6}, "inf", "1e308", False),
    ("unordered", "3 1\n2", "1 2 3", True),
    ("unordered", "1 1 2", "1 2 2", False),
    ({"kind": "unordered", "multiset": False}, "1 1 2", "2 1", True),
])
def test_text_judges(kind, got, want, ok):
    assert text_matches(got, want, Judge.parse(kind)) is ok


@pytest.mark.parametrize("kind, got, want, ok", [
    ("exact", [1, 2.0], [1, 2], True),
    ("exact", [0.1 + 0.2], [0.3], False),
    ({"kind": "float", "atol": 1e-9}, [0.1 + 0.2, {"a": 1.0}], [0.3, {"a": 1}], True),
    ({"kind": "float", "atol": 1e-9}, [10**400], [1.0], False),  # an int too big for a float
    ("tokens", ["a  b", "c\n"], ["a b", "c"], True),
    ("unordered", [[1, 2], [3]], [[3], [1, 2.0]], True),
    ("unordered", [[2, 1], [3]], [[3], [1, 2]], False),  # only the top level is unordered
    ("unordered", [1, 1], [1], False),
    ({"kind": "unordered", "multiset": False}, [1, 1], [1], True),
])
def test_value_judges(kind, got, want, ok):
    assert value_matches(got, want, Judge.parse(kind)) is ok


@pytest.mark.parametrize("test, reason", [
    ({"type": "stdio", "input": "", "output": "", "judge": "fuzzy"}, "judge kind must be one of"),
    ({"type": "stdio", "input": "", "output": "", "judge": {"kind": "tokens", "atol": 1}}, "takes no option"),
    ({"type": "stdio", "input": "", "output": "", "judge": {"kind": "float", "atol": -1}}, "atol must be"),
    ({"type": "stdio", "input": "", "output": "", "judge": {"kind": "checker", "code": "def check(:"}}, "does not compile"),
    ({"type": "stdio", "input": "", "output": "", "judge": {"kind": "checker", "code": "x = 1"}}, "must define check"),
    ({"type": "stdio", "input": "", "output": "", "compare": "float"}, "replaced by 'judge'"),
    ({"type": "call", "args": [], "expected": 1, "atol": 0.1}, "replaced by 'judge'"),
    ({"type": "call", "args": [], "kwargs": {"1x": 2}, "expected": 1}, "kwargs"),
    ({"type": "call", "args": [], "expected": 1, "alternatives": [2],
      "judge": {"kind": "checker", "code": SORT_CHECKER}}, "no 'alternatives'"),
])
def test_bad_judging_fields_are_refused(test, reason):
    with pytest.raises(ValueError, match=reason):
        as_test(test)


def test_judging_fields_round_trip_and_are_part_of_the_spec():
    tests = [
        {"type": "stdio", "input": "1\n", "output": "1\n", "judge": {"kind": "float", "atol": 1e-6, "rtol": 1e-9}},
        {"type": "stdio", "input": "1\n", "output": "1\n", "judge": "unordered", "alternatives": ["2\n"]},
        {"type": "call", "args": [1], "kwargs": {"k": 2}, "expected": [1], "alternatives": [1]},
        {"type": "call", "args": [1], "expected": 1, "judge": {"kind": "checker", "code": SORT_CHECKER}},
    ]
    for test in tests:
        assert to_json(as_test(test)) == test
    plain = {"type": "stdio", "input": "1\n", "output": "1\n"}
    assert as_test(plain) != as_test({**plain, "judge": "tokens"})  # distinct columns and cache keys
    assert to_json(as_test({**plain, "judge": "exact"})) == plain


def test_keyword_arguments_and_alternatives_through_the_executor(ex):
    prog = "def f(a, b=0, *, scale=1):\n    return [(a - b) * scale]\n"
    tests = [
        {"type": "call", "args": [5], "kwargs": {"b": 2, "scale": 3}, "expected": [9]},
        {"type": "call", "args": [], "kwargs": {"a": 1}, "expected": [1]},
        {"type": "call", "args": [4], "expected": 4, "alternatives": [[4]]},  # APPS: wrapped or not
        {"type": "call", "args": [4], "kwargs": {"nope": 1}, "expected": [4]},
    ]
    m = ex.run([prog], tests, entry_point="f")
    assert rows(m) == [[P, P, P, E]], m.details
    assert "nope" in m.details[(0, 3)]


def test_float_unordered_and_tokens_through_the_executor(ex):
    prog = "n = int(input())\nprint(*[1 / 3] * n)\nprint(*reversed(range(n)))\n"
    out = "0.333333 0.333333\n0 1\n"
    tests = [{"type": "stdio", "input": "2\n", "output": out},
             {"type": "stdio", "input": "2\n", "output": out, "judge": {"kind": "float", "atol": 1e-6}},
             {"type": "stdio", "input": "2\n", "output": out, "judge": "unordered"},
             {"type": "stdio", "input": "2\n", "output": "0.3333333333333333 0.3333333333333333 1 0",
              "judge": "tokens"}]
    assert rows(ex.run([prog], tests)) == [[F, F, F, P]]
    both = {"type": "stdio", "input": "2\n", "output": "0.333333 0.333333\n1 0\n", "judge": {"kind": "float", "atol": 1e-6}}
    assert rows(ex.run([prog], [both])) == [[P]]


def test_a_checker_accepts_a_right_output_that_differs_from_the_reference(ex):
    """Any permutation is right; the reference printed one of them."""
    test = {"type": "stdio", "input": "3\n", "output": "1 2 3\n", "judge": {"kind": "checker", "code": SORT_CHECKER}}
    right = "print(*reversed(range(1, int(input()) + 1)))\n"
    wrong = "print(*range(int(input())))\n"
    m = ex.run([right, wrong], [test])
    assert rows(m) == [[F], [F]] and m.details[(0, 0)] == CHECKER_PENDING  # pending: never a PASS before the checker
    settle_checkers(ex, [test], m)
    assert rows(m) == [[P], [F]], m.details
    assert m.details[(1, 0)].startswith("checker FAIL")


def test_a_call_checker_sees_arguments_expected_and_returned_value(ex):
    checker = ("def check(input, expected, got):\n"
               "    a, b = input['args'][0], input['kwargs']['b']\n"
               "    return isinstance(got, list) and sorted(got) == sorted([a, b]) and len(expected) == 2\n")
    test = {"type": "call", "args": [1], "kwargs": {"b": 2}, "expected": [1, 2], "judge": {"kind": "checker", "code": checker}}
    m = judged(ex, ["def f(a, b):\n    return [b, a]\n", "def f(a, b):\n    return [a, a]\n"], [test], "f")
    assert rows(m) == [[P], [F]], m.details


def test_checker_runs_once_per_distinct_output_and_is_cached(ex, tmp_path):
    test = {"type": "stdio", "input": "3\n", "output": "1 2 3\n", "judge": {"kind": "checker", "code": SORT_CHECKER}}
    same = [f"print(3, 2, 1)\n_variant = {k}\n" for k in range(4)]
    with Executor(ExecutorConfig(workers=1, timeout=2.0, cache_path=str(tmp_path / "c.sqlite"))) as cached:
        m = judged(cached, same, [test])
        assert rows(m) == [[P]] * 4
        executed = cached.stats["executed_cells"]
        assert executed == 4 + 1  # four candidates, one checker call for their one output
        again = judged(cached, same, [test])
        assert rows(again) == [[P]] * 4 and cached.stats["executed_cells"] == executed


def test_json_output_of_call_tests_is_what_the_checker_gets(ex):
    checker = "def check(input, expected, got):\n    return got == {'k': [1, 2]} and expected is None\n"
    test = {"type": "call", "args": [], "expected": None, "judge": {"kind": "checker", "code": checker}}
    m = judged(ex, ["def f():\n    return {'k': (1, 2)}\n"], [test], "f")
    assert rows(m) == [[P]], m.details
    assert json.loads(m.outputs[(0, 0)]) == {"k": [1, 2]}


def test_a_returned_value_is_judged_by_its_spelling_without_decoding(ex):
    """The parent's shortcut: an output spelled as the harness spells the expected value is a PASS
    with no JSON decoding. The harness's real spelling (sort_keys, its separators, sets, NaN) must be
    the one the shortcut expects, or every passing cell would pay for decoding again."""
    values = [{"b": [1, 2.5], "a": None}, [3, [4, "x"]], float("nan"), {"__set__": ["1", "2"]}, "é"]
    prog = ("def f(k):\n    return [{'b': [1, 2.5], 'a': None}, (3, (4, 'x')), float('nan'), {2, 1}, 'é'][k]\n")
    recorded = ex.run([prog], [{"type": "call", "args": [k]} for k in range(len(values))], entry_point="f")
    for k, value in enumerate(values):
        output = recorded.outputs[(0, k)]
        test = as_test({"type": "call", "args": [k], "expected": value})
        assert output in compare._spellings((test.expected_json,)), (output, value)
        assert compare.judge(test, Status.PASS, "", output) == (Status.PASS, "")
    wrong = as_test({"type": "call", "args": [0], "expected": {"a": None, "b": [1, 2.25]}})
    assert compare.judge(wrong, Status.PASS, "", recorded.outputs[(0, 0)])[0] == Status.FAIL
