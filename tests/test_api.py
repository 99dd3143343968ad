import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import coderm
from cli import codet_slice
from coderm.config import Config
from coderm.pipeline import shared_executor

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "coderm" / "examples" / "example.problems.jsonl"

ADD = "def add(a, b):\n    return a + b\n"
SUB = "def add(a, b):\n    return a - b\n"
MUL = "def add(a, b):\n    return a * b\n"
TESTS = ["assert add(1, 2) == 3", "assert add(2, 2) == 4", {"type": "call", "args": [0, 5], "expected": 5}]


def test_import_coderm_stays_light():
    code = "import sys, coderm; print(sorted(m for m in ('numpy', 'executor', 'multiprocess', 'tqdm') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_rerank_a_prompt_with_candidates_and_tests():
    r = coderm.rerank("def add(a, b): ...", [MUL, ADD, SUB, ADD], TESTS, entry_point="add", aggregator="passrate")
    assert r.scores == pytest.approx([1 / 3, 1.0, 0.0, 1.0])  # MUL: only 2*2 == 4; SUB: never
    assert r.ranking == [1, 3, 0, 2] and r.best == 1
    assert r.matrix.shape == (4, 3) and r.tests == TESTS
    assert r.matrix.status_names()[2] == ["FAIL", "FAIL", "FAIL"]


def test_rerank_a_problem_dict_and_arguments_override_it():
    problem = json.loads(EXAMPLE.read_text().splitlines()[0])
    r = coderm.rerank(problem, aggregator="passrate")
    assert r.scores == [1.0, 0.25, 1.0, 1.0, 0.5]
    only_first_test = coderm.rerank(problem, tests=problem["tests"][:1], aggregator="passrate")
    assert only_first_test.scores == [1.0, 0.0, 1.0, 1.0, 1.0]
    with pytest.raises(coderm.ValidationError, match="candidates\\[0\\]"):
        coderm.rerank("p", [3], ["assert True"])


def test_rerank_refuses_a_string_where_a_list_belongs():
    """list("assert ...") would make one test per character (all INVALID) and score 0.0 in silence."""
    with pytest.raises(TypeError, match="tests must be a list"):
        coderm.rerank("", [ADD], "assert add(1, 2) == 3", entry_point="add")
    with pytest.raises(TypeError, match="candidates must be a list"):
        coderm.rerank("", ADD, TESTS, entry_point="add")
    with pytest.raises(ValueError, match="must be a list"):
        coderm.score_batch([ADD], "assert add(1, 2) == 3", entry_points="add")


def test_rerank_mines_tests_when_none_are_given():
    problem = next(json.loads(line) for line in EXAMPLE.read_text().splitlines() if "tests" not in json.loads(line))
    r = coderm.rerank(problem, aggregator="passrate")
    assert len(r.tests) == 3 and r.scores == pytest.approx([1.0, 2 / 3, 1.0])  # lowercase-only misses "Apple"


def test_score_batch_rewards_in_order():
    rewards = coderm.score_batch([SUB, ADD, MUL], TESTS, entry_points="add")
    assert rewards == pytest.approx([0.0, 1.0, 1 / 3])
    per_candidate = coderm.score_batch([ADD, ADD, "print(int(input()) * 2)"],
                                       [TESTS[:1], TESTS[1:], [{"type": "stdio", "input": "4\n", "output": "8\n"}]],
                                       entry_points=["add", "add", None])
    assert per_candidate == [1.0, 1.0, 1.0]
    assert all(isinstance(x, float) for x in per_candidate)
    assert coderm.score_batch([], TESTS) == []
    with pytest.raises(ValueError, match="2 test lists"):
        coderm.score_batch([ADD], [TESTS, TESTS])
    assert coderm.score_batch(["```python\n" + ADD + "```"], TESTS, entry_points="add") == [1.0]  # a chat reply


def test_score_batch_groups_share_votes():
    # codet scores by agreement: within one group (same tests) the majority behaviour wins.
    rewards = coderm.score_batch([ADD, ADD, SUB, ADD, SUB], TESTS, entry_points="add", aggregator="codet")
    assert rewards[0] == rewards[1] == rewards[3] > rewards[2] == rewards[4]


def test_shared_executor_is_reused_until_its_settings_change():
    first = shared_executor(Config(cache=None).executor_config())
    assert shared_executor(Config(cache=None).executor_config()) is first
    coderm.rerank("p", [ADD], TESTS[:1], entry_point="add")
    assert shared_executor(Config(cache=None).executor_config()) is first
    other = shared_executor(Config(cache=None).with_overrides(timeout=1.5).executor_config())
    assert other is not first and other.config.timeout == 1.5
    coderm.close()


@pytest.mark.parametrize("aggregator", [None, "codet"])  # None: the default (consensus)
def test_rerank_loop_equals_coderm_score(tmp_path, shared_data, aggregator):
    src = codet_slice(shared_data, tmp_path / "he.jsonl", 2, 20)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    flags = ["--aggregator", aggregator] if aggregator else []
    cli = subprocess.run([sys.executable, "-m", "coderm", "score", "--problems", str(src), "--out", "s.jsonl", *flags,
                          "--quiet"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert cli.returncode == 0, cli.stderr
    scored = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    for line, expected in zip(src.read_text().splitlines(), scored):
        r = coderm.rerank(json.loads(line), aggregator=aggregator)
        assert (r.scores, r.ranking, r.best) == (expected["scores"], expected["ranking"], expected["best"])
