"""Extraction on realistic model outputs: every repair the extractor promises, checked by running the result."""
import ast
import gzip
import json
import re
import unittest

import pytest

from coderm.generate.extract import extract_tests

GOOD = "def add(a, b):\n    return a + b\n"
BAD = "def add(a, b):\n    return a - b\n"


def run_test(test: str, candidate: str) -> bool:
    """Run one extracted test against a candidate the way the executor does: candidate and test in one namespace."""
    ns: dict = {"__name__": "candidate"}
    exec(candidate, ns)
    exec(test, ns)
    cases = [v for v in ns.values() if isinstance(v, type) and issubclass(v, unittest.TestCase) and v is not unittest.TestCase]
    if not cases:
        return True  # an assert-only test raised nothing
    suite = unittest.TestSuite(unittest.defaultTestLoader.loadTestsFromTestCase(c) for c in cases)
    result = unittest.TestResult()
    suite.run(result)
    return result.testsRun > 0 and result.wasSuccessful()


def passes(test: str) -> tuple[bool, bool]:
    def safe(candidate):
        try:
            return run_test(test, candidate)
        except AssertionError:
            return False
    return safe(GOOD), safe(BAD)


CHATTY = '''Sure! Here are unit tests for the `add` function.

```python
import unittest
from your_module import add


class TestAdd(unittest.TestCase):
    # Adding two positive numbers
    def test_positive(self):
        self.assertEqual(add(2, 3), 5)

    # Adding a negative number
    def test_negative(self):
        self.assertEqual(add(-2, 3), 1)


if __name__ == "__main__":
    unittest.main()
```

These tests cover positive and negative inputs.'''

TWO_BLOCKS = '''First, the solution again:

```python
def add(a, b):
    return a + b
```

And the tests:

```python
class TestAdd(unittest.TestCase):
    def test_zero(self):
        # zero is neutral
        self.assertEqual(add(0, 7), 7)
```'''

REDEFINES = '''```python
import unittest

def add(a, b):
    """Copy of the solution."""
    return a + b

class TestAdd(unittest.TestCase):
    def test_sum(self):
        self.assertEqual(add(1, 1), 2)

unittest.main()
```'''

TRUNCATED = '''```python
import unittest
from solution import add

class TestAdd(unittest.TestCase):
    def setUp(self):
        self.pairs = [(1, 2, 3), (0, 0, 0)]

    def test_pairs(self):
        for a, b, want in self.pairs:
            self.assertEqual(add(a, b), want)

    def test_large(self):
        self.assertEqual(add(10**9, 10**9), 2 * 10**9)

    def test_floats(self):
        self.assertAlmostEqual(add(0.1, 0.2), 0.3)

    def test_cut(self):
        self.assertEqual(add(1, '''

MODULE_QUALIFIED = '''import unittest
import solution

class TestAdd(unittest.TestCase):
    def test_qualified(self):
        self.assertEqual(solution.add(4, 4), 8)
'''

CODET = ''' add(1, 2) == 3
assert add(-1, 1) == 0
assert add(100, 1) == 101
assert add(5,'''


def test_chatty_fenced_output_loses_import_and_main_guard():
    found = extract_tests(CHATTY, "add")
    assert found.drop is None and len(found.tests) == 1
    test = found.tests[0]
    assert "your_module" not in test and "__main__" not in test and "unittest.main" not in test
    assert passes(test) == (True, False)


def test_solution_block_is_skipped_and_missing_unittest_import_added():
    found = extract_tests(TWO_BLOCKS, "add")
    test = found.tests[0]
    tree = ast.parse(test)
    assert not any(isinstance(n, ast.FunctionDef) and n.name == "add" for n in ast.walk(tree))
    assert isinstance(tree.body[0], ast.Import) and tree.body[0].names[0].name == "unittest"
    assert passes(test) == (True, False)


def test_redefinition_of_entry_point_removed_so_the_candidate_is_tested():
    test = extract_tests(REDEFINES, "add").tests[0]
    assert "Copy of the solution" not in test
    assert passes(test) == (True, False)  # with the copy left in, BAD would pass


def test_truncated_output_drops_the_incomplete_method():
    found = extract_tests(TRUNCATED, "add", truncated=True)
    test = found.tests[0]
    assert "test_cut" not in test and "test_floats" in test and "from solution" not in test
    assert passes(test) == (True, False)


def test_truncation_flag_drops_a_last_line_that_only_looks_complete():
    text = "```python\nclass T(unittest.TestCase):\n    def test_a(self):\n        self.assertEqual(add(1, 1), 2)\n    def test_b(self):\n        self.assertEqual(add(2, 2), 4)"
    assert "test_b" in extract_tests(text, "add").tests[0]
    assert "test_b" not in extract_tests(text, "add", truncated=True).tests[0]


def test_split_gives_one_test_per_method_with_shared_setup():
    tests = extract_tests(TRUNCATED, "add", truncated=True, split=True).tests
    assert len(tests) == 3
    for test in tests:
        assert "def setUp" in test and test.count("def test_") == 1
        assert passes(test) == (True, False)


def test_module_qualified_calls_are_unqualified():
    test = extract_tests(MODULE_QUALIFIED, "add").tests[0]
    assert "solution" not in test
    assert passes(test) == (True, False)


def test_codet_completion_gets_its_assert_prefix_back_and_splits_per_assert():
    found = extract_tests(CODET, "add", prefix="assert", split=True)
    assert [t.strip() for t in found.tests] == ["assert add(1, 2) == 3", "assert add(-1, 1) == 0", "assert add(100, 1) == 101"]
    assert all(passes(t) == (True, False) for t in found.tests[:1])


@pytest.mark.parametrize("text, reason", [
    ("I cannot write tests for this function without more context.", "no_code"),
    ("```\n\n```", "no_code"),
    ("```python\ndef add(a, b):\n    return a + b\n```", "no_test"),
    ("```python\nclass T(unittest.TestCase):\n    def test_x(self):\n        self.assertEqual(sum([1]), 1)\n```", "no_entry_point"),
    ("```python\n)))) ((( ]]\n```", "syntax"),
    ("```python\nassert add(1, 2) == 3\nthis is prose, not code\nassert add(2, 2) == 4\n```", None),
])
def test_drop_reasons(text, reason):
    found = extract_tests(text, "add")
    assert found.drop == reason
    assert bool(found.tests) == (reason is None)


# A realistic mix of model outputs: what share yields runnable tests (the extraction yield).
CORPUS = [CHATTY, TWO_BLOCKS, REDEFINES, TRUNCATED, MODULE_QUALIFIED, "assert" + CODET,
          "Here you go:\n\nimport unittest\n\nclass TestAdd(unittest.TestCase):\n    def test_one(self):\n        self.assertEqual(add(1, 1), 2)\n",
          "The function adds two numbers; it has no edge cases worth testing.",
          "```python\ndef add(a, b):\n    return a + b\n```",
          "```python\nclass TestAdd(unittest.TestCase):\n    def test_raises(self):\n        with self.assertRaises(TypeError):\n",
          ]


def test_yield_on_realistic_corpus():
    results = [extract_tests(text, "add", truncated=text is TRUNCATED) for text in CORPUS]
    kept = [r for r in results if r.tests]
    print(f"extraction yield on the corpus: {len(kept)}/{len(CORPUS)}")
    assert len(kept) == 7
    assert [r.drop for r in results if not r.tests] == ["no_code", "no_test", "syntax"]
    for r in kept:
        assert all(passes(t) == (True, False) for t in r.tests)


def test_yield_on_real_codegen16b_assert_completions(shared_data):
    """CodeT's raw CodeGen-16B test-case samples (completions of a prompt ending in ``assert ``)."""
    path = shared_data / "codet" / "HumanEval_codegen16B_temp0.8_topp0.95_num100_max300_test_case.jsonl.gz"
    with gzip.open(path, "rt") as f:
        rows = [json.loads(next(f)) for _ in range(10)]
    total = kept = 0
    for row in rows:
        entry = re.search(r"# check the correctness of (\w+)", row["prompt"]).group(1)
        for sample in row["samples"]:
            found = extract_tests(sample, entry, prefix="assert ", split=True)
            total += 1
            kept += bool(found.tests)
            for test in found.tests:
                tree = ast.parse(test)
                assert sum(isinstance(s, ast.Assert) for s in tree.body) == 1 and entry in test
    print(f"extraction yield on CodeGen-16B assert samples: {kept}/{total}")
    assert 0.08 < kept / total < 0.5


def test_truncation_after_a_closed_block_keeps_the_block_whole():
    text = TWO_BLOCKS + "\n\nThe test checks that zero is the neut"
    assert "add(0, 7)" in extract_tests(text, "add", truncated=True).tests[0]
