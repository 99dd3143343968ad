"""Test specifications: what one column of the pass matrix runs.

A test is given either as a string of Python test code (assert statements, a
``def check(candidate)`` function, or ``unittest.TestCase`` classes) or as a dict
``{"type": "stdio", "input": ..., "output": ...}`` / ``{"type": "call", "args": [...],
"kwargs": {...}, "expected": ...}`` (DESIGN.md). A stdio or call test may say how its output is
judged (``"judge"``, see ``Judge``) and list ``"alternatives"``: other outputs that count as correct
too. A stdio test without ``"output"`` or a call test without ``"expected"`` is record-only: the cell
only records what the program printed or returned (``PassMatrix.outputs``), for clustering outputs
judged outside the sandbox (S* selection, ``coderm.select``). ``as_test`` turns any of these into a frozen spec; every field that can change a verdict is
part of the spec, so it is part of the cell cache key.
"""
from __future__ import annotations

import ast
import json
import math
from dataclasses import dataclass, fields
from typing import Any, Union

from executor import astparse

JUDGE_KINDS = ("exact", "tokens", "float", "unordered", "checker")
# The options each judge kind takes; any other option is refused rather than ignored.
_JUDGE_OPTIONS = {"exact": (), "tokens": (), "float": ("atol", "rtol"), "unordered": ("multiset",), "checker": ("code",)}


@dataclass(frozen=True)
class Judge:
    """How a stdio or call output is compared with the expected one.

    ``exact``: stdio line by line with trailing whitespace ignored; call values equal (Python ``==``
    on JSON). ``tokens``: whitespace-separated tokens equal (strings inside call values too).
    ``float``: numbers within ``atol + rtol * |expected|``, everything else exact. ``unordered``:
    the stdio tokens, or the items of a returned list, as a multiset (``multiset: false``: a set).
    ``checker``: ``code`` defines ``check(input, expected, got)``, a special judge run in the
    sandbox on each output (``executor.checker``); only a return of ``True`` passes.
    """

    kind: str = "exact"
    atol: float = 0.0
    rtol: float = 0.0
    multiset: bool = True
    code: str = ""

    @classmethod
    def parse(cls, value: Any) -> "Judge":
        """A judge from its contract form: a kind name or ``{"kind": ..., options}``; ValueError says why not."""
        if isinstance(value, Judge):
            return value
        if isinstance(value, str):
            value = {"kind": value}
        if not isinstance(value, dict):
            raise ValueError(f"'judge' must be a kind name or an object, got {type(value).__name__}")
        kind = value.get("kind")
        if kind not in JUDGE_KINDS:
            raise ValueError(f"judge kind must be one of {', '.join(JUDGE_KINDS)}, got {kind!r}")
        unknown = sorted(set(value) - {"kind", *_JUDGE_OPTIONS[kind]})
        if unknown:
            raise ValueError(f"judge {kind!r} takes no option(s) {', '.join(unknown)}; it takes "
                             f"{', '.join(_JUDGE_OPTIONS[kind]) or 'none'}")
        judge = cls(kind, **{k: v for k, v in value.items() if k != "kind"})
        judge._validate()
        return judge

    def _validate(self) -> None:
        for name in ("atol", "rtol"):
            tol = getattr(self, name)
            if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not (math.isfinite(tol) and tol >= 0):
                raise ValueError(f"judge {name} must be a finite number >= 0, got {tol!r}")
        if not isinstance(self.multiset, bool):
            raise ValueError(f"judge multiset must be true or false, got {self.multiset!r}")
        if self.kind == "checker":
            if not isinstance(self.code, str) or not self.code.strip():
                raise ValueError("a checker judge needs 'code' defining check(input, expected, got)")
            try:
                tree = astparse.parse(self.code)
            except (SyntaxError, ValueError) as e:
                raise ValueError(f"checker code does not compile: {e}") from None
            if not any(isinstance(n, ast.FunctionDef) and n.name == "check" for n in tree.body):
                raise ValueError("checker code must define check(input, expected, got)")

    def to_json(self) -> Any:
        """The contract form (inverse of ``parse``): the kind name alone when no option is set."""
        options = {f.name: getattr(self, f.name) for f in fields(self)
                   if f.name in _JUDGE_OPTIONS[self.kind] and getattr(self, f.name) != f.default}
        return {"kind": self.kind, **options} if options else self.kind


EXACT = Judge()


@dataclass(frozen=True)
class CodeTest:
    """Python test code run in the candidate's namespace."""

    code: str


@dataclass(frozen=True)
class StdioTest:
    """Run the candidate as a program with ``input`` on stdin; its stdout is judged by ``judge``
    against ``output`` (or any of ``alternatives``) outside the sandbox. ``output`` of ``None``
    means "no expectation": the cell only records the stdout (a PASS is then "it ran")."""

    input: str
    output: str | None
    judge: Judge = EXACT
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True)
class CallTest:
    """Call ``entry_point(*args, **kwargs)``; the parent judges the JSON result against ``expected``.

    ``args_json``/``kwargs_json``/``expected_json``/``alternatives_json`` hold canonical JSON so the
    spec stays hashable. ``expected_json`` of ``None`` means "no expectation": the cell only records
    the output (expected outputs computed from a reference solution; outputs clustered by S*).
    """

    args_json: str
    expected_json: str | None
    kwargs_json: str = "{}"
    judge: Judge = EXACT
    alternatives_json: tuple[str, ...] = ()

    @property
    def args(self) -> list:
        return json.loads(self.args_json)

    @property
    def kwargs(self) -> dict:
        return json.loads(self.kwargs_json)

    @property
    def expected(self) -> Any:
        return None if self.expected_json is None else json.loads(self.expected_json)


TestSpec = Union[CodeTest, StdioTest, CallTest]
TEST_TYPES = ("code", "stdio", "call")


def canonical_json(value: Any) -> str:
    """JSON with sorted keys; NaN/inf allowed (Python's json extensions)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _judging(obj: dict, kind: str, record_only: bool = False) -> tuple[Judge, list]:
    """The judge and the alternatives of a stdio/call test dict; a record-only test takes neither
    (there is nothing to judge against, so a judge given there would be silently ignored)."""
    if record_only:
        given = [name for name in ("judge", "alternatives") if name in obj]
        if given:
            raise ValueError(f"a record-only {kind} test (no expected {'output' if kind == 'stdio' else 'value'}) "
                             f"takes no {' or '.join(repr(g) for g in given)}")
        return EXACT, []
    for legacy in ("atol", "compare"):
        if legacy in obj:
            raise ValueError(f"{kind} test field {legacy!r} is replaced by 'judge', e.g. "
                             '{"judge": {"kind": "float", "atol": 1e-6}}')
    judge = Judge.parse(obj.get("judge", "exact"))
    alternatives = obj.get("alternatives", [])
    if not isinstance(alternatives, list):
        raise ValueError(f"{kind} test field 'alternatives' must be a list")
    if alternatives and judge.kind == "checker":
        raise ValueError("a test judged by a checker takes no 'alternatives' (the checker decides)")
    return judge, alternatives


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
        if not isinstance(obj.get("input"), str):
            raise ValueError("stdio test needs a string field 'input'")
        output = obj.get("output")
        if output is not None and not isinstance(output, str):
            raise ValueError("stdio test field 'output' must be a string (or absent: record the output only)")
        judge, alternatives = _judging(obj, "stdio", record_only=output is None)
        if not all(isinstance(a, str) for a in alternatives):
            raise ValueError("stdio test field 'alternatives' must hold strings")
        return StdioTest(obj["input"], output, judge, tuple(alternatives))
    if kind == "call":
        args, kwargs = obj.get("args"), obj.get("kwargs", {})
        if not isinstance(args, list):
            raise ValueError("call test needs a list field 'args'")
        if not isinstance(kwargs, dict) or not all(isinstance(k, str) and k.isidentifier() for k in kwargs):
            raise ValueError("call test field 'kwargs' must map argument names to values")
        record_only = "expected" not in obj  # an explicit null is an expectation: the call returns None
        judge, alternatives = _judging(obj, "call", record_only)
        expected = None if record_only else canonical_json(obj["expected"])
        return CallTest(canonical_json(args), expected, canonical_json(kwargs), judge,
                        tuple(canonical_json(a) for a in alternatives))
    raise ValueError(f"unknown test type {kind!r}; expected one of {', '.join(TEST_TYPES)}")


def test_to_json(test: TestSpec) -> Any:
    """The contract value of a spec (inverse of ``as_test``)."""
    if isinstance(test, CodeTest):
        return test.code
    if isinstance(test, StdioTest):
        out: dict = {"type": "stdio", "input": test.input}
        if test.output is not None:
            out["output"] = test.output
        alternatives: list = list(test.alternatives)
    else:
        out = {"type": "call", "args": test.args}
        if test.expected_json is not None:
            out["expected"] = test.expected
        if test.kwargs_json != "{}":
            out["kwargs"] = test.kwargs
        alternatives = [json.loads(a) for a in test.alternatives_json]
    if test.judge != EXACT:
        out["judge"] = test.judge.to_json()
    if alternatives:
        out["alternatives"] = alternatives
    return out
