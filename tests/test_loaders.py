"""Loaders against the real data in ../shared/data, run through the executor where it matters."""
import base64
import gzip
import itertools
import json
import pickle
import zlib

import pytest

from coderm import loaders
from coderm.loaders import LoaderError, load
from coderm.extract import callable_entry
from coderm.analysis import parse
from executor import Executor, ExecutorConfig, Job

CONTRACT_KEYS = {"task_id", "prompt", "entry_point", "candidates", "tests", "meta"}


def passed_rows(problem):
    candidates = [callable_entry(c, problem["entry_point"]) for c in problem["candidates"]]
    with Executor(ExecutorConfig(workers=2, timeout=5.0, cache_path=None)) as ex:
        m = ex.run(candidates, problem["tests"], problem["entry_point"])
    return m.passed


def check_contract(problem):
    assert CONTRACT_KEYS <= set(problem) <= CONTRACT_KEYS | {"labels"}
    assert isinstance(problem["task_id"], str) and isinstance(problem["prompt"], str)
    assert all(isinstance(c, str) for c in problem["candidates"])
    if "labels" in problem:
        assert len(problem["labels"]) == len(problem["candidates"])
    json.dumps(problem)  # one JSONL line


def test_registry_names_and_errors():
    assert set(loaders.NAMES) == {"humaneval", "humanevalplus", "mbppplus", "mbpp", "codet", "ldb", "stdio", "livecodebench",
                                  "apps", "codecontests"}
    with pytest.raises(LoaderError, match="unknown dataset 'nope'"):
        load("nope")
    with pytest.raises(LoaderError, match="no option"):
        load("ldb", inputs="x.jsonl", plus=False)


def test_humaneval_canonical_passes_official_test(shared_data):
    problems = list(load("humaneval", inputs=str(shared_data / "humaneval/HumanEval.jsonl.gz")))
    assert len(problems) == 164 and problems[0]["task_id"] == "HumanEval/0"
    for p in problems:
        check_contract(p)
    p = problems[2]
    assert p["entry_point"] == "truncate_number" and "def check(candidate)" in p["tests"][0]
    assert p["candidates"][0].startswith(p["prompt"]) and p["labels"] == [True]
    assert passed_rows(p).all()


def test_humaneval_samples_joined_with_prompt(shared_data, tmp_path):
    samples = tmp_path / "samples.jsonl"
    rows = [{"task_id": "HumanEval/2", "completion": "    return number % 1.0\n", "passed": True},
            {"task_id": "HumanEval/2", "completion": "    return number\n", "passed": False}]
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    problems = load("humaneval", inputs=str(shared_data / "humaneval/HumanEval.jsonl.gz"), samples=str(samples))
    p = next(itertools.islice(problems, 2, None))
    assert p["candidates"] == [p["prompt"] + r["completion"] for r in rows]
    assert p["labels"] == [True, False]
    assert passed_rows(p)[:, 0].tolist() == [True, False]
    samples.write_text(json.dumps({"task_id": "HumanEval/999", "completion": "x"}) + "\n")
    with pytest.raises(LoaderError, match="HumanEval/999"):
        list(load("humaneval", inputs=str(shared_data / "humaneval/HumanEval.jsonl.gz"), samples=str(samples)))


def test_humanevalplus_expected_outputs_from_canonical(shared_data):
    path = str(shared_data / "humaneval/HumanEvalPlus-v0.1.0.jsonl.gz")
    problems = list(itertools.islice(load("humanevalplus", inputs=path, max_inputs=6), 3))
    p = problems[0]
    check_contract(p)
    assert p["task_id"] == "HumanEval/0" and p["meta"]["n_inputs"] == 6
    assert p["tests"][0] == {"type": "call", "args": [[1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3], "expected": True}
    assert len(p["tests"]) + p["meta"]["dropped_inputs"] == 6
    wrong = p["prompt"] + "    return True\n"
    p["candidates"].append(wrong)
    rows = passed_rows(p)
    assert rows[0].all() and not rows[1].all()
    base = next(load("humanevalplus", inputs=path, plus=False))
    with gzip.open(path, "rt") as f:
        assert len(base["tests"]) == len(json.loads(f.readline())["base_input"])


def test_mbppplus_tuple_results_recorded(shared_data):
    path = str(shared_data / "mbpp/MbppPlus-prerelease-767efcc.jsonl.gz")
    p = next(load("mbppplus", inputs=path, max_inputs=4))
    assert p["task_id"] == "Mbpp/2" and p["entry_point"] == "similar_elements"
    # the reference returns a tuple; JSON records it as a list, which call tests treat alike
    assert sorted(p["tests"][0]["expected"]) == [4, 5]
    assert passed_rows(p).all()
    tiny = next(load("mbppplus", inputs=path, max_inputs=4, max_output_chars=3))  # "[4,5]" is 5 chars
    assert [t["expected"] for t in tiny["tests"]] == [[]]  # only the plus input ([], []) -> () is that small
    assert tiny["meta"]["dropped_inputs"] == 3


def test_mbpp_sanitized_reindents_canonical_bodies(shared_data):
    problems = list(load("mbpp", inputs=str(shared_data / "mbpp/mbpp_sanitized_for_code_generation.jsonl.gz")))
    assert len(problems) == 427
    assert sum(parse(p["candidates"][0]) is not None for p in problems) >= 420  # raw prompt+body: only 184
    sample = [p for p in problems if p["task_id"] in ("MbppEval/2", "MbppEval/8")]
    for p in sample:
        check_contract(p)
        assert passed_rows(p).all(), p["task_id"]


def test_codet_reproduces_ready_file(shared_data):
    d = shared_data / "codet"
    problems = list(load(
        "codet",
        solutions=str(d / "HumanEval_codegen16B_temp0.8_topp0.95_num100_max300_code_solution.jsonl.gz"),
        test_cases=str(d / "HumanEval_codegen16B_temp0.8_topp0.95_num100_max300_test_case.jsonl.gz"),
        problems=str(d / "HumanEval_for_code_generation.jsonl.gz"),
        labels=str(d / "humaneval_codegen16b_labels.json"),
    ))
    with gzip.open(d / "humaneval_codegen16b.problems.jsonl.gz", "rt") as f:
        ready = [json.loads(line) for line in f]
    assert len(problems) == len(ready) == 164
    for mine, theirs in zip(problems, ready):
        assert mine.pop("meta")["dataset"] == "codet"
        assert mine == theirs, mine["task_id"]


def test_codet_rejects_unmatched_prompt(shared_data, tmp_path):
    d = shared_data / "codet"
    bad = tmp_path / "solutions.jsonl"
    bad.write_text(json.dumps({"prompt": "def nothing():\n", "samples": ["  pass"]}) + "\n")
    with pytest.raises(LoaderError, match=r"solutions.jsonl:1: prompt matches no problem"):
        list(load("codet", solutions=str(bad), problems=str(d / "HumanEval_for_code_generation.jsonl.gz")))


def test_ldb_pools_models_with_labels(shared_data):
    files = sorted(str(p) for p in (shared_data / "ldb").glob("humaneval__seed__*__seed.jsonl.gz"))
    problems = list(load("ldb", inputs=files))
    assert len(problems) == 164 and [p["task_id"] for p in problems[:3]] == ["HumanEval/0", "HumanEval/1", "HumanEval/2"]
    assert problems[0]["meta"]["models"] == ["codellama", "gpt-3.5-turbo-0613", "gpt-4-1106-preview", "reflexion", "starcoder"]
    assert sum(sum(p["labels"]) for p in problems) == 81 + 121 + 143 + 150 + 64  # is_solved per seed file
    assert all(len(p["candidates"]) == 5 and p["tests"] for p in problems)
    assert all(parse(c) is not None for p in problems for c in p["candidates"])  # Reflexion bodies joined with the prompt
    p = problems[0]
    check_contract(p)
    assert p["tests"] == ["assert has_close_elements([1.0, 2.0, 3.0], 0.5) == False",
                          "assert has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3) == True"]
    assert passed_rows(p).all()


def test_stdio_codecontests_with_candidates(shared_data):
    d = shared_data / "stdio"
    problems = list(load("stdio", inputs=str(d / "codecontests31_problems.jsonl.gz"),
                         samples=str(d / "codecontests31_candidates_qwen.jsonl.gz")))
    assert len(problems) == 31
    assert sum(len(p["candidates"]) for p in problems) == 223
    assert sum(sum(p["labels"]) for p in problems) == 64
    p = problems[0]
    check_contract(p)
    assert p["entry_point"] is None and p["tests"][0]["type"] == "stdio" and p["meta"]["public_tests"]
    solved = p["labels"].index(True)
    small = dict(p, candidates=[p["candidates"][solved]], tests=p["tests"][:3])
    assert passed_rows(small).all()


def test_stdio_sandboxfusion_formats(shared_data):
    d = shared_data / "stdio"
    contests = list(load("stdio", inputs=str(d / "code_eval_code_contests.jsonl")))
    assert len(contests) == 20 and contests[0]["tests"][0]["output"] == "0\n1\n2\n"
    assert contests[0]["meta"]["labels"]["source"] == "CODECHEF"
    assert all("language" not in p for p in contests)  # the file names none: Python, the default
    mbpp = list(load("stdio", inputs=str(d / "code_eval_mbpp.jsonl")))
    assert [p["entry_point"] for p in mbpp[:3]] == ["remove_Occ", "sort_matrix", "count_common"]


def test_sandboxfusion_reference_solutions_pass_their_tests(shared_data):
    """SandboxFusion's MBPP samples hold their reference solutions (Python; its contest samples hold
    none): each is labelled correct, and coderm passes it on every one of its tests."""
    problems = list(load("stdio", inputs=str(shared_data / "stdio" / "code_eval_mbpp.jsonl"), language="cpp"))
    assert len(problems) == 20 and all(p["labels"] == [True] and "language" not in p for p in problems)
    jobs = [Job(p["task_id"], [callable_entry(p["candidates"][0], p["entry_point"])], p["tests"], p["entry_point"])
            for p in problems]
    with Executor(ExecutorConfig(workers=2, timeout=5.0, cache_path=None)) as ex:
        for task_id, m in ex.run_many(jobs):
            assert m.passed.all(), f"{task_id}: {m.status_names()} {m.details}"


def test_stdio_language_from_the_record_or_the_loader(shared_data, tmp_path):
    """A record's `language`, else SandboxFusion's `labels.programming_language`, else the loader's
    `language` (SandboxFusion's judge datasets leave it to the request); aliases fold, unknown names fail."""
    lines = (shared_data / "stdio" / "code_eval_code_contests.jsonl").read_text().splitlines()[:3]
    records = [json.loads(line) for line in lines]
    records[0]["labels"] = json.dumps({**json.loads(records[0]["labels"]), "programming_language": "C++"})
    records[1]["language"] = "java"
    path = tmp_path / "sf.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert [p.get("language") for p in load("stdio", inputs=str(path))] == ["cpp", "java", None]
    assert [p["language"] for p in load("stdio", inputs=str(path), language="js")] == ["cpp", "java", "javascript"]
    records[2]["language"] = "cobol"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    with pytest.raises(LoaderError, match=r"sf.jsonl:3: unknown language 'cobol'"):
        list(load("stdio", inputs=str(path)))
    with pytest.raises(LoaderError, match="stdio: unknown language 'pascal'"):
        list(load("stdio", inputs=str(path), language="pascal"))


def lcb_private(cases):
    return base64.b64encode(zlib.compress(pickle.dumps(json.dumps(cases)))).decode()


def write_lcb(path):
    stdin_problem = {
        "question_id": "abc001_a", "question_title": "Sum", "question_content": "Print a+b.",
        "platform": "atcoder", "difficulty": "easy", "contest_date": "2023-05-01T00:00:00", "starter_code": "",
        "public_test_cases": json.dumps([{"input": "1 2\n", "output": "3\n", "testtype": "stdin"}]),
        "private_test_cases": lcb_private([{"input": "5 7\n", "output": "12\n", "testtype": "stdin"}]),
        "metadata": "{}",
    }
    functional = {
        "question_id": "2000", "question_title": "Max", "question_content": "Return the maximum.",
        "platform": "leetcode", "difficulty": "easy", "contest_date": "2023-05-02T00:00:00",
        "starter_code": "class Solution:\n    def biggest(self, nums: List[int], k: int) -> int:\n        ",
        "public_test_cases": json.dumps([{"input": "[1, 5, 2]\n0", "output": "5", "testtype": "functional"}]),
        "private_test_cases": lcb_private([{"input": "[-3, -1]\n1", "output": "0", "testtype": "functional"}]),
        "metadata": json.dumps({"func_name": "biggest"}),
    }
    path.write_text(json.dumps(stdin_problem) + "\n" + json.dumps(functional) + "\n")


def test_livecodebench_decodes_private_tests(tmp_path):
    path = tmp_path / "lcb.jsonl"
    write_lcb(path)
    stdin_problem, functional = load("livecodebench", inputs=str(path))
    check_contract(stdin_problem)
    assert stdin_problem["entry_point"] is None
    assert stdin_problem["tests"] == [{"type": "stdio", "input": "1 2\n", "output": "3\n", "judge": "float"},
                                      {"type": "stdio", "input": "5 7\n", "output": "12\n", "judge": "float"}]
    assert functional["entry_point"] == "biggest"
    assert functional["tests"] == [{"type": "call", "args": [[1, 5, 2], 0], "expected": 5},
                                   {"type": "call", "args": [[-3, -1], 1], "expected": 0}]
    public_only = list(load("livecodebench", inputs=str(path), splits=["public"]))
    assert [len(p["tests"]) for p in public_only] == [1, 1]
    with pytest.raises(LoaderError, match="splits must be some of public, private"):
        list(load("livecodebench", inputs=str(path), splits=["hidden"]))
    stdin_problem["candidates"] = ["a, b = map(int, input().split())\nprint(a + b)\n", "print(3)\n",
                                   "a, b = map(int, input().split())\nprint(float(a + b))\n"]  # LCB: 3.0 is 3
    assert passed_rows(stdin_problem).tolist() == [[True, True], [True, False], [True, True]]
    functional["candidates"] = [
        "from typing import List\nclass Solution:\n    def biggest(self, nums: List[int], k: int) -> int:\n"
        "        return max(nums) + k\n"]
    assert passed_rows(functional).tolist() == [[True, True]]


def test_livecodebench_refuses_pickled_objects(tmp_path):
    class Boom:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "lcb.jsonl"
    record = {"question_id": "x", "question_content": "q", "public_test_cases": "[]",
              "private_test_cases": base64.b64encode(zlib.compress(pickle.dumps(Boom()))).decode()}
    path.write_text(json.dumps(record) + "\n")
    with pytest.raises(LoaderError, match="refusing to load builtins.print"):
        list(load("livecodebench", inputs=str(path)))


def test_bad_input_names_file_line_and_field(tmp_path):
    path = tmp_path / "he.jsonl"
    good = {"task_id": "T/0", "prompt": "def f():\n", "entry_point": "f", "canonical_solution": "    return 1\n",
            "test": "assert f() == 1"}
    path.write_text(json.dumps(good) + "\n{not json\n")
    with pytest.raises(LoaderError, match=r"he.jsonl:2: malformed JSON"):
        list(load("humaneval", inputs=str(path)))
    path.write_text(json.dumps({k: v for k, v in good.items() if k != "entry_point"}) + "\n")
    with pytest.raises(LoaderError, match=r"he.jsonl:1: missing field 'entry_point'"):
        list(load("humaneval", inputs=str(path)))
    path.write_text(json.dumps(dict(good, prompt=3)) + "\n")
    with pytest.raises(LoaderError, match=r"he.jsonl:1: field 'prompt' must be str, got int"):
        list(load("humaneval", inputs=str(path)))
    with pytest.raises(LoaderError, match="no such file"):
        list(load("humaneval", inputs=str(tmp_path / "missing.jsonl")))
    path.write_bytes(b'{"task_id": "\xff"}\n')
    with pytest.raises(LoaderError, match="not valid UTF-8"):
        list(load("humaneval", inputs=str(path)))


APPS_STDIN = {"problem_id": 7, "question": "Print the sum.", "starter_code": "", "difficulty": "interview",
              "input_output": json.dumps({"inputs": ["1 2\n", ["3 4"]], "outputs": ["3\n", ["7"]]})}
TACO_CALL = {"name": "two_sum", "question": "Return the indices.", "source": "leetcode",
             "starter_code": "class Solution:\n    def twoSum(self, nums, target):\n        ",
             "input_output": {"fn_name": "twoSum", "inputs": [[[2, 7, 11, 15], 9], [[3, 3], 6]],
                              "outputs": [[[0, 1]], [[0, 1]]]}}


def test_apps_and_taco_records_stdin_and_fn_name(tmp_path):
    path = tmp_path / "apps.jsonl"
    path.write_text(json.dumps(APPS_STDIN) + "\n" + json.dumps(TACO_CALL) + "\n")
    stdin_problem, call_problem = load("apps", inputs=str(path))
    for p in (stdin_problem, call_problem):
        check_contract(p)
    assert stdin_problem["task_id"] == "7" and stdin_problem["entry_point"] is None
    assert [t["input"] for t in stdin_problem["tests"]] == ["1 2\n", "3 4"]  # a list of lines joins
    assert call_problem["task_id"] == "two_sum" and call_problem["entry_point"] == "twoSum"
    assert call_problem["tests"][0] == {"type": "call", "args": [[2, 7, 11, 15], 9], "expected": [0, 1],
                                        "alternatives": [[[0, 1]]]}  # APPS wraps return values in a list
    stdin_problem["candidates"] = ["print(sum(map(int, input().split())))\n", "print(3)\n"]
    assert passed_rows(stdin_problem).tolist() == [[True, True], [True, False]]
    call_problem["candidates"] = [
        "class Solution:\n    def twoSum(self, nums, target):\n        seen = {}\n"
        "        for i, x in enumerate(nums):\n            if target - x in seen:\n"
        "                return [seen[target - x], i]\n            seen[x] = i\n",
        "def twoSum(nums, target):\n    return [0, 1]\n",  # Codewars style: a plain function
        "class Solution:\n    def twoSum(self, nums, target):\n        return [1, 0]\n"]
    assert passed_rows(call_problem).tolist() == [[True, True], [True, True], [False, False]]


def test_codecontests_splits(tmp_path):
    record = {"name": "1A. Sum", "description": "Print a+b.", "source": 2,
              "public_tests": {"input": ["1 2\n"], "output": ["3\n"]},
              "private_tests": {"input": ["5 5\n"], "output": ["10\n"]},
              "generated_tests": {"input": ["0 0\n", "9 1\n"], "output": ["0\n", "10\n"]}}
    path = tmp_path / "cc.jsonl"
    path.write_text(json.dumps(record) + "\n")
    (p,) = load("codecontests", inputs=str(path))
    check_contract(p)
    assert [t["input"] for t in p["tests"]] == ["1 2\n", "5 5\n", "0 0\n", "9 1\n"]
    assert p["meta"]["n_tests"] == {"public": 1, "private": 1, "generated": 2}
    (public,) = load("codecontests", inputs=str(path), splits=["public", "generated"])
    assert len(public["tests"]) == 3
    with pytest.raises(LoaderError, match="splits must be some of"):
        list(load("codecontests", inputs=str(path), splits=["secret"]))
    path.write_text(json.dumps({**record, "private_tests": {"input": ["1\n"], "output": []}}) + "\n")
    with pytest.raises(LoaderError, match=r"cc.jsonl:1: 'private_tests' has 1 inputs and 0 outputs"):
        list(load("codecontests", inputs=str(path)))


def test_stdio_loader_points_apps_records_to_their_loader(tmp_path):
    path = tmp_path / "apps.jsonl"
    path.write_text(json.dumps(APPS_STDIN) + "\n")
    with pytest.raises(LoaderError, match="use the apps or codecontests loader"):
        list(load("stdio", inputs=str(path)))
