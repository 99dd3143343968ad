"""The coderm-8b prompt against CodeRM's own benchmark inputs: section by section on real HumanEval and
MBPP problems, and byte for byte on HumanEval/0 when shown the same code solution."""
import gzip
import json

import pytest

from coderm.generate import GeneratorConfig, build_request
from coderm.generate.prompts import coderm_8b_question

# RUCKBReasoning/CodeRM data/benchmark/input_humaneval+_ut.jsonl, task HumanEval/0: the one user message.
CODERM_HUMANEVAL_0 = (
    "Below is a question and it's corresponding code answer. Please write test cases to check the correctness of "
    "the code answer. You need to use the unittest library in Python and create a test class for testing.\n\n"
    "### question\n"
    "Write a function named `has_close_elements`. Check if in given list of numbers, are any two numbers closer "
    "to each other than given threshold.\n"
    ">>> has_close_elements([1.0, 2.0, 3.0], 0.5)\nFalse\n"
    ">>> has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3)\nTrue\n\n"
    "### code solution\n"
    "from typing import List\n"
    "def has_close_elements(numbers: List[float], threshold: float) -> bool:\n"
    '    """\n'
    "    Check if in given list of numbers, are any two numbers closer to each other than given threshold.\n\n"
    "    Args:\n"
    "        numbers (List[float]): A list of floating point numbers.\n"
    '        threshold (float): The minimum distance between two numbers for them to be considered "close".\n\n'
    "    Returns:\n"
    "        bool: True if any two numbers in the list are closer than the threshold, False otherwise.\n"
    '    """\n\n'
    "    # Sort the list of numbers\n"
    "    numbers.sort()\n\n"
    "    # Iterate over the sorted list, comparing each pair of adjacent numbers\n"
    "    for i in range(1, len(numbers)):\n"
    "        if numbers[i] - numbers[i-1] < threshold:\n"
    "            return True\n\n"
    "    # If we've reached this point, no two numbers were closer than the threshold\n"
    "    return False\n\n"
    "Please add detailed comments to the test cases you write. You do not need to test the function's ability "
    "to throw exceptions.\n"
)
# The same file's Mbpp/2 question (MBPP+ puts the first assert in the prompt's docstring).
CODERM_MBPP_2_QUESTION = ("Write a function to find the shared elements from the given two lists.\n"
                          "assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))")

def sections(message: str) -> dict:
    """A CodeRM-format message cut into its parts; fails unless the parts are all there, in CodeRM's order."""
    instruction, rest = message.split("\n\n### question\n", 1)
    question, rest = rest.split("\n\n### code solution\n", 1)
    code, closing = rest.rsplit("\n\n", 1)
    return {"instruction": instruction, "question": question, "code": code, "closing": closing}


INSTRUCTION, CLOSING = sections(CODERM_HUMANEVAL_0)["instruction"], sections(CODERM_HUMANEVAL_0)["closing"]


def load(path):
    with gzip.open(path, "rt") as f:
        return {row["task_id"]: row for row in map(json.loads, f)}


@pytest.fixture(scope="module")
def humaneval(shared_data):
    return load(shared_data / "humaneval" / "HumanEval.jsonl.gz")


def coderm_8b(problem, **over):
    return build_request(problem, GeneratorConfig.from_dict({"prompt": "coderm-8b", **over}))


def test_humaneval_0_matches_the_coderm_benchmark_input_byte_for_byte(humaneval):
    shown = sections(CODERM_HUMANEVAL_0)["code"]
    request = coderm_8b({**humaneval["HumanEval/0"], "candidates": [shown + "\n\n\n"]})
    assert request.chat and request.completion_prefix == ""
    assert request.messages() == [{"role": "user", "content": CODERM_HUMANEVAL_0}]


def test_humaneval_sections_field_by_field(humaneval):
    problem = humaneval["HumanEval/0"]
    candidate = "def has_close_elements(numbers, threshold):\n    return False\n"
    got, want = sections(coderm_8b({**problem, "candidates": [candidate]}).text), sections(CODERM_HUMANEVAL_0)
    assert got["instruction"] == want["instruction"] == INSTRUCTION
    assert got["question"] == want["question"]
    assert got["code"] == candidate.strip() and "```" not in got["code"]  # unfenced, as CodeRM shows it
    assert got["closing"] == want["closing"] == CLOSING


@pytest.mark.parametrize("task_id, question", [
    # a docstring over several lines becomes one line; blank lines between examples stay (HumanEval/12)
    ("HumanEval/12", "Write a function named `longest`. Out of list of strings, return the longest one. Return the "
                     "first one in case of multiple strings of the same length. Return None in case the input list "
                     "is empty.\n>>> longest([])\n\n>>> longest(['a', 'b', 'c'])\n'a'\n>>> longest(['a', 'bb', "
                     "'ccc'])\n'ccc'"),
    # a helper defined before the entry point is not the question (HumanEval/10)
    ("HumanEval/10", "Write a function named `make_palindrome`. Find the shortest palindrome that begins with a "
                     "supplied string. Algorithm idea is simple: - Find the longest postfix of supplied string that "
                     "is a palindrome. - Append to the end of the string reverse of a string prefix that comes "
                     "before the palindromic suffix.\n>>> make_palindrome('')\n''\n>>> make_palindrome('cat')\n"
                     "'catac'\n>>> make_palindrome('cata')\n'catac'"),
])
def test_question_rendering_as_in_the_coderm_benchmark(humaneval, task_id, question):
    problem = humaneval[task_id]
    assert coderm_8b_question(problem["prompt"], problem["entry_point"]) == question
    assert sections(coderm_8b(problem).text)["question"] == question


def test_without_a_candidate_the_prompt_code_stands_in(humaneval):
    problem = {**humaneval["HumanEval/0"], "candidates": []}
    parts = sections(coderm_8b(problem).text)
    assert parts["code"] == problem["prompt"].strip()
    assert coderm_8b(problem, show_candidate="none").text == coderm_8b(problem).text


def test_mbpp_problems(shared_data):
    plus = load(shared_data / "mbpp" / "MbppPlus-prerelease-767efcc.jsonl.gz")["Mbpp/2"]
    sanitized = load(shared_data / "mbpp" / "mbpp_sanitized_for_code_generation.jsonl.gz")["MbppEval/2"]
    candidate = "def similar_elements(a, b):\n    return tuple(set(a) & set(b))\n"

    # MBPP+ (this pre-release): a bare docstring, so the question is the task text, unnamed
    parts = sections(coderm_8b({**plus, "candidates": [candidate]}).text)
    assert parts["question"] == CODERM_MBPP_2_QUESTION.split("\n")[0]
    assert (parts["instruction"], parts["code"], parts["closing"]) == (INSTRUCTION, candidate.strip(), CLOSING)

    # MBPP+ as released later puts the first given assert under the text: exactly CodeRM's question
    first_assert = next(line.strip() for line in sanitized["test"].splitlines() if line.strip().startswith("assert"))
    released = plus["prompt"].replace("lists.\n", f"lists.\n{first_assert}\n")
    assert coderm_8b_question(released, plus["entry_point"]) == CODERM_MBPP_2_QUESTION

    # CodeT's sanitized MBPP defines the function, so the question names it, as for HumanEval
    question = sections(coderm_8b({**sanitized, "candidates": [candidate]}).text)["question"]
    assert question == "Write a function named `similar_elements`. " + CODERM_MBPP_2_QUESTION.split("\n")[0]


@pytest.mark.parametrize("prompt, question", [
    ("def f(x):\n    pass\n", "Write a function named `f`."),
    ("def f(x):\n    '''>>> f(1)\n    2\n    '''\n", "Write a function named `f`.\n>>> f(1)\n2"),
    ("Given two integers,\nprint their sum.", "Given two integers, print their sum."),
    ("def f(:\n  '''broken'''", "def f(: '''broken'''"),  # not Python: the text itself, on one line
])
def test_question_edge_cases(prompt, question):
    assert coderm_8b_question(prompt, "f") == question
