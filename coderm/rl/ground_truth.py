"""Turn the ground truth a training framework carries per sample into coderm tests.

Datasets store tests in several shapes (a JSON string in a parquet column for verl, a list in a
HF dataset column for TRL, a label string for OpenRLHF). One parser accepts them all so every
adapter reads tests the same way and a malformed one fails with a message, not a traceback.
"""
from __future__ import annotations

import json
from typing import Any

from executor import as_test


class GroundTruthError(ValueError):
    """A sample's tests cannot be read."""


def parse_tests(ground_truth: Any) -> tuple[list[Any], str | None]:
    """(tests, entry_point or None) from any accepted shape.

    Accepted: a list of tests (assert code strings, ``{"type": "stdio"|"call", ...}`` objects);
    ``{"tests": [...], "entry_point": "f"}``; APPS/prime_code style ``{"inputs": [...],
    "outputs": [...]}`` (stdin/stdout pairs); a JSON string of any of these; or a plain string of
    test code (one test).
    """
    value = _plain(ground_truth)
    if isinstance(value, (bytes, bytearray)):
        value = value.decode()
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("[", "{"):
            try:
                value = json.loads(stripped)
            except json.JSONDecodeError as e:
                raise GroundTruthError(f"tests look like JSON but do not parse: {e}") from None
        else:
            return ([value] if stripped else []), None
    entry_point = None
    if isinstance(value, dict):
        if "tests" in value:
            entry_point = value.get("entry_point")
            if entry_point is not None and not isinstance(entry_point, str):
                raise GroundTruthError("'entry_point' must be a string or null")
            value = value["tests"]
        elif "inputs" in value and "outputs" in value:
            if value.get("fn_name"):
                raise GroundTruthError("APPS-style tests with 'fn_name' are not supported; give call tests instead")
            inputs, outputs = value["inputs"], value["outputs"]
            if not isinstance(inputs, list) or not isinstance(outputs, list) or len(inputs) != len(outputs):
                raise GroundTruthError("'inputs' and 'outputs' must be lists of the same length")
            value = [{"type": "stdio", "input": _text(i), "output": _text(o)} for i, o in zip(inputs, outputs)]
        else:
            raise GroundTruthError(f"a tests object needs 'tests' or 'inputs'/'outputs'; got keys {sorted(value)}")
    if not isinstance(value, list):
        raise GroundTruthError(f"tests must be a list, got {type(value).__name__}")
    for k, test in enumerate(value):
        try:
            as_test(test)
        except (TypeError, ValueError, KeyError) as e:
            raise GroundTruthError(f"test {k} is invalid: {e}") from None
    return value, entry_point


def per_sample(tests: Any, n: int) -> list[Any]:
    """Each of ``n`` samples' ground truth, from one test list shared by all of them or from one
    ground truth per sample (a list of tests, a ``{"tests"|"inputs": ...}`` object, or its JSON text).

    A list is per sample when every entry is such a ground truth, shared when none is (plain test
    strings and ``{"type": ...}`` objects); a mix is refused as ambiguous.
    """
    tests = _plain(tests)
    if not isinstance(tests, list):
        raise GroundTruthError(f"tests must be a list, got {type(tests).__name__}")
    whole = [_is_ground_truth(t) for t in tests]
    if tests and all(whole):
        if len(tests) != n:
            raise GroundTruthError(f"got {n} completions and {len(tests)} test lists")
        return tests
    if any(whole):
        raise GroundTruthError("tests mix per-sample lists with single tests; give one list shared by every "
                               "completion or one list per completion")
    return [tests] * n


def _is_ground_truth(entry: Any) -> bool:
    if isinstance(entry, (list, tuple)):
        return True
    if isinstance(entry, dict):
        return "tests" in entry or "inputs" in entry
    return isinstance(entry, str) and entry.strip()[:1] in ("[", "{")


def _plain(x: Any) -> Any:
    """numpy arrays (how parquet list columns come back in verl) -> Python lists, recursively."""
    if hasattr(x, "tolist") and not isinstance(x, (str, bytes, bytearray)):
        return _plain(x.tolist())
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


def _text(x: Any) -> str:
    if isinstance(x, list):  # some APPS dumps store lines as a list
        return "\n".join(map(str, x))
    return x if isinstance(x, str) else str(x)
