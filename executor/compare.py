"""Output comparison done outside the sandbox: stdio text and call results.

The child only reports what the program printed or returned (as text / JSON); the verdict is
decided here, so an object with a lying ``__eq__`` never reaches the comparison.
"""
from __future__ import annotations

import json
import math
from typing import Any

from executor.specs import CallTest, CodeTest, StdioTest, TestSpec
from executor.status import Status


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _float_equal(a: str, b: str, atol: float) -> bool:
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return math.isclose(x, y, rel_tol=atol, abs_tol=atol)


def stdio_matches(test: StdioTest, output: str) -> bool:
    """Line by line after stripping trailing whitespace; ``float`` mode compares numeric tokens with atol."""
    got, want = _lines(output), _lines(test.output)
    if test.compare == "exact" or len(got) != len(want):
        return got == want
    for g, w in zip(got, want):
        if g == w:
            continue
        gt, wt = g.split(), w.split()
        if len(gt) != len(wt) or not all(a == b or _float_equal(a, b, test.atol) for a, b in zip(gt, wt)):
            return False
    return True


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _values_equal(got: Any, want: Any, atol: float) -> bool:
    """Python equality on decoded JSON, recursing into containers; floats within ``atol``, NaN == NaN."""
    if isinstance(got, list) and isinstance(want, list):
        return len(got) == len(want) and all(_values_equal(g, w, atol) for g, w in zip(got, want))
    if isinstance(got, dict) and isinstance(want, dict):
        return got.keys() == want.keys() and all(_values_equal(got[k], want[k], atol) for k in want)
    if isinstance(got, float) and isinstance(want, float) and math.isnan(got) and math.isnan(want):
        return True
    if atol and _is_number(got) and _is_number(want) and (isinstance(got, float) or isinstance(want, float)):
        try:
            return math.isclose(got, want, rel_tol=0.0, abs_tol=atol)
        except OverflowError:  # an int too large for a float is not close to any float
            return False
    return got == want


def call_matches(test: CallTest, output_json: str) -> bool:
    """The returned value (JSON from the child) against ``expected``; tuples and lists are alike."""
    if test.expected_json is None:
        return True
    try:
        got = json.loads(output_json)
    except ValueError:
        return False
    return _values_equal(got, test.expected, test.atol)


def blind(test: TestSpec) -> TestSpec:
    """What the sandbox may see of a test: stdio/call expectations stay with the parent."""
    if isinstance(test, StdioTest):
        return StdioTest(test.input, "", test.compare, test.atol)
    if isinstance(test, CallTest):
        return CallTest(test.args_json, None)
    return test


def judge(test: TestSpec, status: int, detail: str, output: str | None) -> tuple[int, str]:
    """Final verdict of a cell: a stdio/call cell that ran is PASS only if its output matches."""
    if status != Status.PASS or isinstance(test, CodeTest):
        return status, detail
    if output is None:
        return Status.CRASH, "no output reported"
    try:
        ok = stdio_matches(test, output) if isinstance(test, StdioTest) else call_matches(test, output)
    except (RecursionError, MemoryError, OverflowError, ValueError) as e:  # hostile output must not stop the run
        return Status.FAIL, f"output could not be compared: {type(e).__name__}"
    return (Status.PASS, "") if ok else (Status.FAIL, f"wrong output: {output[:200]!r}")
