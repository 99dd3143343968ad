"""LLM-free test sources: doctest/example mining and stdio statement examples."""
import gzip
import json

from coderm.loaders import load
from coderm.sources import doctest_asserts, mined_tests, statement_examples
from executor import Executor, ExecutorConfig, Job

PROMPT = '''def f(xs, k=0):
    """Sum plus k.
    >>> f([1, 2])
    3
    >>> f([1,
    ...    2], 1)
    4
    >>> print(f([]))
    0
    >>> f([])  # doctest shows nothing for None
    
    >>> f("a")
    Traceback (most recent call last):
    TypeError: ...
    >>> f([5])
    five
    For example:
    f([2, 2]) == 4
    f([3]) ➞ 3.
    f(x) => 7
    g([1]) == 1
    f([0]) => false
    >>> f([9]) == 9
    Input: xs = [1, 1], k = 2
    Output: 4
    """
'''


def test_doctest_and_example_lines():
    assert doctest_asserts(PROMPT, "f") == [
        "assert f([1, 2]) == 3",
        "assert f([1, 2], 1) == 4",
        "assert f([]) is None",
        "assert f([2, 2]) == 4",
        "assert f([3]) == 3",
        "assert f([0]) == False",
        "assert f([9]) == 9",
        "assert f(xs=[1, 1], k=2) == 4",
    ]
    # duplicates are dropped by mined_tests; without an entry point only >>> examples count
    assert mined_tests({"prompt": PROMPT + PROMPT, "entry_point": "f"}) == doctest_asserts(PROMPT, "f")
    assert doctest_asserts(PROMPT) == doctest_asserts(PROMPT, "f")[:3]  # the rest need the entry point


def test_humaneval_mined_tests_mostly_hold_for_canonical(shared_data):
    with gzip.open(shared_data / "humaneval/HumanEval.jsonl.gz", "rt") as f:
        problems = [json.loads(line) for line in f]
    mined = [mined_tests(p) for p in problems]
    assert sum(bool(m) for m in mined) == 147  # of 164
    assert sum(map(len, mined)) == 413
    assert mined[0] == ["assert has_close_elements([1.0, 2.0, 3.0], 0.5) == False",
                        "assert has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3) == True"]
    assert mined[2] == ["assert truncate_number(3.5) == 0.5"]
    assert mined[80] == []  # "is_happy(a) => False": `a` is a name, not a literal
    assert mined[120][0] == "assert maximum(arr=[-3, -4, 5], k=3) == [-4, -3, 5]"


def test_mined_tests_run_against_canonical(shared_data):
    problems = list(load("humaneval", inputs=str(shared_data / "humaneval/HumanEval.jsonl.gz")))[:50]
    jobs = [Job(p["task_id"], p["candidates"], mined_tests(p), p["entry_point"]) for p in problems]
    jobs = [j for j in jobs if j.tests]
    with Executor(ExecutorConfig(workers=2, timeout=2.0, cache_path=None)) as ex:
        results = {key: m.passed[0] for key, m in ex.run_many(jobs)}
    cells = sum(len(r) for r in results.values())
    passed = sum(int(r.sum()) for r in results.values())
    assert cells == 111
    failing = {key for key, r in results.items() if not r.all()}
    assert failing == {"HumanEval/47"}  # its docstring says median([-10, 4, 6, 1000, 10, 20]) is 15.0; it is 8.0
    assert passed == cells - 1


STATEMENT = """Print the sum.

Input

Two integers a and b.

Output

Their sum.

Examples

Input


1 2


Output


3


Input

10 -4

Output

6

Note

In the first example 1 + 2 = 3.
"""


def test_statement_examples_codeforces_and_codechef_styles():
    assert statement_examples(STATEMENT) == [
        {"type": "stdio", "input": "1 2\n", "output": "3\n"},
        {"type": "stdio", "input": "10 -4\n", "output": "6\n"},
    ]
    codechef = "Do it.\n\nExample\n\nInput:\n2\n1 2\n\nOutput:\n3\n\nExplanation: obvious."
    assert statement_examples(codechef) == [{"type": "stdio", "input": "2\n1 2\n", "output": "3\n"}]
    sample = "Read n.\nSample Input 1\n5\nSample Output 1\n25\nSample Input 2\n2\nSample Output 2\n4\n"
    assert mined_tests({"prompt": sample, "entry_point": None}) == [
        {"type": "stdio", "input": "5\n", "output": "25\n"},
        {"type": "stdio", "input": "2\n", "output": "4\n"},
    ]
    assert statement_examples("Input\nn\nOutput\nn squared\n") == []  # format sections, no examples


def test_statement_examples_on_codecontests(shared_data):
    problems = list(load("stdio", inputs=str(shared_data / "stdio/codecontests31_problems.jsonl.gz")))
    norm = lambda s: "\n".join(line.rstrip() for line in s.strip().splitlines())  # noqa: E731
    found = in_tests = 0
    for p in problems:
        mined = mined_tests(p)
        known = {(norm(t["input"]), norm(t["output"])) for t in p["tests"] + p["meta"]["public_tests"]}
        found += bool(mined)
        in_tests += bool(mined) and all((norm(t["input"]), norm(t["output"])) in known for t in mined)
    assert found == 31
    assert in_tests == 25  # the other 6 accept any valid answer, so their statement answer is not in the tests


def test_leetcode_examples_call_the_solution_method():
    prompt = ("Return the largest element plus k.\n\nExample 1:\n\nInput: nums = [1,5,2], k = 0\nOutput: 5\n"
              "Explanation: 5 is largest.\n\nExample 2:\n\nInput: nums = [-3,-1], k = 1\nOutput: 0\n")
    problem = {"prompt": prompt, "entry_point": "Solution", "meta": {"func_name": "biggest"}}
    assert mined_tests(problem) == ["assert Solution().biggest(nums=[1, 5, 2], k=0) == 5",
                                    "assert Solution().biggest(nums=[-3, -1], k=1) == 0"]
