"""Output judging done outside the sandbox: stdio text and call results.

The child only reports what the program printed or returned (as text / JSON); the verdict is
decided here, by the test's ``Judge``, so an object with a lying ``__eq__`` never reaches the
comparison. A test judged by a checker program is left pending here (``CHECKER_PENDING``, never a
PASS) and settled by ``executor.checker``, which runs the checker in the sandbox.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from functools import lru_cache
from typing import Any

from executor.specs import CallTest, CodeTest, Judge, StdioTest, TestSpec, canonical_json
from executor.status import Status

CHECKER_PENDING = "output recorded; awaiting the checker"


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _close(got: float, want: float, judge: Judge) -> bool:
    """|got - want| <= atol + rtol * |want|; NaN only matches NaN, infinities only themselves."""
    try:
        if math.isnan(got) or math.isnan(want):
            return math.isnan(got) and math.isnan(want)
        if math.isinf(got) or math.isinf(want):
            return got == want
        return abs(got - want) <= judge.atol + judge.rtol * abs(want)
    except OverflowError:  # an int too large for a float is not close to any float
        return False


def _tokens_close(got: str, want: str, judge: Judge) -> bool:
    try:
        return _close(float(got), float(want), judge)
    except ValueError:
        return False


def text_matches(got: str, want: str, judge: Judge) -> bool:
    """A program's stdout against one expected output (see ``Judge`` for the kinds)."""
    if got == want:  # the common case, whatever the kind
        return True
    if judge.kind == "exact":
        return _lines(got) == _lines(want)
    got_tokens, want_tokens = got.split(), want.split()
    if judge.kind == "tokens":
        return got_tokens == want_tokens
    if judge.kind == "unordered":
        if judge.multiset:
            return Counter(got_tokens) == Counter(want_tokens)
        return set(got_tokens) == set(want_tokens)
    return len(got_tokens) == len(want_tokens) and all(
        g == w or _tokens_close(g, w, judge) for g, w in zip(got_tokens, want_tokens))


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _plain_number(v: Any) -> Any:
    """Integral floats as ints, recursively, so 2.0 and 2 are one item of an unordered result."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, list):
        return [_plain_number(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain_number(x) for k, x in v.items()}
    return v


def _values_equal(got: Any, want: Any, judge: Judge) -> bool:
    """Python equality on decoded JSON, recursing into containers; NaN == NaN; numbers within the
    tolerance of a float judge; strings by tokens under a tokens judge."""
    if isinstance(got, list) and isinstance(want, list):
        return len(got) == len(want) and all(_values_equal(g, w, judge) for g, w in zip(got, want))
    if isinstance(got, dict) and isinstance(want, dict):
        return got.keys() == want.keys() and all(_values_equal(got[k], want[k], judge) for k in want)
    if isinstance(got, float) and isinstance(want, float) and math.isnan(got) and math.isnan(want):
        return True
    if judge.kind == "float" and _is_number(got) and _is_number(want) and float in (type(got), type(want)):
        return _close(got, want, judge)
    if judge.kind == "tokens" and isinstance(got, str) and isinstance(want, str):
        return got.split() == want.split()
    return got == want


def value_matches(got: Any, want: Any, judge: Judge) -> bool:
    """A returned value (decoded JSON) against one expected value (see ``Judge`` for the kinds)."""
    if judge.kind == "unordered" and isinstance(got, list) and isinstance(want, list):
        got_items = [canonical_json(_plain_number(x)) for x in got]
        want_items = [canonical_json(_plain_number(x)) for x in want]
        if judge.multiset:
            return Counter(got_items) == Counter(want_items)
        return set(got_items) == set(want_items)
    return _values_equal(got, want, judge)


def _matches(test: StdioTest | CallTest, output: str) -> bool:
    """The output against the expected one or any alternative; tuples and lists are alike in JSON.
    A record-only test (no expectation) matches any output: its cell says only that the program ran."""
    if is_record_only(test):
        return True
    if isinstance(test, StdioTest):
        return any(text_matches(output, want, test.judge) for want in (test.output, *test.alternatives))
    expected = (test.expected_json, *test.alternatives_json)  # keyed by strings: they keep their hash
    if output in _spellings(expected):
        return True
    try:
        got = json.loads(output)
    except ValueError:
        return False
    return any(value_matches(got, want, test.judge) for want in _wanted(expected))


@lru_cache(maxsize=1 << 14)
def _spellings(expected: tuple[str, ...]) -> frozenset[str]:
    """The expected values as the harness spells a returned value (``harness._run_call``:
    ``json.dumps(value, sort_keys=True)``). An output spelled like one decodes to an expected value
    and matches under every judge, so most passing cells are judged without decoding anything."""
    return frozenset(json.dumps(value, sort_keys=True) for value in _wanted(expected))


@lru_cache(maxsize=1 << 12)
def _wanted(expected: tuple[str, ...]) -> tuple[Any, ...]:
    """The expected value and the alternatives, decoded once per test (compared, never changed)."""
    return tuple(json.loads(text) for text in expected)


def is_record_only(test: TestSpec) -> bool:
    """A stdio/call test with no expected output: its cells only record what the program produced."""
    if isinstance(test, StdioTest):
        return test.output is None
    return isinstance(test, CallTest) and test.expected_json is None


def blind(test: TestSpec) -> TestSpec:
    """What the sandbox may see of a test: stdio/call expectations and judges stay with the parent."""
    if isinstance(test, StdioTest):
        return StdioTest(test.input, None)
    if isinstance(test, CallTest):
        return CallTest(test.args_json, None, test.kwargs_json)
    return test


def judge(test: TestSpec, status: int, detail: str, output: str | None) -> tuple[int, str]:
    """Final verdict of a cell: a stdio/call cell that ran is PASS only if its output matches.
    A checker-judged cell that ran stays FAIL with ``CHECKER_PENDING`` until its checker settles it."""
    if status != Status.PASS or isinstance(test, CodeTest):
        return status, detail
    if output is None:
        return Status.CRASH, "no output reported"
    if test.judge.kind == "checker":
        return Status.FAIL, CHECKER_PENDING
    try:
        ok = _matches(test, output)
    except (RecursionError, MemoryError, OverflowError, ValueError) as e:  # hostile output must not stop the run
        return Status.FAIL, f"output could not be compared: {type(e).__name__}"
    return (Status.PASS, "") if ok else (Status.FAIL, f"wrong output: {output[:200]!r}")
