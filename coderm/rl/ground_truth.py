"""Turn the ground truth a training framework carries per sample into coderm tests.

Datasets store tests in many shapes (a JSON string in a parquet column for verl, a list in a HF
dataset column for TRL, a label string for OpenRLHF; APPS, LiveCodeBench, LeetCode, CodeContests,
HumanEval/MBPP layouts). One parser accepts them all, through the formats the loaders use
(``coderm.formats``), so every adapter reads tests the same way and a malformed one fails with a
message, not a traceback.
"""
from __future__ import annotations

import json
from typing import Any

from coderm.formats import (CODECONTESTS_FIELDS, FormatError, case_test, entry_name, function_of, io_tests,
                            split_tests, with_judge)
from executor import as_test
from executor.languages import PYTHON, canonical

# Keys that make an object one sample's whole ground truth (not a single test).
GROUND_TRUTH_KEYS = frozenset({"tests", "inputs", "input_output", "test", "test_list", *CODECONTESTS_FIELDS})


class GroundTruthError(ValueError):
    """A sample's tests cannot be read."""


def parse_tests(ground_truth: Any) -> tuple[list[Any], str | None]:
    """(tests, entry_point or None) from any accepted shape, or its JSON text:

    - a list of tests (assert code strings, ``{"type": "stdio"|"call", ...}`` objects) and/or test
      cases ``{"input", "output", "testtype"?, "metadata"?: {"func_name"}}`` (LiveCodeBench, LeetCode);
    - ``{"tests": [...], "entry_point": "f"}``;
    - APPS/TACO ``{"inputs", "outputs", "fn_name"?}``, also under ``input_output``;
    - CodeContests ``{"public_tests"?, "private_tests"?, "generated_tests"?}``;
    - HumanEval ``{"test": "def check(candidate): ...", "entry_point"}``, MBPP ``{"test_list", "test_setup_code"?}``;
    - a plain string of test code (one test).

    An object may add ``"judge"`` (see ``executor.Judge``) for its stdio/call tests that name none;
    the function may be named ``entry_point``, ``fn_name`` or ``func_name``, as ``f`` or ``Solution().f``.
    """
    return _tests_of(_decoded(ground_truth))


def read_ground_truth(ground_truth: Any) -> tuple[list[Any], str | None, str]:
    """``parse_tests`` and the language the sample's code is in: an object's ``"language"`` key
    (``executor.languages``, any alias), else Python."""
    value = _decoded(ground_truth)
    tests, entry_point = _tests_of(value)
    try:
        language = canonical(value.get("language") or PYTHON) if isinstance(value, dict) else PYTHON
    except ValueError as e:
        raise GroundTruthError(str(e)) from None
    return tests, entry_point, language


def _decoded(ground_truth: Any) -> Any:
    """The ground truth as plain Python, its JSON text decoded (other text stays text: one test)."""
    value = _plain(ground_truth)
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        return _json(value.strip())
    return value


def _tests_of(value: Any) -> tuple[list[Any], str | None]:
    if isinstance(value, str):
        return ([value] if value.strip() else []), None
    try:
        if isinstance(value, dict):
            tests, entry_point = _from_object(value)
        elif isinstance(value, list):
            tests, entry_point = _from_list(value, None)
        else:
            raise GroundTruthError(f"tests must be a list, got {type(value).__name__}")
    except FormatError as e:
        raise GroundTruthError(str(e)) from None
    for k, test in enumerate(tests):
        try:
            as_test(test)
        except (TypeError, ValueError, KeyError) as e:
            raise GroundTruthError(f"test {k} is invalid: {e}") from None
    return tests, entry_point


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise GroundTruthError(f"tests look like JSON but do not parse: {e}") from None


def _function(obj: dict) -> str | None:
    names = [obj[k] for k in ("entry_point", "fn_name", "func_name") if obj.get(k)]
    return entry_name(names[0]) if names else None


def _from_list(items: list, fn_name: str | None) -> tuple[list, str | None]:
    """Contract tests kept as they are; test cases converted (their metadata may name the function)."""
    tests = []
    for item in items:
        if isinstance(item, dict) and "type" not in item and "input" in item and "output" in item:
            fn_name = function_of(item) or fn_name
            item = case_test(item, fn_name)
        tests.append(item)
    return tests, fn_name


def _from_object(obj: dict) -> tuple[list, str | None]:
    fn_name = _function(obj)
    if "input_output" in obj:  # an APPS/TACO record, its test field often JSON text
        inner = _plain(obj["input_output"])
        inner = _json(inner) if isinstance(inner, str) else inner
        if not isinstance(inner, dict):
            raise GroundTruthError("'input_output' must be an object with 'inputs' and 'outputs'")
        tests, fn_name = _from_object({**inner, **{k: v for k, v in obj.items() if k != "input_output"}})
    elif "tests" in obj:
        tests, fn_name = _from_list(_as_list(obj["tests"], "tests"), fn_name)
    elif "inputs" in obj and "outputs" in obj:
        tests = io_tests(obj["inputs"], obj["outputs"], fn_name)
    elif any(k in obj for k in CODECONTESTS_FIELDS):
        tests = [t for k in CODECONTESTS_FIELDS if obj.get(k) is not None for t in split_tests(obj[k], k)]
    elif isinstance(obj.get("test"), str):
        tests = [obj["test"]]
    elif "test_list" in obj:
        setup = obj.get("test_setup_code") or ""
        tests = [f"{setup}\n{t}" if setup else t for t in _as_list(obj["test_list"], "test_list")]
    else:
        raise GroundTruthError(f"a tests object needs one of {', '.join(sorted(GROUND_TRUTH_KEYS))}; got keys {sorted(obj)}")
    if obj.get("judge") is not None:
        tests = with_judge(tests, obj["judge"])
    return tests, fn_name


def _as_list(value: Any, name: str) -> list:
    if not isinstance(value, list):
        raise GroundTruthError(f"{name!r} must be a list, got {type(value).__name__}")
    return value


def per_sample(tests: Any, n: int) -> list[Any]:
    """Each of ``n`` samples' ground truth, from one test list shared by all of them or from one
    ground truth per sample (a list of tests, a ground-truth object, or its JSON text).

    A list is per sample when every entry is such a ground truth, shared when none is (plain test
    strings, ``{"type": ...}`` objects and test cases); a mix is refused as ambiguous.
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
        return not GROUND_TRUTH_KEYS.isdisjoint(entry)
    return isinstance(entry, str) and entry.strip()[:1] in ("[", "{")


def _plain(x: Any) -> Any:
    """numpy arrays (how parquet list columns come back in verl) -> Python lists, bytes -> text, recursively."""
    if isinstance(x, (bytes, bytearray)):
        return x.decode()
    if hasattr(x, "tolist") and not isinstance(x, str):
        return _plain(x.tolist())
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x
