import json
from pathlib import Path

import pytest

from coderm.model import Problem, ScoreResult, ValidationError

EXAMPLE = Path(__file__).resolve().parents[1] / "coderm" / "examples" / "example.problems.jsonl"


def example_objects() -> list[dict]:
    return [json.loads(line) for line in EXAMPLE.read_text().splitlines()]


def test_example_problems_round_trip():
    objs = example_objects()
    assert len(objs) >= 4
    for obj in objs:
        assert Problem.from_json(obj).to_json() == obj
    kinds = {p["entry_point"] is None for p in objs}
    assert kinds == {True, False}, "the example has function and stdin/stdout problems"


def good() -> dict:
    return {"task_id": "t", "prompt": "p", "entry_point": "f", "candidates": ["def f(): return 1", "x"],
            "tests": ["assert f() == 1", {"type": "call", "args": [], "expected": 1}], "labels": [True, False]}


@pytest.mark.parametrize("change, field, words", [
    ({"candidates": None}, "candidates", "missing"),
    ({"task_id": 7}, "task_id", "must be a string"),
    ({"candidates": ["ok", 3]}, "candidates[1]", "must be a string"),
    ({"candidates": "def f(): pass"}, "candidates", "list of strings"),
    ({"tests": ["assert 1", {"type": "shell", "cmd": "ls"}]}, "tests[1]", "unknown test type"),
    ({"tests": [{"type": "stdio", "input": "1", "output": 3}]}, "tests[0]", "output"),  # absent: record-only
    ({"labels": [True]}, "labels", "1 entries for 2 candidates"),
    ({"labels": [True, "yes"]}, "labels[1]", "true or false"),
    ({"entry_point": None}, "entry_point", "call test"),
    ({"meta": []}, "meta", "an object"),
])
def test_invalid_fields_are_named(change, field, words):
    obj = good()
    for key, value in change.items():
        if value is None and key == "candidates":
            del obj[key]
        else:
            obj[key] = value
    with pytest.raises(ValidationError) as info:
        Problem.from_json(obj)
    assert info.value.field == field
    assert words in str(info.value)


def test_optional_fields_default():
    p = Problem.from_json({"task_id": "t", "prompt": "", "candidates": []})
    assert (p.entry_point, p.tests, p.labels, p.meta) == (None, None, None, {})


def test_validation_error_names_file_line_and_field():
    with pytest.raises(ValidationError) as info:
        Problem.from_json({"task_id": "t", "prompt": "p"})
    located = info.value.located("problems.jsonl", 12)
    assert str(located) == "problems.jsonl:12: field 'candidates': missing required field"
    assert str(ValidationError("not a JSON object")) == "not a JSON object"


def test_score_result_round_trip_and_checks():
    line = {"task_id": "HumanEval/0", "scores": [0.93, 0.0], "ranking": [0, 1], "best": 0, "n_tests": 57,
            "stats": {"executed_pairs": 4100, "seconds": 1.7}}
    assert ScoreResult.from_json(line).to_json() == line
    assert list(ScoreResult.from_json(line).to_json()) == ["task_id", "scores", "ranking", "best", "n_tests", "stats"]
    empty = {"task_id": "e", "scores": [], "ranking": [], "best": None, "n_tests": 0, "stats": {}}
    assert ScoreResult.from_json(empty).best is None
    for bad, field in (({"ranking": [0, 0]}, "ranking"), ({"best": 1}, "best"), ({"scores": [1.0, "x"]}, "scores[1]"),
                       ({"scores": [float("nan"), 0.0]}, "scores[0]")):
        with pytest.raises(ValidationError) as info:
            ScoreResult.from_json({**line, **bad})
        assert info.value.field == field
