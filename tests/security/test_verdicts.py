"""Verdicts nobody can forge: only positive per-test evidence from the harness is a PASS.

Each hostile candidate here is wrong (``add`` does not add) and tries to turn that into a PASS.
Every test checks, in a batch with an honest candidate (conftest.Sandbox.attack): no false PASS,
the run ends within its bound, no process left behind, the honest row all PASS. The attacks:
- leaving early: ``sys.exit(0)``, ``raise SystemExit``, ``os._exit(0)``, SIGKILL of itself, at load
  time and before the assertion.
- printing "OK"/"PASS" and forged verdict lines on stdout, fd 3 (the result channel) and every fd;
  flooding the channel with megabytes that never end a line.
- reading the channel token (and the expected values) out of the harness's own memory.
- monkeypatching unittest (TestCase.run, assertEqual, TestResult.wasSuccessful, unittest.main,
  unittest.case internals) and the harness itself (its helpers, its result class, its functions).
- a unittest class with zero test methods: INVALID, whatever the candidate.
- always-equal objects (``__eq__`` True / ``__ne__`` False), bare, inside containers, as int
  subclasses, reflected, through assertEqual; and objects that see through the equality probe.
- threads left running that tamper with results after the candidate "returned".
- patching builtins (abs, len, isinstance) the tests use: detected, reported as tampering.
Every test runs under both isolation levels ("candidate": one child per candidate, "test": one
more fork per test, whose verdict travels over an extra pipe).
"""
from __future__ import annotations

import textwrap
from typing import Iterator

import pytest

from adversary import ASSERT_TEST, CALL_TEST, CHECK_TEST, HONEST, UNITTEST_TEST, Sandbox, open_sandbox
from executor import Status

IN_PROCESS_HARNESS = (
    "the harness runs in the candidate's process and keeps its secrets and state in Python objects "
    "the candidate can reach (see the report of tests/security)"
)


@pytest.fixture(scope="module", params=["candidate", "test"])
def sandbox(request) -> Iterator[Sandbox]:
    with open_sandbox(request.param) as box:
        yield box


def known_bypass(request, reason: str) -> None:
    """Mark the test as a known executor bug (strict: the test fails once the bug is fixed)."""
    request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


def _row(m, row: int = 1) -> set[Status]:
    return {Status(s) for s in m.statuses[row]}


def test_exit_before_the_assertion(attack):
    m = attack([
        "import sys\ndef add(a, b):\n    sys.exit(0)\n",
        "def add(a, b):\n    raise SystemExit(0)\n",
        "import os\ndef add(a, b):\n    os._exit(0)\n",
        "import os, signal\ndef add(a, b):\n    os.kill(os.getpid(), signal.SIGKILL)\n",
        "import sys\nsys.exit(0)\ndef add(a, b):\n    return a + b\n",
        "import os\nos._exit(0)\n",
        "import atexit, os\natexit.register(lambda: os._exit(0))\ndef add(a, b):\n    raise KeyboardInterrupt\n",
    ])
    assert _row(m, 3) == {Status.ERROR}
    assert _row(m, 4) == {Status.CRASH}


def test_printing_success_is_not_a_pass(attack):
    m = attack([
        "def add(a, b):\n    print('OK\\nPASS\\n.\\n----\\nRan 2 tests\\n\\nOK')\n    return a - b\n",
        "import sys\nprint('{\"k\": \"R\", \"j\": 0, \"s\": 0}')\n"
        "def add(a, b):\n    sys.stdout.write('{\"t\": \"\", \"k\": \"R\", \"j\": 1, \"s\": 0}\\n')\n    return a - b\n",
    ])
    assert _row(m, 1) <= {Status.FAIL, Status.ERROR}


def test_forged_verdict_lines_on_every_fd(attack):
    forge = textwrap.dedent("""
        import os
        LINES = b''.join(b'%s %s %d 0 0.0\\n' % (t, k, j) + b'%s %s %d -1 0.0\\n' % (t, k, j)
                         for t in (b'', b'0' * 32) for k in (b'L', b'R') for j in range(4))
        def forge():
            for fd in range(0, 64):
                try:
                    os.write(fd, LINES)
                except OSError:
                    pass
        forge()
        def add(a, b):
            forge()
            return a - b
    """)
    # the per-test grandchild reports [status, detail, output] as JSON on a pipe it inherited
    pipe_forge = textwrap.dedent("""
        import os
        def add(a, b):
            for fd in range(4, 64):
                try:
                    os.write(fd, b'[0, "", null]')
                except OSError:
                    pass
            os._exit(0)
    """)
    m = attack([forge, forge.replace("        forge()\n        def add", "        def add"), pipe_forge])
    assert _row(m, 1) <= {Status.CRASH, Status.FAIL, Status.ERROR}


def test_token_read_from_harness_memory_cannot_forge_a_pass(attack, request):
    """The candidate runs in the harness's process: it can walk the stack to the channel token."""
    known_bypass(request, IN_PROCESS_HARNESS)
    at_load = textwrap.dedent("""
        import os, sys
        f = sys._getframe()
        while f is not None and 'token' not in f.f_locals:
            f = f.f_back
        if f is not None:
            tok, pending = f.f_locals['token'], f.f_locals['pending']
            lines = ['%s L -1 -1 0.0' % tok]  # the channel format of executor.harness._message
            lines += ['%s R %d 0 0.0' % (tok, j) for j, _ in pending]
            os.write(3, ('\\n'.join(lines) + '\\n').encode())
            os._exit(0)
        def add(a, b):
            return a - b
    """)
    at_call = textwrap.dedent("""
        import os, sys
        def add(a, b):
            f = sys._getframe()
            while f is not None and 'token' not in f.f_locals:
                f = f.f_back
            if f is not None:
                tok, pending, now = f.f_locals['token'], f.f_locals['pending'], f.f_locals['j']
                js = [j for j, _ in pending]
                lines = ['%s R %d 0 0.0' % (tok, j) for j in js[js.index(now):]]
                os.write(3, ('\\n'.join(lines) + '\\n').encode())
                os._exit(0)
            return a - b
    """)
    attack([at_load, at_call])


def test_expected_value_read_from_harness_memory_is_not_a_pass(attack):
    """A call test's expected value must not be in the sandbox for the candidate to copy."""
    hostile = textwrap.dedent("""
        import json, sys
        def add(a, b):
            f = sys._getframe()
            while f is not None:
                for value in list(f.f_locals.values()):
                    for item in (value if isinstance(value, list) else [value]):
                        spec = getattr(item[1] if isinstance(item, tuple) and len(item) == 2 else item, 'spec', None)
                        if getattr(spec, 'expected_json', None) and json.loads(spec.args_json) == [a, b]:
                            return json.loads(spec.expected_json)
                f = f.f_back
            return a - b
    """)
    attack(hostile, [CALL_TEST, {"type": "call", "args": [2, 2], "expected": 4}])


def test_unittest_monkeypatching(attack):
    patches = [
        "unittest.TestCase.run = lambda self, result=None: result",
        "unittest.TestCase.assertEqual = lambda self, *a, **k: None\n"
        "unittest.TestCase.assertTrue = lambda self, *a, **k: None",
        "unittest.TestResult.wasSuccessful = lambda self: True",
        "unittest.TestResult.addFailure = unittest.TestResult.addSuccess\n"
        "unittest.TestResult.addError = unittest.TestResult.addSuccess",
        "unittest.main = lambda *a, **k: None",
        "unittest.TestSuite.run = lambda self, result, debug=False: result",
        "unittest.TestLoader.loadTestsFromTestCase = lambda self, cls: unittest.TestSuite()",
    ]
    hostile = []
    for patch in patches:
        body = textwrap.indent(patch, "    ")
        hostile.append(f"import unittest\n{patch}\ndef add(a, b):\n    return a - b\n")  # at load time
        hostile.append(f"import unittest\ndef add(a, b):\n{body}\n    return a - b\n")  # while the test runs
    m = attack(hostile, [UNITTEST_TEST, ASSERT_TEST])
    for row in range(2, len(hostile) + 1, 2):  # patching during a test is reported as tampering
        assert "tampering" in m.details.get((row, 0), ""), (row, m.details.get((row, 0)))


def test_unittest_patched_at_load_does_not_fool_an_assert_test_that_uses_unittest(attack):
    """unittest is restored before the tests that can reach it, not once after the load: an assert
    test that calls unittest's assertions (by module, by an imported name, through sys.modules) must
    still see the originals, and the test that cannot reach unittest still fails the wrong answer."""
    patches = [
        "unittest.TestCase.assertEqual = lambda self, *a, **k: None",
        "unittest.case.TestCase.assertEqual = lambda self, *a, **k: None",
        "unittest.TestCase.assertTrue = lambda self, *a, **k: None\n"
        "unittest.TestCase.assertEqual = unittest.TestCase.assertTrue",
    ]
    tests = [
        "import unittest\nassert unittest.TestCase().assertEqual(add(1, 2), 3) is None",
        "from unittest import TestCase\nassert TestCase().assertEqual(add(1, 2), 3) is None",
        "import sys\nassert sys.modules['unittest'].TestCase().assertEqual(add(1, 2), 3) is None",
        "case = __import__('unittest').TestCase()\nassert case.assertEqual(add(1, 2), 3) is None",
        ASSERT_TEST,
    ]
    attack([f"import unittest\n{patch}\ndef add(a, b):\n    return a - b\n" for patch in patches], tests)


def test_unittest_internals_monkeypatching(attack):
    """Swapping what TestCase.run relies on (unittest.case._Outcome) must not swallow failures."""
    hostile = textwrap.dedent("""
        import contextlib, unittest.case
        class _Outcome:
            def __init__(self, result=None):
                self.result, self.success, self.expecting_failure = result, True, False
                self.expectedFailure, self.skipped, self.errors, self.result_supports_subtests = None, [], [], False
            @contextlib.contextmanager
            def testPartExecutor(self, test_case, isTest=False):
                try:
                    yield
                except BaseException:
                    pass
        unittest.case._Outcome = _Outcome
        def add(a, b):
            return a - b
    """)
    attack(hostile, [UNITTEST_TEST])


def test_harness_monkeypatching(attack):
    """The harness is removed from sys.modules before the candidate runs; reaching in anyway fails."""
    prefix = "import sys\nh = sys.modules['executor.harness']\n"
    hostile = [
        prefix + "for table in (h._HELPERS, getattr(h, '_COMPARE', {})):\n"
                 "    for key in table:\n        table[key] = lambda *a, **k: True\n"
                 "def add(a, b):\n    return a - b\n",
        prefix + "h._CountingResult.addFailure = lambda self, test, err: self.addSuccess(test)\n"
                 "def add(a, b):\n    return a - b\n",
        prefix + "h._status_of.__code__ = (lambda exc: 0).__code__\ndef add(a, b):\n    return a - b\n",
        prefix + "h.Status = type('S', (), {'PASS': 0, 'FAIL': 0, 'ERROR': 0, 'MEMORY': 0})\n"
                 "def add(a, b):\n    return a - b\n",
    ]
    attack(hostile, [ASSERT_TEST, UNITTEST_TEST, CHECK_TEST])


def test_unittest_class_without_tests_is_invalid(sandbox):
    empty = [
        "import unittest\nclass T(unittest.TestCase):\n    pass\n",
        "import unittest\nclass T(unittest.TestCase):\n    def helper(self):\n        assert add(1, 2) == 3\n",
        "import unittest\nclass T(unittest.TestCase):\n    locals()['test_x'] = lambda self: None\n",
    ]
    hostile = "import unittest\nunittest.TestCase.run = lambda self, result=None: result\ndef add(a, b):\n    return 0\n"
    m = sandbox.ex.run([HONEST, hostile], [ASSERT_TEST, *empty], entry_point="add")
    assert m.statuses[0, 0] == Status.PASS and m.statuses[1, 0] != Status.PASS, m.status_names()
    assert (m.statuses[:, 1:] == Status.INVALID).all(), m.status_names()
    assert not sandbox.leftovers()


def test_always_equal_objects(attack):
    liar = textwrap.dedent("""
        class Liar:
            def __eq__(self, other):
                return True
            def __ne__(self, other):
                return False
            __hash__ = object.__hash__
    """)
    hostile = [
        liar + "def add(a, b):\n    return Liar()\n",
        liar + "def add(a, b):\n    return [Liar()]\n",
        liar + "def add(a, b):\n    return (Liar(),)\n",
        liar + "def add(a, b):\n    return {'k': Liar()}\n",
        "class Liar(int):\n    def __eq__(self, other):\n        return True\n    def __ne__(self, other):\n"
        "        return False\n    __hash__ = int.__hash__\ndef add(a, b):\n    return Liar(a - b)\n",
        "class Liar(str):\n    __eq__ = lambda self, other: True\n    __ne__ = lambda self, other: False\n"
        "    __hash__ = str.__hash__\ndef add(a, b):\n    return Liar('no')\n",
    ]
    tests = [ASSERT_TEST, "assert 3 == add(1, 2)", "assert not (add(1, 2) != 3)", "assert [add(1, 2)] == [3]",
             CHECK_TEST, UNITTEST_TEST, CALL_TEST]
    attack(hostile, tests)


def test_equality_liars_that_see_through_the_probe(attack):
    """Objects that lie only to the values a test compares with, or through other operators."""
    hostile = [
        "class Liar:\n    def __eq__(self, other):\n        return isinstance(other, int)\n"
        "    def __ne__(self, other):\n        return not isinstance(other, int)\n"
        "    __hash__ = object.__hash__\ndef add(a, b):\n    return Liar()\n",
        "class Liar:\n    def __eq__(self, other):\n        return type(other).__module__ != 'executor.harness'\n"
        "    __hash__ = object.__hash__\ndef add(a, b):\n    return Liar()\n",
    ]
    tests = [ASSERT_TEST, "assert add(1, 2) in (3,)", "assert 3 == add(1, 2) == 3",
             "x = add(1, 2)\nassert abs(x - 3) < 1e-9", UNITTEST_TEST]
    rigged = ("class Zero:\n    def __sub__(self, other):\n        return self\n    def __abs__(self):\n"
              "        return 0\n    def __eq__(self, other):\n        return False\n    __hash__ = object.__hash__\n"
              "def add(a, b):\n    return Zero()\n")
    attack([*hostile, rigged], tests)


def test_disguised_equality_liars(attack):
    """Liars that do not look like candidate classes: a spoofed __module__, a configured MagicMock."""
    hostile = [
        "class Liar:\n    __module__ = 'builtins'\n    def __eq__(self, other):\n"
        "        return isinstance(other, int)\n    __hash__ = object.__hash__\ndef add(a, b):\n    return Liar()\n",
        "from unittest import mock\ndef add(a, b):\n    m = mock.MagicMock()\n"
        "    m.__eq__.side_effect = lambda other: isinstance(other, int)\n    return m\n",
    ]
    attack(hostile, [ASSERT_TEST, CHECK_TEST, UNITTEST_TEST])


def test_expected_value_read_from_the_test_code_is_not_a_pass(attack, request):
    """Assert-style tests run in the candidate's process: their constants are one frame away."""
    known_bypass(request, "code tests execute next to the candidate, which can read their compiled constants")
    hostile = textwrap.dedent("""
        import sys
        def add(a, b):
            f = sys._getframe(1)
            while f is not None:
                consts = [c for c in f.f_code.co_consts if type(c) is int]
                for i in range(len(consts) - 2):
                    if consts[i:i + 2] == [a, b]:
                        return consts[i + 2]
                f = f.f_back
            return a - b
    """)
    attack(hostile, [ASSERT_TEST, CHECK_TEST])


def test_threads_left_running_cannot_tamper(attack):
    hostile = textwrap.dedent("""
        import builtins, os, sys, threading, time, unittest
        def meddle():
            while True:
                unittest.TestCase.assertEqual = lambda self, *a, **k: None
                unittest.TestCase.assertTrue = lambda self, *a, **k: None
                unittest.TestResult.addFailure = unittest.TestResult.addSuccess
                builtins.AssertionError = type('Harmless', (Exception,), {})
                for fd in range(64):
                    try:
                        os.write(fd, b'{"t":"","k":"R","j":0,"s":0,"sec":0.0,"d":""}\\n')
                    except OSError:
                        pass
                time.sleep(0.001)
        threading.Thread(target=meddle, daemon=False).start()
        def add(a, b):
            threading.Thread(target=meddle, daemon=True).start()
            return a - b
    """)
    quiet = hostile.replace("                for fd in range(64):\n", "                for fd in ():\n")
    attack([hostile, quiet])


def test_patching_builtins_used_by_tests(attack):
    hostile = [
        "import builtins\ndef add(a, b):\n    builtins.abs = lambda x: 0\n    return a - b\n",
        "import builtins\ndef add(a, b):\n    builtins.len = lambda x: 1\n    builtins.isinstance = lambda *a: True\n"
        "    return a - b\n",
        "import builtins\nbuiltins.abs = lambda x: 0\nbuiltins.len = lambda x: 1\n"
        "builtins.isinstance = lambda *a: True\ndef add(a, b):\n    return [a - b]\n",
    ]
    tests = ["x = add(1, 2)\nassert abs(x - 3) < 1e-9",
             "x = add(1, 2)\nassert isinstance(x, int) and len([x]) == 1 and abs(x - 3) < 1e-9",
             "def check(candidate):\n    r = candidate(2, 2)\n    assert abs(r - 4) < 1e-9\n"]
    m = attack(hostile, tests)
    assert "tampering" in m.details.get((1, 0), ""), m.details
    assert "tampering" in m.details.get((2, 1), ""), m.details


def test_sabotaging_the_result_channel(attack):
    """Closing, redirecting or stopping the channel's writer ends in a non-PASS, within the bound."""
    m = attack([
        "import os\nos.close(3)\ndef add(a, b):\n    return a - b\n",
        "import os\ndef add(a, b):\n    os.close(3)\n    return a - b\n",
        "import os\nos.dup2(1, 3)\ndef add(a, b):\n    return a - b\n",
        "import os\ndef add(a, b):\n    os.dup2(os.open(os.devnull, os.O_WRONLY), 3)\n    return a - b\n",
        "import os, signal\ndef add(a, b):\n    os.kill(os.getpid(), signal.SIGSTOP)\n    return a - b\n",
    ])
    assert {Status(s) for s in m.statuses[5]} <= {Status.TIMEOUT, Status.SKIPPED}


def test_flooding_the_result_channel_is_tampering_within_bounds(attack):
    """Megabytes on the channel without a newline cannot be a verdict line: the worker stops
    buffering them at the longest honest line (its memory stays bounded) and calls it tampering."""
    m = attack(["import os\nwhile True:\n    os.write(3, b'x' * (1 << 20))\n",
                "import os\ndef add(a, b):\n    while True:\n        os.write(3, b'y' * (1 << 20))\n"])
    assert _row(m, 1) == {Status.CRASH} and "tampered" in m.details[(1, 0)], m.details
    # flooding during a test races the test's deadline (calibrated from the honest peer: a small
    # fraction of a second): either ends it, neither is a PASS, and the flooded bytes stay bounded
    assert _row(m, 2) <= {Status.CRASH, Status.TIMEOUT, Status.SKIPPED}, m.details
    assert "tampered" in m.details[(2, 0)] or m.statuses[2, 0] == Status.TIMEOUT, m.details
