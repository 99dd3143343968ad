"""Shared machinery of the adversarial suite: the executor config, probes and the `attack` check.

Every attack runs in a batch next to an honest candidate and is judged by the same promises:
the honest row is all PASS, the hostile rows hold no PASS, the run ends within its bound, and
no process the candidate started is alive afterwards.
"""
from __future__ import annotations

import dataclasses
import os
import socket
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from executor import Executor, ExecutorConfig, PassMatrix, Status

TIMEOUT = 1.0
LOAD_TIMEOUT = 2.0
CONFIG = ExecutorConfig(workers=2, timeout=TIMEOUT, load_timeout=LOAD_TIMEOUT, max_timeouts=2,
                        memory_mb=512, cache_path=None)
COMPILE_SECONDS = 8.0  # a compile on a loaded machine, for the time bound of attacks in compiled languages
MARKER = f"coderm-sec-{uuid.uuid4().hex}"  # put in the argv of processes candidates spawn

HONEST = "def add(a, b):\n    return a + b\n"
ASSERT_TEST = "assert add(1, 2) == 3"
CHECK_TEST = "def check(candidate):\n    assert candidate(2, 5) == 7\n    assert candidate(-1, 1) == 0\n"
UNITTEST_TEST = (
    "import unittest\n"
    "class TestAdd(unittest.TestCase):\n"
    "    def test_small(self):\n"
    "        self.assertEqual(add(3, 4), 7)\n"
    "    def test_zero(self):\n"
    "        self.assertTrue(add(0, 0) == 0)\n"
)
CALL_TEST = {"type": "call", "args": [10, 20], "expected": 30}
TESTS = [ASSERT_TEST, CHECK_TEST, UNITTEST_TEST, CALL_TEST]


def _process_table() -> dict[int, tuple[int, str]]:
    """pid -> (ppid, cmdline) of every process visible on the host."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        table[int(name)] = (ppid, cmdline)
    return table


def descendants_by_depth(root: int) -> dict[int, int]:
    """pid -> depth below ``root`` (children at depth 1)."""
    table = _process_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    depth, frontier = {}, [(root, 0)]
    while frontier:
        pid, d = frontier.pop()
        for child in children.get(pid, []):
            depth[child] = d + 1
            frontier.append((child, d + 1))
    return depth


def marked_processes() -> list[str]:
    return [f"{pid}: {cmd}" for pid, (_, cmd) in _process_table().items() if MARKER in cmd and pid != os.getpid()]


def worker_descendants(ex: Any) -> dict[int, int]:
    """pid -> depth below its worker, for every process under this executor's current workers."""
    depth: dict[int, int] = {}
    for slot in ex._pool.slots:
        depth.update(descendants_by_depth(slot.process.pid))
    return depth


@dataclass
class Sandbox:
    """The module's executor and the process depth below its idle workers (1 with namespaces: the
    namespace's init; 0 without). Only this executor's workers are looked at, so other executors
    alive in the same pytest process do not count."""

    ex: Any
    idle_depth: int

    def leftovers(self) -> list[str]:
        table = _process_table()
        deep = [pid for pid, d in worker_descendants(self.ex).items() if d > self.idle_depth]
        return [f"{pid}: {table.get(pid, (0, '?'))[1]}" for pid in deep] + marked_processes()

    def attack(self, hostile: str | Sequence[str], tests: Sequence[Any] = TESTS, *, honest: str = HONEST,
               entry_point: str | None = "add", bound: float | None = None,
               language: str | Sequence[str] = "python") -> PassMatrix:
        """Run honest + hostile candidates (in ``language``) together and check every promise; return the matrix."""
        hostile = [hostile] if isinstance(hostile, str) else list(hostile)
        if bound is None:  # load (or a compile of each), every test timing out, and slack for a busy machine
            load = LOAD_TIMEOUT if language == "python" else COMPILE_SECONDS * (1 + len(hostile))
            bound = load + len(tests) * (TIMEOUT + 0.5) + 4.0
        start = time.monotonic()
        m = self.ex.run([honest, *hostile], tests, entry_point=entry_point, language=language)
        wall = time.monotonic() - start
        names = m.status_names()
        assert wall < bound, f"run took {wall:.1f}s > {bound:.1f}s: {names}"
        assert (m.statuses[0] == Status.PASS).all(), f"honest candidate did not pass: {names[0]} {m.details}"
        assert not m.passed[1:].any(), f"hostile candidate got a PASS: {names[1:]} {m.details}"
        left = self.leftovers()
        assert not left, f"processes survived the run: {left}"
        return m



@contextmanager
def tcp_listener() -> Iterator[socket.socket]:
    """A non-blocking TCP listener on loopback: a candidate that reached it leaves a connection to accept."""
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        tcp.bind(("127.0.0.1", 0))
        tcp.listen(8)
        tcp.setblocking(False)
        yield tcp
    finally:
        tcp.close()


@contextmanager
def open_sandbox(isolation: str = "candidate", **overrides: Any) -> Iterator[Sandbox]:
    """A warmed-up executor; the idle process depth is measured once the workers are up."""
    with Executor(dataclasses.replace(CONFIG, isolation=isolation, **overrides)) as ex:
        warm = ex.run([HONEST], [ASSERT_TEST], entry_point="add")
        assert warm.passed.all(), warm.details
        yield Sandbox(ex, max(worker_descendants(ex).values(), default=0))
