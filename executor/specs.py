"""Test specifications: what one column of the pass matrix runs.

A test is given either as a string of Python test code (assert statements, a
``def check(candidate)`` function, or ``unittest.TestCase`` classes) or as a dict
``{"type": "stdio", "input": ..., "output": ...}`` / ``{"type": "call", "args": [...],
"expected": ...}`` (DESIGN.md). ``as_test`` turns any of these into a frozen spec.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Union


@dataclass(frozen=True)
class CodeTest:
    """Python test code run in the candidate's namespace."""

    code: str


@dataclass(frozen=True)
class StdioTest:
    """Run the candidate as a program with ``input`` on stdin; compare stdout with ``output``.

    ``compare`` is ``"exact"`` (line by line, trailing whitespace stripped) or ``"float"``
    (tokens that parse as floats are compared with ``atol``/relative tolerance).
    """

    input: str
    output: str
    compare: str = "exact"
    atol: float = 1e-6


@dataclass(frozen=True)
class CallTest:
    """Call ``entry_point(*args)``; the parent compares the JSON result with ``expected``.

    ``args_json``/``expected_json`` hold canonical JSON so the spec stays hashable.
    ``expected_json`` of ``None`` means "no expectation": the cell only records the output
    (used to compute expected outputs from a reference solution).
    """

    args_json: str
    expected_json: str | None
    atol: float = 0.0

    @property
    def args(self) -> list:
        return json.loads(self.args_json)

    @property
    def expected(self) -> Any:
        return None if self.expected_json is None else json.loads(self.expected_json)


TestSpec = Union[CodeTest, StdioTest, CallTest]
TEST_TYPES = ("code", "stdio", "call")


def canonical_json(value: Any) -> str:
    """JSON with sorted keys; NaN/inf allowed (Python's json extensions)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def as_test(obj: Any) -> TestSpec:
    """Build a spec from a contract value; raises ValueError naming the bad field."""
    if isinstance(obj, (CodeTest, StdioTest, CallTest)):
        return obj
    if isinstance(obj, str):
        return CodeTest(obj)
    if not isinstance(obj, dict):
        raise ValueError(f"a test must be a string or an object, got {type(obj).__name__}")
    kind = obj.get("type", "code")
    if kind == "code":
        code = obj.get("code")
        if not isinstance(code, str):
            raise ValueError("code test needs a string field 'code'")
        return CodeTest(code)
    if kind == "stdio":
        for field in ("input", "output"):
            if not isinstance(obj.get(field), str):
                raise ValueError(f"stdio test needs a string field {field!r}")
        compare = obj.get("compare", "exact")
        if compare not in ("exact", "float"):
            raise ValueError(f"stdio test field 'compare' must be 'exact' or 'float', got {compare!r}")
        return StdioTest(obj["input"], obj["output"], compare, float(obj.get("atol", 1e-6)))
    if kind == "call":
        args = obj.get("args")
        if not isinstance(args, list):
            raise ValueError("call test needs a list field 'args'")
        if "expected" not in obj:
            raise ValueError("call test needs a field 'expected'")
        return CallTest(canonical_json(args), canonical_json(obj["expected"]), float(obj.get("atol", 0.0)))
    raise ValueError(f"unknown test type {kind!r}; expected one of {', '.join(TEST_TYPES)}")


def test_to_json(test: TestSpec) -> Any:
    """The contract value of a spec (inverse of ``as_test``)."""
    if isinstance(test, CodeTest):
        return test.code
    if isinstance(test, StdioTest):
        out: dict = {"type": "stdio", "input": test.input, "output": test.output}
        if test.compare != "exact":
            out.update(compare=test.compare, atol=test.atol)
        return out
    out = {"type": "call", "args": test.args, "expected": test.expected}
    if test.atol:
        out["atol"] = test.atol
    return out
