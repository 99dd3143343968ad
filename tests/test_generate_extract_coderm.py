"""Extraction on replies in CodeRM-8B's output shape for HumanEval/0 (written for this test: the project holds
no recorded CodeRM-8B replies). What CodeRM's extractor takes (one fenced block, the test class, its
imports, direct calls of the function under test) is taken; what it would run to no effect or to an
error is dropped with a reason; the tests kept run in the sandboxed executor and pass the reference."""
import gzip
import json
from collections import Counter

import pytest

from coderm.generate.extract import extract_tests
from executor import Executor, ExecutorConfig, Status

CLASSIC = '''```python
import unittest

class TestHasCloseElements(unittest.TestCase):
    def test_close_pair(self):
        # 2.8 and 3.0 are 0.2 apart, below the 0.3 threshold
        self.assertTrue(has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3))

    def test_no_close_pair(self):
        # every pair is at least 1.0 apart
        self.assertFalse(has_close_elements([1.0, 2.0, 3.0], 0.5))

    def test_empty_list(self):
        # no pairs at all
        self.assertFalse(has_close_elements([], 1.0))

if __name__ == '__main__':
    unittest.main()
```

These test cases cover a close pair, no close pair and the empty list.'''

YOUR_MODULE = '''Here are the test cases:

```python
import unittest
from your_module import has_close_elements  # Replace 'your_module' with the actual module name

class TestHasCloseElements(unittest.TestCase):
    def test_equal_numbers(self):
        # two equal numbers have distance 0
        self.assertTrue(has_close_elements([1.0, 1.0], 0.1))
```'''

IMPORTED_MODULE = '''```python
import unittest
import code_solution

class TestHasCloseElements(unittest.TestCase):
    def test_threshold_is_exclusive(self):
        # a distance equal to the threshold is not closer than it
        self.assertFalse(code_solution.has_close_elements([1.0, 2.0], 1.0))
```'''

ALIASED_MODULE = '''```python
import unittest
import has_close_elements_solution as sol

class TestHasCloseElements(unittest.TestCase):
    def test_negative_numbers(self):
        # -1.0 and -1.05 are 0.05 apart
        self.assertTrue(sol.has_close_elements([-1.0, -1.05, 3.0], 0.1))
```'''

COPIES_SOLUTION = '''```python
from typing import List
import unittest

def has_close_elements(numbers: List[float], threshold: float) -> bool:
    return True

class TestHasCloseElements(unittest.TestCase):
    def test_far_apart(self):
        # 1.0 and 10.0 are far apart
        self.assertFalse(has_close_elements([1.0, 10.0], 0.5))

unittest.main(argv=[''], exit=False)
```'''

TRUNCATED = '''```python
import unittest

class TestHasCloseElements(unittest.TestCase):
    def test_unsorted_input(self):
        # the close pair is not adjacent in the input
        self.assertTrue(has_close_elements([5.0, 1.0, 5.05], 0.1))

    def test_single_element(self):
        # one number has no pair
        self.assertFalse(has_close_elements([1.0], 1.0))

    def test_large_threshold(self):
        # with a large threshold any two numbers are close
        self.assertTrue(has_close_elements([1.0, 100.0], 1000.0))

    def test_many_numbers(self):
        # a long list with one close pair at the end
        numbers = [float(i) for i in range(100)] + [98.5'''

UNFENCED = '''import unittest

class TestHasCloseElements(unittest.TestCase):
    def test_two_numbers(self):
        # 0.5 apart, threshold 0.6
        self.assertTrue(has_close_elements([1.0, 1.5], 0.6))
'''

NO_TEST_METHODS = '''```python
import unittest

class TestHasCloseElements(unittest.TestCase):
    def check_close(self):
        # never run by unittest: the name does not start with "test"
        self.assertTrue(has_close_elements([1.0, 1.1], 0.5))
```'''

WRONG_NAME = '''```python
import unittest

class TestCloseElements(unittest.TestCase):
    def test_close(self):
        # calls a function that does not exist
        self.assertTrue(has_close_element([1.0, 1.1], 0.5))
```'''

PROSE = "The function sorts the numbers and compares neighbours, so it is correct for every input."

REPLIES = [CLASSIC, YOUR_MODULE, IMPORTED_MODULE, ALIASED_MODULE, COPIES_SOLUTION, TRUNCATED, UNFENCED,
           NO_TEST_METHODS, WRONG_NAME, PROSE]


@pytest.fixture(scope="module")
def humaneval_0(shared_data):
    with gzip.open(shared_data / "humaneval" / "HumanEval.jsonl.gz", "rt") as f:
        return json.loads(next(f))


def test_coderm_shaped_replies(humaneval_0):
    results = [extract_tests(text, "has_close_elements", truncated=text is TRUNCATED) for text in REPLIES]
    kept = [r.tests[0] for r in results if r.tests]
    print(f"extraction yield on CodeRM-shaped replies: {len(kept)}/{len(REPLIES)}")
    assert len(kept) == 7
    assert Counter(r.drop for r in results if r.drop) == {"no_test": 1, "no_entry_point": 1, "no_code": 1}
    assert all("code_solution" not in t and "sol." not in t and "your_module" not in t for t in kept)
    assert "return True" not in kept[4] and "test_many_numbers" not in kept[5]

    reference = humaneval_0["prompt"] + humaneval_0["canonical_solution"]
    wrong = humaneval_0["prompt"] + "    return len(numbers) > 1\n"
    with Executor(ExecutorConfig(workers=1, timeout=5.0, cache_path=None)) as ex:
        matrix = ex.run([reference, wrong], kept, entry_point="has_close_elements")
    assert (matrix.statuses[0] == Status.PASS).all(), matrix.statuses
    assert (matrix.statuses[1] == Status.FAIL).any()


@pytest.mark.parametrize("module", ["math", "reference_impl"])
def test_a_module_called_next_to_the_candidate_stays_an_oracle(module):
    """``M.sqrt`` beside a bare ``sqrt`` is the reference, real module or not: rewritten to ``sqrt``, the test
    would compare the candidate with itself and pass every candidate."""
    text = (f"```python\nimport {module}\nimport unittest\n\nclass T(unittest.TestCase):\n    def test_four(self):\n"
            f"        self.assertEqual(sqrt(4.0), {module}.sqrt(4.0))\n```")
    test = extract_tests(text, "sqrt").tests[0]
    assert f"{module}.sqrt(4.0)" in test and f"import {module}" in test
