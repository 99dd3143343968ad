"""Parent side of the worker pool: dispatch candidate tasks, replace dead workers, retry once, and
fail loudly when a worker goes silent.

Workers are fresh interpreters (``python -c 'from executor.worker import main; main()'``) talking
over a socket pair (``executor.wire``), not forks of the caller: a fork would hand every candidate a
copy of the caller's memory (other problems' expected outputs, a training process's model) and a
spawn context would re-import the caller's ``__main__``. Not ``Pool`` either: a Pool loses the task
of a worker that dies; here the lost task is resubmitted once and then marked CRASH.

Invariant: the parent never blocks on a worker. Its ends of the sockets are non-blocking
(``wire.Channel``): a job is queued and written as the socket takes it, and every ``wait`` reads
whatever each busy worker has sent while it writes, so a worker blocked sending a result is drained
as soon as the parent waits, whatever the parent is sending it at the same time (issue 19: both
sides blocked sending, forever). The only blocking call is the select in ``wait``, bounded by the
next stall deadline. A worker blocks only on its socket, never while supervising a candidate: it
sends a candidate's cells in one message when done and, while it runs one, a heartbeat at most once
a second that a cell finishes, skipped when the socket is full. Each cell finishes within the
worker's own deadlines, so a busy worker that has neither sent nor taken a byte for
``config.stall_seconds`` is wedged: ``wait`` raises ``ExecutorStalled`` naming it.
"""
from __future__ import annotations

import dataclasses
import json
import os
import select
import selectors
import socket
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from executor import wire
from executor.config import ExecutorConfig
from executor.languages import Toolchain, toolchain_roots
from executor.sandbox import Containment, weakest
from executor.specs import TestSpec
from executor.status import Status

IN_FLIGHT_PER_WORKER = 2  # one running, one waiting in the socket so a worker never idles
WORKER_MAIN = "from executor.worker import main; main()"


@dataclass
class Task:
    """One candidate with the tests it still needs; ``ref`` is the caller's bookkeeping.

    ``plan``, when set, is called on the driver thread just before the task enters the pool: it may
    set ``deadlines`` (reference seconds per test; None: ``timeout`` each) and reorder the tests from
    the evidence of the tasks finished by then. ``slowdown`` comes back with the cells: how slow the
    worker that ran them measured itself (``executor.deadlines``)."""

    candidate: str
    entry_point: str | None
    tests: list[TestSpec]
    ref: Any = None
    attempts: int = 0
    task_id: int = -1
    owner: Any = None  # the caller's stream (executor.scheduler)
    deadlines: list[float] | None = None
    plan: Callable[["Task"], None] | None = None
    slowdown: float = 1.0
    toolchain: Toolchain | None = None  # how to build and run a candidate that is not Python

    def message(self) -> tuple:
        """What a worker gets: never the caller's bookkeeping."""
        return self.task_id, self.candidate, self.entry_point, self.tests, self.deadlines, self.toolchain


Finished = tuple[Task, list[tuple]]


class ExecutorStalled(RuntimeError):
    """A busy worker was silent for ``stall_seconds``: the run fails instead of hanging.

    ``problems`` is filled by a caller that knows what the tasks belong to.
    """

    def __init__(self, report: str, worker: int, tasks: list[Task]) -> None:
        super().__init__(report)
        self.worker = worker
        self.tasks = tasks
        self.problems: list[str] = []

    def __str__(self) -> str:
        report = super().__str__()
        return f"{report}; problems in flight there: {', '.join(self.problems)}" if self.problems else report


@dataclass
class _Slot:
    index: int
    process: subprocess.Popen
    channel: wire.Channel
    sentinel: int  # a pidfd: readable once the worker has exited
    heard: float  # when the worker last sent or took bytes, or was given work while idle
    containment: Containment | None = None  # the worker's first message
    in_flight: dict[int, tuple[Task, int]] = field(default_factory=dict)  # task_id -> (task, job bytes)


class TaskQueue:
    """What every pool shares: task ids, the queue of tasks waiting for a worker, and the retry policy.
    A pool keeps ``slots``, each with the ``in_flight`` tasks handed to one worker (or Ray actor)."""

    slots: list[Any]

    def __init__(self) -> None:
        self.queue: deque[Task] = deque()
        self._next_id = 0
        self.resubmitted = 0  # lost tasks sent again

    def submit(self, task: Task) -> None:
        task.task_id = self._next_id
        self._next_id += 1
        self.queue.append(task)

    @property
    def busy(self) -> bool:
        return bool(self.queue) or any(s.in_flight for s in self.slots)

    @property
    def queued(self) -> int:
        return len(self.queue)

    def _retry_once(self, lost: list[Task], reason: str) -> list[tuple[Task, list[tuple]]]:
        """A lost task goes back to the front of the queue once; lost again, its cells are CRASH with
        ``reason`` (a candidate that keeps killing its host must not run forever)."""
        given_up = []
        for task in lost:
            task.attempts += 1
            if task.attempts >= 2:
                given_up.append((task, [(Status.CRASH, 0.0, f"{reason} twice; not retried", None)] * len(task.tests)))
            else:
                self.queue.appendleft(task)
                self.resubmitted += 1
        return given_up


class WorkerPool(TaskQueue):
    def __init__(self, config: ExecutorConfig) -> None:
        super().__init__()
        self.config = config
        self.slots = [self._start(i) for i in range(config.workers)]
        self._done: list[Finished] = []  # read from the workers, not yet returned by wait()
        self._finished_at = time.monotonic()  # when a task last finished, for the stall report

    def _start(self, index: int) -> _Slot:
        parent_sock, child_sock = socket.socketpair()
        fd = child_sock.fileno()
        path = [os.getcwd() if p == "" else p for p in sys.path]
        # a minimal environment: the caller's variables (API keys, tokens) never enter a worker's memory
        # and a fixed hash seed, so set/dict order (and so a verdict) is the same on every run
        env = {"PATH": os.environ.get("PATH", os.defpath), "LANG": "C.UTF-8", "PYTHONPATH": os.pathsep.join(path),
               "PYTHONHASHSEED": "0"}
        argv = [sys.executable, "-c", WORKER_MAIN, str(fd), str(index), str(os.getpid()),
                json.dumps(dataclasses.asdict(self.config)), json.dumps(toolchain_roots())]
        process = subprocess.Popen(argv, pass_fds=[fd], env=env, stdin=subprocess.DEVNULL)
        child_sock.close()
        return _Slot(index, process, wire.Channel(parent_sock), os.pidfd_open(process.pid), time.monotonic())

    @property
    def workers(self) -> int:
        """Sandbox workers that take tasks (the runner keeps a queue in proportion)."""
        return len(self.slots)

    def _dispatch(self) -> None:
        """Hand queued tasks to the least loaded workers; a worker found dead is replaced first."""
        while self.queue:
            slot = min(self.slots, key=lambda s: len(s.in_flight))
            if len(slot.in_flight) >= IN_FLIGHT_PER_WORKER:
                break
            if slot.process.poll() is not None:
                self._replace(slot, "worker process died")
                continue
            task = self.queue.popleft()
            if not slot.in_flight:
                slot.heard = time.monotonic()  # an idle worker has nothing to say: its silence so far is no stall
            slot.in_flight[task.task_id] = (task, slot.channel.put(task.message()))
            self._service(slot)

    def wait(self, wakeup: int | None = None) -> list[Finished]:
        """Block until at least one task finishes (or is given up), or ``wakeup`` (a file descriptor)
        is readable: new work to dispatch; return finished tasks and their cells (maybe none when woken).

        Raises ExecutorStalled when a busy worker neither sends nor takes a byte for ``config.stall_seconds``.
        """
        while not self._done and self.busy:
            self._dispatch()
            if not self._done and self._listen(wakeup):
                break
        done, self._done = self._done, []
        return done

    def _listen(self, wakeup: int | None) -> bool:
        """Wait until a busy worker sends something, takes more bytes or dies, or the stall deadline
        passes; True when ``wakeup`` became readable."""
        busy = [s for s in self.slots if s.in_flight]
        stall = self.config.stall_seconds
        with selectors.DefaultSelector() as selector:
            for slot in busy:
                writing = selectors.EVENT_WRITE if slot.channel.unsent else 0
                selector.register(slot.channel, selectors.EVENT_READ | writing, slot)
                selector.register(slot.sentinel, selectors.EVENT_READ, slot)
            if wakeup is not None:
                selector.register(wakeup, selectors.EVENT_READ, None)
            ready = selector.select(max(0.0, min(s.heard for s in busy) + stall - time.monotonic()))
        woken = any(key.data is None for key, _ in ready)
        for slot in {key.data.index: key.data for key, _ in ready if key.data is not None}.values():
            self._service(slot)
        if self._done or woken:
            return woken
        now = time.monotonic()
        for slot in self.slots:
            if slot.in_flight and now - slot.heard > stall:
                raise ExecutorStalled(self._stall_report(slot, now), slot.index, [t for t, _ in slot.in_flight.values()])
        return False

    def _service(self, slot: _Slot) -> None:
        """Send what the worker's socket takes, read what it sent; replace the worker if it is gone."""
        unsent = slot.channel.unsent
        try:
            slot.channel.flush()
            gone = self._read(slot)
        except (BrokenPipeError, ConnectionResetError):
            gone = True
        if slot.channel.unsent < unsent:  # it took bytes: a worker reading a long job is not silent
            slot.heard = time.monotonic()
        if gone or slot.process.poll() is not None:
            self._replace(slot, "worker process died")

    def _read(self, slot: _Slot) -> bool:
        """Take the worker's messages (finished tasks go to ``_done``); True once it closed its end."""
        received = slot.channel.received
        messages, closed = slot.channel.receive()
        if slot.channel.received != received:
            slot.heard = time.monotonic()
        for task_id, payload in messages:
            if task_id is None:
                slot.containment = payload
            elif payload is not None:  # None: a heartbeat, the task is progressing
                task, _ = slot.in_flight.pop(task_id)
                cells, task.slowdown = payload
                self._done.append((task, cells))
                self._finished_at = time.monotonic()
        return closed

    def _stall_report(self, slot: _Slot, now: float) -> str:
        tasks = "; ".join(f"task {task.task_id}: {len(task.tests)} tests, a {size:,}-byte job, candidate "
                          f"{task.candidate[:80]!r}" for task, size in slot.in_flight.values())
        return (f"executor worker {slot.index} (pid {slot.process.pid}) said nothing for {now - slot.heard:.0f}s "
                f"(stall timeout {self.config.stall_seconds:.0f}s) with {len(slot.in_flight)} task(s) in flight: "
                f"{tasks}. {slot.channel.unsent:,} bytes of jobs not yet taken by the worker, {len(slot.channel.inbox):,} "
                f"bytes of an unfinished reply received; no task finished anywhere for {now - self._finished_at:.0f}s; "
                f"{len(self.queue)} tasks queued")

    def _replace(self, slot: _Slot, reason: str) -> None:
        """Start a new worker in the slot; resubmit its tasks once, give up on the second loss."""
        _kill(slot)
        self._done += self._retry_once([task for task, _ in slot.in_flight.values()], reason)
        self.slots[slot.index] = self._start(slot.index)

    def containment(self) -> Containment:
        """The weakest containment among the workers (waits for the ones that have not reported yet)."""
        for index in range(len(self.slots)):
            slot = self.slots[index]
            deadline = time.monotonic() + self.config.stall_seconds
            while slot.containment is None:  # a worker's first message: nothing is sent before it
                closed = self._read(slot)
                if slot.containment is not None:
                    break
                if closed or slot.process.poll() is not None:
                    raise RuntimeError(f"executor worker {index} exited before it started")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ExecutorStalled(f"executor worker {index} (pid {slot.process.pid}) did not report its "
                                          f"containment within {self.config.stall_seconds:.0f}s", index, [])
                select.select([slot.channel, slot.sentinel], [], [], remaining)
        return weakest([s.containment for s in self.slots])

    def cancel(self) -> None:
        """Forget queued, in-flight and unreturned work (a consumer stopped early): restart busy workers."""
        self.queue.clear()
        self._done.clear()
        for slot in list(self.slots):
            if slot.in_flight:
                slot.in_flight.clear()
                _kill(slot)
                self.slots[slot.index] = self._start(slot.index)

    def close(self) -> None:
        for slot in self.slots:
            try:  # a worker killed mid-task (a timeout, a crash) has closed its end already
                slot.channel.put(None)
            except OSError:
                pass
        for slot in self.slots:
            try:
                slot.process.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                pass
            _kill(slot)
        self.slots = []


def _kill(slot: _Slot) -> None:
    """SIGKILL the worker; its namespace (and every candidate process in it) dies with it."""
    if slot.process.poll() is None:
        try:
            slot.process.kill()
        except ProcessLookupError:
            pass
    slot.process.wait()
    os.close(slot.sentinel)
    slot.channel.close()
