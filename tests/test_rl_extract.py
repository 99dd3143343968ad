"""Code extraction and ground-truth parsing for RL rewards."""
import json

import numpy as np
import pytest

from coderm.extract import ExtractConfig, callable_entry, extract_code
from coderm.rl import GroundTruthError, parse_tests

CHAT = """Let me think. A first draft:
```python
def add(a, b):
    return a - b
```
That is wrong; fixed:
```python
def add(a, b):
    return a + b
```
And an example run:
```text
3
```
"""


def test_last_python_block_is_taken_and_text_blocks_ignored():
    assert extract_code(CHAT) == "def add(a, b):\n    return a + b\n"


def test_first_and_all_blocks():
    assert "a - b" in extract_code(CHAT, config=ExtractConfig(block="first"))
    both = extract_code(CHAT, config=ExtractConfig(block="all"))
    assert both.index("a - b") < both.index("a + b") and "3\n" not in both.split("a + b")[1]


def test_unclosed_fence_from_a_truncated_completion_still_yields_code():
    assert extract_code("Here:\n```python\ndef f():\n    return 1\n") == "def f():\n    return 1\n"


def test_conversational_completion_uses_last_assistant_message():
    messages = [{"role": "user", "content": "```python\nx = 0\n```"},
                {"role": "assistant", "content": "```py\nx = 1\n```"}]
    assert extract_code(messages) == "x = 1\n"
    assert extract_code([{"content": "```\ny = 2\n```"}]) == "y = 2\n"  # TRL messages may omit the role


def test_prompt_joining_modes():
    prompt = "def add(a, b):\n    \"\"\"Sum.\"\"\"\n"
    body = "    return a + b\n"
    assert extract_code(body, prompt, "add") == prompt + body  # auto: body does not define add
    assert extract_code("def add(a, b):\n    return a + b\n", prompt, "add").startswith("def add(a, b):\n    return")
    assert extract_code(body, prompt, "add", ExtractConfig(join_prompt="never")) == ""  # a bare body is no program
    assert extract_code("x = 1\n", "import os\n", None, ExtractConfig(join_prompt="always")) == "import os\nx = 1\n"


def test_require_fence_and_empty():
    assert extract_code("def f(): pass", config=ExtractConfig(require_fence=True)) == ""
    assert extract_code("   \n") == ""
    assert extract_code("I would loop over the list and add.") == ""  # prose is no code, not a syntax error
    assert extract_code("```python\ndef f(:\n```") == "def f(:\n"  # a fenced block runs, broken or not
    with pytest.raises(ValueError):
        ExtractConfig(block="middle")
    with pytest.raises(TypeError):
        extract_code(42)


def test_solution_method_becomes_callable_as_the_entry_point():
    leetcode = "class Solution:\n    def twoSum(self, nums, target):\n        return [0, 1]\n"
    program = extract_code(leetcode, None, "twoSum")
    namespace: dict = {}
    exec(program, namespace)
    assert namespace["twoSum"]([2, 7], 9) == [0, 1]
    plain = "def twoSum(nums, target):\n    return []\n\nclass Solution:\n    def twoSum(self, n, t):\n        return 1\n"
    assert callable_entry(plain, "twoSum") == plain  # a module-level function wins
    assert callable_entry(leetcode, "other") == leetcode and callable_entry(leetcode, None) == leetcode


def test_parse_tests_shapes():
    tests = ["assert f(1) == 1", {"type": "call", "args": [2], "expected": 2}]
    assert parse_tests(tests) == (tests, None)
    assert parse_tests(json.dumps(tests)) == (tests, None)
    assert parse_tests({"tests": tests, "entry_point": "f"}) == (tests, "f")
    assert parse_tests("assert f(1) == 1") == (["assert f(1) == 1"], None)
    stdio, ep = parse_tests(json.dumps({"inputs": ["1\n", "2\n"], "outputs": ["1\n", "4\n"]}))
    assert ep is None and stdio[1] == {"type": "stdio", "input": "2\n", "output": "4\n"}


def test_parse_tests_accepts_numpy_arrays_from_parquet():
    tests = np.array(["assert f(1) == 1", "assert f(2) == 2"], dtype=object)
    assert parse_tests(tests) == (["assert f(1) == 1", "assert f(2) == 2"], None)
    assert parse_tests({"tests": tests, "entry_point": "f"})[0] == ["assert f(1) == 1", "assert f(2) == 2"]


CHECK = "def check(input, expected, got):\n    return True\n"


@pytest.mark.parametrize("ground_truth, tests, entry_point", [
    ({"input_output": json.dumps({"fn_name": "f", "inputs": [[1, 2]], "outputs": [[3]]})},
     [{"type": "call", "args": [1, 2], "expected": 3, "alternatives": [[3]]}], "f"),
    ({"inputs": [["1", "2"]], "outputs": [["3", ""]]}, [{"type": "stdio", "input": "1\n2", "output": "3\n"}], None),
    ({"fn_name": "f", "inputs": [[[1, 2]]], "outputs": [[1, 2]]}, [{"type": "call", "args": [[1, 2]], "expected": [1, 2]}], "f"),
    ([{"input": "[1]\n2", "output": "3", "testtype": "functional", "metadata": {"func_name": "g"}}],
     [{"type": "call", "args": [[1], 2], "expected": 3}], "g"),
    ({"tests": [{"input": "nums = [1], k = null", "output": "true"}], "entry_point": "Solution().h"},
     [{"type": "call", "args": [], "kwargs": {"nums": [1], "k": None}, "expected": True}], "h"),
    ({"tests": [{"input": "1 2\n", "output": "3\n", "testtype": "stdin"}], "fn_name": "unused"},
     [{"type": "stdio", "input": "1 2\n", "output": "3\n"}], "unused"),
    ({"private_tests": {"input": ["1\n"], "output": ["2\n"]}, "generated_tests": {"input": ["2\n"], "output": ["3\n"]}},
     [{"type": "stdio", "input": "1\n", "output": "2\n"}, {"type": "stdio", "input": "2\n", "output": "3\n"}], None),
    ({"test": "def check(candidate):\n    assert candidate(1) == 2\n", "entry_point": "inc"},
     ["def check(candidate):\n    assert candidate(1) == 2\n"], "inc"),
    ({"test_list": ["assert f(1) == 1"], "test_setup_code": "import math"}, ["import math\nassert f(1) == 1"], None),
    ({"inputs": ["1\n"], "outputs": ["0.5\n"], "judge": {"kind": "float", "atol": 0.1}},
     [{"type": "stdio", "input": "1\n", "output": "0.5\n", "judge": {"kind": "float", "atol": 0.1}}], None),
    ({"fn_name": "f", "inputs": [[1]], "outputs": [[2]], "judge": {"kind": "checker", "code": CHECK}},
     [{"type": "call", "args": [1], "expected": 2, "judge": {"kind": "checker", "code": CHECK}}], "f"),
])
def test_parse_tests_dataset_formats(ground_truth, tests, entry_point):
    assert parse_tests(ground_truth) == (tests, entry_point)
    assert parse_tests(json.dumps(ground_truth)) == (tests, entry_point)


@pytest.mark.parametrize("bad, reason", [
    ({"tests": [{"input": "nums = [1", "output": "1"}], "fn_name": "f"}, "neither JSON lines nor"),
    ([{"input": "[1]", "output": "1", "testtype": "functional"}], "needs a function name"),
    ({"inputs": ["1"], "outputs": ["1"], "judge": "fuzzy"}, "judge kind must be one of"),
    ({"tests": [], "entry_point": "Solution().not a name"}, "is not a function name"),
    ({"input_output": "[1, 2]"}, "'input_output' must be an object"),
    ("[1, 2", "do not parse"),
    ({"x": 1}, "needs one of"),
    ([{"type": "call", "args": 3, "expected": 1}], "test 0 is invalid"),
    ({"inputs": ["1"], "outputs": []}, "same length"),
    (7, "must be a list"),
])
def test_parse_tests_rejects_with_reason(bad, reason):
    with pytest.raises(GroundTruthError, match=reason):
        parse_tests(bad)
