"""Record-only tests (S* clustering) under attack: outputs are evidence, so nobody may write them but
the program that produced them, and no expected value may leak into the sandbox.

- Another candidate, running at the same time on another worker or before on the same one, tries to
  overwrite the files stdio outputs pass through (every ``.out*`` it can reach, in a loop, and from a
  daemon left behind) and to forge channel lines: the honest candidate's recorded outputs stay its own.
- A program searching the sandbox's memory for a stdio test's expected output finds nothing to copy.
"""
from __future__ import annotations

import textwrap
from typing import Iterator

import pytest

from adversary import Sandbox, open_sandbox
from executor import Status

FORGE_FILES = textwrap.dedent("""
    import glob, os, time
    def forge():
        for path in glob.glob('/tmp/**/.out*', recursive=True) + glob.glob('../../**/.out*', recursive=True):
            try:
                with open(path, 'w') as f:
                    f.write('FORGED\\n')
            except OSError:
                pass
    {prelude}
    end = time.monotonic() + 0.8
    while time.monotonic() < end:
        forge()
    print('hostile')
""")
DAEMON = textwrap.dedent("""
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            end = time.monotonic() + 3
            while time.monotonic() < end:
                forge()
            os._exit(0)
        os._exit(0)
""")
FORGE_CHANNEL = textwrap.dedent("""
    import os
    for fd in range(3, 64):
        for j in range(8):
            try:
                os.write(fd, ('%032x R %d 0 0.0 ["","FORGED"]\\n' % (j, j)).encode())
            except OSError:
                pass
    print('hostile')
""")


@pytest.fixture(scope="module", params=["candidate", "test"])
def sandbox(request) -> Iterator[Sandbox]:
    with open_sandbox(request.param, timeout_policy="fixed") as box:  # hostile loops get their full second
        yield box


def test_a_candidate_cannot_forge_another_candidates_recorded_outputs(sandbox: Sandbox):
    honest = ["print(int(input()) * 2)\n", "x = int(input())\nprint(x + x)\n", "import sys\nprint(2 * int(sys.stdin.read()))\n"]
    hostile = [FORGE_FILES.format(prelude=""), FORGE_FILES.format(prelude=DAEMON), FORGE_CHANNEL]
    candidates = [c for pair in zip(hostile, honest) for c in pair]  # interleaved: they run side by side
    tests = [{"type": "stdio", "input": f"{k}\n"} for k in range(1, 5)]
    m = sandbox.ex.run(candidates, tests)
    for row in range(1, len(candidates), 2):
        assert (m.statuses[row] == Status.PASS).all(), m.details
        assert [m.outputs[(row, j)] for j in range(len(tests))] == ["2\n", "4\n", "6\n", "8\n"], m.outputs
    for row in range(0, len(candidates), 2):
        assert all(m.outputs.get((row, j)) in (None, "hostile\n") for j in range(len(tests))), m.outputs
    assert not sandbox.leftovers()


def test_a_stdio_program_cannot_read_the_expected_output_from_memory(sandbox: Sandbox):
    """Judged and record-only tests in one batch: the worker only ever holds the inputs."""
    hostile = textwrap.dedent("""
        import gc, sys
        line = sys.stdin.read()
        found = '0'
        for obj in gc.get_objects():
            try:
                out = getattr(obj, 'output', None) if not isinstance(obj, dict) else obj.get('output')
                if isinstance(out, str) and out.strip() and getattr(obj, 'input', line) == line:
                    found = out.strip()
            except Exception:
                pass
        print(found)
    """)
    tests = [{"type": "stdio", "input": "2 3\n", "output": "5\n"}, {"type": "stdio", "input": "4 4\n", "output": "8\n"}]
    m = sandbox.attack(hostile, tests, honest="print(sum(map(int, input().split())))\n", entry_point=None)
    assert m.outputs[(1, 0)] == "0\n"
    recorded = sandbox.ex.run([hostile], [{"type": "stdio", "input": "2 3\n"}, tests[0]])
    assert recorded.outputs[(0, 0)] == "0\n" and recorded.statuses[0, 1] == Status.FAIL
