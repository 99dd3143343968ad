"""Input synthesis without a model (S*): type-aware mutations of the given calls, structure-preserving
mutations of the public stdin examples; deterministic given a seed. Real problems from ../shared/data."""
from __future__ import annotations

import pytest

from coderm import loaders
from coderm.select.synth import synthesize
from executor import as_test
from executor.compare import is_record_only


@pytest.fixture(scope="module")
def ldb_problem(shared_data) -> dict:
    files = sorted(str(p) for p in (shared_data / "ldb").glob("humaneval__seed__*__seed.jsonl.gz"))
    return next(loaders.load("ldb", inputs=files))


@pytest.fixture(scope="module")
def contest_problem(shared_data) -> dict:
    d = shared_data / "stdio"
    problem = next(loaders.load("stdio", inputs=str(d / "codecontests31_problems.jsonl.gz")))
    return {**problem, "tests": problem["meta"]["public_tests"]}  # the hidden tests stay hidden


def test_function_inputs_are_type_aware_mutations_of_the_given_calls(ldb_problem):
    tests = synthesize(ldb_problem, 20, seed=1)
    assert len(tests) == 20 and tests == synthesize(ldb_problem, 20, seed=1) != synthesize(ldb_problem, 20, seed=2)
    seeds = [[[1.0, 2.0, 3.0], 0.5], [[1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3]]  # has_close_elements' given tests
    for test in tests:
        assert is_record_only(as_test(test)) and test["args"] not in seeds
        numbers, threshold = test["args"]
        assert isinstance(numbers, list) and all(isinstance(x, float) for x in numbers) and isinstance(threshold, float)
    assert len({len(t["args"][0]) for t in tests}) > 1  # lists grow and shrink


def test_stdin_inputs_keep_the_layout_and_move_counts_with_what_they_count(contest_problem):
    (example,) = [t["input"] for t in contest_problem["meta"]["public_tests"]]
    assert example == "5 2\nAA\nAB\nBB\nBA\nAZ\n"
    tests = synthesize(contest_problem, 20, seed=0)
    assert len(tests) == 20 and tests == synthesize(contest_problem, 20, seed=0)
    sizes = set()
    for test in tests:
        assert is_record_only(as_test(test)) and test["input"] != example
        first, *titles = test["input"].rstrip("\n").split("\n")
        n, m = map(int, first.split())
        assert (n, m) == (len(titles), 2) and all(len(t) == 2 and t.isupper() and t.isalpha() for t in titles)
        sizes.add(n)
    assert len(sizes) > 1  # the block of titles grew and shrank with n


def test_a_first_line_of_test_cases_stays_and_each_array_moves_with_its_length():
    example = "2\n3\n1 5 2\n2\n4 4\n"
    problem = {"task_id": "t", "entry_point": None, "prompt": "", "tests": [{"type": "stdio", "input": example, "output": "x"}]}
    tests = synthesize(problem, 15, seed=3)
    assert len(tests) == 15
    for test in tests:
        t, n1, a1, n2, a2 = test["input"].rstrip("\n").split("\n")
        assert t == "2" and int(n1) == len(a1.split()) and int(n2) == len(a2.split())
        assert all(1 <= int(v) <= 5 for v in (*a1.split(), *a2.split()))  # the example's range
