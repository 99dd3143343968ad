"""generate_tests around a stand-in model (a Backend answering canned text): dedupe, provenance,
cache, failure isolation; prompts and candidate choice on real HumanEval problems."""
import gzip
import json
from collections import Counter

import pytest

from coderm.generate import GeneratorConfig, GeneratorError, build_request, choose_candidate, generate_tests
from coderm.generate.backends import Completion, PromptResult
from coderm.generate.prompts import normalized_ast

TEST_A = "```python\nimport unittest\nclass T(unittest.TestCase):\n    def test_a(self):\n        self.assertEqual(add(1, 2), 3)\n```"
TEST_A_REFORMATTED = "```python\nimport unittest\n\n\nclass T(unittest.TestCase):\n    # same test, other layout\n    def test_a(self):\n        self.assertEqual(add(1,2), 3)\n```"
TEST_B = "```python\nassert add(2, 2) == 4\n```"
ADD = {"task_id": "t/add", "prompt": "def add(a, b):\n", "entry_point": "add", "candidates": ["def add(a, b):\n    return a + b\n"]}
SUB = {"task_id": "t/sub", "prompt": "def sub(a, b):\n", "entry_point": "sub", "candidates": []}


class CannedModel:
    """A stand-in model: fixed completions per task, or an error for tasks listed in ``fail``."""

    def __init__(self, answers, fail=()):
        self.answers, self.fail, self.seen = answers, fail, []

    def generate(self, requests):
        self.seen += [r.task_id for r in requests]
        return [PromptResult(error="unreachable: test") if r.task_id in self.fail else
                PromptResult([Completion(t, 10, "stop") for t in self.answers[r.task_id]]) for r in requests]


CONFIG = {"backend": "openai", "model": "canned", "n": 4}


def test_dedupe_by_normalized_ast_and_provenance():
    model = CannedModel({"t/add": [TEST_A, "no code here", TEST_A_REFORMATTED, TEST_B]})
    out = generate_tests([ADD], CONFIG, backend=model)
    assert len(out["t/add"]) == 2 and out.report.duplicates == 1
    assert [(p.sample_index, p.model) for p in out.provenance["t/add"]] == [(0, "canned"), (3, "canned")]
    assert out.provenance["t/add"][0].prompt_hash == build_request(ADD, GeneratorConfig.from_dict(CONFIG)).key
    assert out.report.drops == Counter(no_code=1) and out.report.extraction_yield == 0.75
    assert out.report.completion_tokens == 40


def test_failed_prompt_does_not_cost_other_problems_their_tests(tmp_path):
    model = CannedModel({"t/add": [TEST_A], "t/sub": []}, fail={"t/sub"})
    out = generate_tests([ADD, SUB], CONFIG, cache_dir=str(tmp_path), backend=model)
    assert len(out["t/add"]) == 1 and out["t/sub"] == []
    assert out.report.drops["unreachable"] == 1 and out.report.prompts_failed == 1
    # the rerun asks the model only for the prompt that failed
    retry = CannedModel({"t/sub": ["```python\nassert sub(3, 1) == 2\n```"]})
    again = generate_tests([ADD, SUB], CONFIG, cache_dir=str(tmp_path), backend=retry)
    assert retry.seen == ["t/sub"] and again["t/add"] == out["t/add"] and len(again["t/sub"]) == 1


def test_cache_is_keyed_by_sampling_parameters(tmp_path):
    generate_tests([ADD], CONFIG, cache_dir=str(tmp_path), backend=CannedModel({"t/add": [TEST_A]}))
    hotter = CannedModel({"t/add": [TEST_B]})
    out = generate_tests([ADD], {**CONFIG, "temperature": 1.0}, cache_dir=str(tmp_path), backend=hotter)
    assert hotter.seen == ["t/add"] and "add(2, 2)" in out["t/add"][0]


def test_bad_config_and_problems_name_the_field():
    with pytest.raises(GeneratorError, match="generator.top_p"):
        generate_tests([ADD], {"top_p": 0})
    with pytest.raises(GeneratorError, match="unknown field.*temprature"):
        generate_tests([ADD], {"temprature": 0.5})
    with pytest.raises(GeneratorError, match="generator.n: expected int"):
        generate_tests([ADD], {"n": "many"})
    with pytest.raises(ValueError, match="duplicate task_id"):
        generate_tests([ADD, ADD], CONFIG, backend=CannedModel({}))


@pytest.fixture(scope="module")
def humaneval(shared_data):
    with gzip.open(shared_data / "codet" / "humaneval_codegen16b.problems.jsonl.gz", "rt") as f:
        return [json.loads(next(f)) for _ in range(5)]


def test_candidate_choice_on_real_problems(humaneval):
    problem = humaneval[0]
    assert choose_candidate(problem, "first") == problem["candidates"][0]
    assert choose_candidate(problem, "none") is None
    assert choose_candidate(problem, "random", seed=1) == choose_candidate(problem, "random", seed=1)
    common = choose_candidate(problem, "common")
    counts = Counter(normalized_ast(c) for c in problem["candidates"] if normalized_ast(c))
    assert counts[normalized_ast(common)] == max(counts.values()) > 1


def test_prompts_on_real_problems(humaneval):
    problem = humaneval[0]
    generic = build_request(problem, GeneratorConfig.from_dict({"prompt": "unittest", "show_candidate": "common"}))
    assert generic.chat and generic.completion_prefix == ""
    assert "### question" in generic.text and "unittest" in generic.text and problem["prompt"].strip() in generic.text
    assert "### code solution" in generic.text and choose_candidate(problem, "common").strip() in generic.text
    bare = build_request(problem, GeneratorConfig.from_dict({"prompt": "unittest", "show_candidate": "none"}))
    assert "### code solution" not in bare.text and bare.key != generic.key
    # the generic style's old name keeps old configs (and their cached generations) working
    renamed = build_request(problem, GeneratorConfig.from_dict({"prompt": "coderm", "show_candidate": "common"}))
    assert renamed == generic
    codet = build_request(problem, GeneratorConfig.from_dict({"prompt": "codet"}))
    assert not codet.chat and codet.completion_prefix == "assert"
    assert codet.text.endswith(f"# check the correctness of {problem['entry_point']}\nassert")
