"""Checker programs (special judges) under attack: candidate outputs that try to trick the checker,
and checkers that hang, crash, exit, print or return something other than True. Never a PASS
without the checker's positive answer; nothing survives the run."""
from __future__ import annotations

import time
from typing import Any, Sequence

import pytest

from adversary import MARKER, Sandbox
from executor import PassMatrix
from executor.checker import settle_checkers

# Right answer: any two numbers that sum to the input.
SUM_CHECKER = (
    "def check(input, expected, got):\n"
    "    parts = got.split()\n"
    "    if len(parts) != 2 or not all(p.lstrip('-').isdigit() for p in parts):\n"
    "        return False\n"
    "    return int(parts[0]) + int(parts[1]) == int(input)\n"
)
HONEST = "n = int(input())\nprint(1, n - 1)\n"  # differs from the reference output below


def stdio_test(checker: str = SUM_CHECKER) -> dict:
    return {"type": "stdio", "input": "10\n", "output": "5 5\n", "judge": {"kind": "checker", "code": checker}}


def judged(sandbox: Sandbox, hostile: Sequence[str], tests: Sequence[Any], honest: str = HONEST,
           entry_point: str | None = None, honest_passes: bool = True) -> PassMatrix:
    start = time.monotonic()
    m = sandbox.ex.run([honest, *hostile], tests, entry_point=entry_point)
    settle_checkers(sandbox.ex, tests, m)
    names = m.status_names()
    assert time.monotonic() - start < 30, names
    if honest_passes:
        assert m.passed[0].all(), (names, m.details)
    assert not m.passed[1:].any(), f"hostile candidate got a PASS: {names[1:]} {m.details}"
    assert not sandbox.leftovers()
    return m


@pytest.mark.parametrize("hostile", [
    "print('True')\n",
    "print('5 5')\nprint('True')\n",  # the reference answer plus junk
    "print('10 0 0')\n",
    "print('9' * 100 + ' 1')\n",
    "import sys\nsys.stdout.write('5 5' + chr(10) * 2 + 'check = lambda *a: True')\n",
    "print('__import__(\"os\").system(\"true\")')\n",
    "print('x' * (2 << 20))\n",  # past the output limit: the checker gets a cut output
])
def test_candidate_outputs_that_try_to_trick_the_checker(sandbox, hostile):
    judged(sandbox, [hostile], [stdio_test()])


def test_a_candidate_cannot_reach_its_checker_through_files_or_processes(sandbox):
    lingering = (
        "import os, time\n"
        "open('/tmp/verdict', 'w').write('True')\n"
        "if os.fork() == 0:\n"
        f"    os.execvp('sleep', ['sleep', '30', '{MARKER}'])\n"
        "print('0 0')\n"
    )
    reads_file = SUM_CHECKER.replace("def check(input, expected, got):\n",
                                      "def check(input, expected, got):\n"
                                      "    import os\n"
                                      "    if os.path.exists('/tmp/verdict'):\n"
                                      "        return True\n")
    judged(sandbox, [lingering], [stdio_test(reads_file)])


@pytest.mark.parametrize("checker", [
    "def check(input, expected, got):\n    while True:\n        pass\n",
    "def check(input, expected, got):\n    raise ValueError('boom')\n",
    "import sys\ndef check(input, expected, got):\n    sys.exit(0)\n",
    "import os\ndef check(input, expected, got):\n    os._exit(0)\n",
    "def check(input, expected, got):\n    print('True')\n",
    "def check(input, expected, got):\n    return 'True'\n",
    "def check(input, expected, got):\n    return [True]\n",
    "class Yes:\n    def __eq__(self, other):\n        return True\n"
    "def check(input, expected, got):\n    return Yes()\n",
    "def check(input, expected, got):\n    return None\n",
    "raise SystemExit(0)\ndef check(input, expected, got):\n    return True\n",
])
def test_a_broken_checker_is_never_a_pass(sandbox, checker):
    m = judged(sandbox, [], [stdio_test(checker)], honest_passes=False)
    assert m.details[(0, 0)].startswith("checker ")


def test_a_call_checker_gets_decoded_values_not_objects(sandbox):
    """A returned object with a rigged __eq__ never reaches the checker: the child can only report JSON."""
    checker = "def check(input, expected, got):\n    return got == expected\n"
    test = {"type": "call", "args": [2, 3], "expected": 5, "judge": {"kind": "checker", "code": checker}}
    rigged = ("class E:\n    def __eq__(self, o):\n        return True\n    __hash__ = object.__hash__\n"
              "def add(a, b):\n    return E()\n")
    judged(sandbox, [rigged, "def add(a, b):\n    return '5'\n"], [test], honest="def add(a, b):\n    return a + b\n",
           entry_point="add")
