"""Test formats of code datasets, turned into contract tests judged outside the sandbox.

One place reads how datasets store their tests, for the loaders (``coderm convert``) and for the
ground truth RL samples carry (``coderm.rl.ground_truth.parse_tests``):

- APPS / TACO / PRIME ``{"inputs", "outputs", "fn_name"?}``: stdin/stdout pairs (strings or lists
  of lines), or with ``fn_name`` argument lists and return values (call tests);
- test cases ``{"input", "output", "testtype"?}``: LiveCodeBench (one JSON value per input line)
  and LeetCode (``nums = [2,7,11,15], target = 9``: keyword arguments) functional cases become call
  tests, stdin cases stdio tests;
- CodeContests ``public_tests`` / ``private_tests`` / ``generated_tests`` (``{"input": [...],
  "output": [...]}``): stdio tests.

Functional problems name their function as ``f``, ``Solution().f`` or ``Solution.f``: the entry
point is ``f``, and a program that defines it only as a method of ``class Solution`` is called on
a fresh instance (``coderm.extract.callable_entry``).
"""
from __future__ import annotations

import ast
import json
from typing import Any

from executor import Judge, astparse

CODECONTESTS_FIELDS = ("public_tests", "private_tests", "generated_tests")
_LITERAL_NAMES = {"null": None, "true": True, "false": False}  # LeetCode writes JSON words in Python syntax


class FormatError(ValueError):
    """Tests in a dataset's format that cannot be read; the message names the field."""


def entry_name(name: Any) -> str | None:
    """The function under test: ``Solution().twoSum`` and ``Solution.twoSum`` name ``twoSum``."""
    if name is None or name == "":
        return None
    if not isinstance(name, str):
        raise FormatError(f"a function name must be a string, got {type(name).__name__}")
    name = name.strip().rsplit(".", 1)[-1]
    if not name.isidentifier():
        raise FormatError(f"{name!r} is not a function name")
    return name


def _text(value: Any) -> str:
    """An APPS input or output: a string, or a list of lines."""
    if isinstance(value, list):
        return "\n".join(map(str, value))
    return value if isinstance(value, str) else str(value)


def io_tests(inputs: Any, outputs: Any, fn_name: str | None = None) -> list[dict]:
    """APPS/TACO ``inputs``/``outputs``: stdio tests, or call tests of ``fn_name``.

    APPS wraps a return value in a one-element list and its checker accepts the value wrapped or
    not, so such a test expects the value and lists the wrapped one as an alternative."""
    if not isinstance(inputs, list) or not isinstance(outputs, list) or len(inputs) != len(outputs):
        raise FormatError("'inputs' and 'outputs' must be lists of the same length")
    if fn_name is None:
        return [{"type": "stdio", "input": _text(i), "output": _text(o)} for i, o in zip(inputs, outputs)]
    tests = []
    for args, out in zip(inputs, outputs):
        test = {"type": "call", "args": args if isinstance(args, list) else [args], "expected": out}
        if isinstance(out, list) and len(out) == 1:
            test.update(expected=out[0], alternatives=[out])
        tests.append(test)
    return tests


def literal(text: str) -> Any:
    """A value written as JSON or as a Python literal (LeetCode's ``null``/``true`` allowed)."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return _literal_node(astparse.parse(text.strip(), mode="eval").body)
    except (SyntaxError, ValueError, RecursionError) as e:
        raise FormatError(f"not a JSON or Python literal: {text[:80]!r}") from e


def _literal_node(node: ast.AST) -> Any:
    if isinstance(node, ast.Name) and node.id in _LITERAL_NAMES:
        return _LITERAL_NAMES[node.id]
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal_node(x) for x in node.elts]
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {_literal_node(k): _literal_node(v) for k, v in zip(node.keys, node.values)}  # type: ignore[arg-type]
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        raise FormatError(f"not a literal value: {ast.unparse(node)[:80]!r}") from None
    if isinstance(value, (set, frozenset, complex, bytes)):
        raise FormatError(f"a {type(value).__name__} literal is not JSON data")
    return value


def call_arguments(text: str) -> tuple[list, dict]:
    """(args, kwargs) of a functional case input: one JSON value per line (LiveCodeBench) or
    ``name = value, ...`` (LeetCode)."""
    lines = [line for line in text.split("\n") if line.strip()]
    try:
        return [json.loads(line) for line in lines], {}
    except ValueError:
        pass
    error = f"input is neither JSON lines nor 'name = value' arguments: {text[:80]!r}"
    try:
        call = astparse.parse(f"f({', '.join(lines)})", mode="eval").body
    except (SyntaxError, ValueError, RecursionError):
        raise FormatError(error) from None
    if not isinstance(call, ast.Call) or any(k.arg is None for k in call.keywords):
        raise FormatError(error)
    return [_literal_node(a) for a in call.args], {k.arg: _literal_node(k.value) for k in call.keywords}


def case_test(case: Any, fn_name: str | None) -> dict:
    """One ``{"input", "output", "testtype"?}`` case: a call test of ``fn_name`` when functional
    (``testtype: functional``, or any case of a problem with a function name), else stdio."""
    if not isinstance(case, dict) or not isinstance(case.get("input"), str) or not isinstance(case.get("output"), str):
        raise FormatError("a test case needs string fields 'input' and 'output'")
    kind = case.get("testtype", "functional" if fn_name else "stdin")
    if kind == "stdin":
        return {"type": "stdio", "input": case["input"], "output": case["output"]}
    if kind != "functional":
        raise FormatError(f"unknown testtype {kind!r}; expected stdin or functional")
    if fn_name is None:
        raise FormatError("a functional test case needs a function name (func_name / fn_name / entry_point)")
    args, kwargs = call_arguments(case["input"])
    test = {"type": "call", "args": args, "expected": literal(case["output"])}
    if kwargs:
        test["kwargs"] = kwargs
    return test


def split_tests(value: Any, name: str) -> list[dict]:
    """A CodeContests split ``{"input": [...], "output": [...]}`` as stdio tests."""
    if not isinstance(value, dict) or not isinstance(value.get("input"), list) or not isinstance(value.get("output"), list):
        raise FormatError(f"{name!r} must be an object with lists 'input' and 'output'")
    if len(value["input"]) != len(value["output"]):
        raise FormatError(f"{name!r} has {len(value['input'])} inputs and {len(value['output'])} outputs")
    return [{"type": "stdio", "input": i, "output": o} for i, o in zip(value["input"], value["output"])]


def with_judge(tests: list, judge: Any) -> list:
    """A problem-level judge given to each stdio/call test that names none of its own (a checker
    replaces the alternatives: it decides alone)."""
    try:
        checker = Judge.parse(judge).kind == "checker"
    except ValueError as e:
        raise FormatError(f"'judge': {e}") from None
    out = []
    for test in tests:
        if isinstance(test, dict) and test.get("type") in ("stdio", "call") and "judge" not in test:
            test = {**test, "judge": judge}
            if checker:
                test.pop("alternatives", None)
        out.append(test)
    return out


def function_of(case: Any) -> str | None:
    """The function name a LiveCodeBench case carries in its ``metadata``."""
    metadata = case.get("metadata") if isinstance(case, dict) else None
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata) if metadata.strip() else {}
        except ValueError:
            raise FormatError("a test case's 'metadata' is not valid JSON") from None
    return entry_name(metadata.get("func_name")) if isinstance(metadata, dict) else None


__all__ = ["CODECONTESTS_FIELDS", "FormatError", "call_arguments", "case_test", "entry_name",
           "function_of", "io_tests", "literal", "split_tests", "with_judge"]
