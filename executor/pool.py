"""Parent side of the worker pool: dispatch candidate tasks, replace dead workers, retry once.

Workers are fresh interpreters (``python -c 'from executor.worker import main; main()'``) talking
over ``multiprocess`` connections, not forks of the caller: a fork would hand every candidate a copy
of the caller's memory (other problems' expected outputs, a training process's model) and a spawn
context would re-import the caller's ``__main__``. Not ``Pool`` either: a Pool loses the task of a
worker that dies; here the lost task is resubmitted once and then marked CRASH.
"""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from multiprocess.connection import Pipe, wait

from executor import wire
from executor.config import ExecutorConfig
from executor.sandbox import Containment, weakest
from executor.specs import TestSpec
from executor.status import Status

IN_FLIGHT_PER_WORKER = 2  # one running, one waiting in the pipe so a worker never idles
WORKER_MAIN = "from executor.worker import main; main()"


@dataclass
class Task:
    """One candidate with the tests it still needs; ``ref`` is the caller's bookkeeping."""

    candidate: str
    entry_point: str | None
    tests: list[TestSpec]
    ref: Any = None
    attempts: int = 0
    task_id: int = -1


@dataclass
class _Slot:
    index: int
    process: subprocess.Popen
    conn: Any
    sentinel: int  # a pidfd: readable once the worker has exited
    containment: Containment | None = None  # the worker's first message
    in_flight: dict[int, tuple[Task, float]] = field(default_factory=dict)  # task_id -> (task, deadline)


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

    def _start(self, index: int) -> _Slot:
        parent_conn, child_conn = Pipe()
        fd = child_conn.fileno()
        path = [os.getcwd() if p == "" else p for p in sys.path]
        # a minimal environment: the caller's variables (API keys, tokens) never enter a worker's memory
        # and a fixed hash seed, so set/dict order (and so a verdict) is the same on every run
        env = {"PATH": os.environ.get("PATH", os.defpath), "LANG": "C.UTF-8", "PYTHONPATH": os.pathsep.join(path),
               "PYTHONHASHSEED": "0"}
        argv = [sys.executable, "-c", WORKER_MAIN, str(fd), str(index), str(os.getpid()),
                json.dumps(dataclasses.asdict(self.config))]
        process = subprocess.Popen(argv, pass_fds=[fd], env=env, stdin=subprocess.DEVNULL)
        child_conn.close()
        return _Slot(index, process, parent_conn, os.pidfd_open(process.pid))

    def _task_budget(self, task: Task) -> float:
        """Seconds after which a worker that has not answered is presumed stuck (its own deadlines failed)."""
        cfg = self.config
        return cfg.load_timeout + (cfg.timeout + 1.0) * (len(task.tests) + 1) + 30.0

    @property
    def workers(self) -> int:
        """Sandbox workers that take tasks (the runner keeps a queue in proportion)."""
        return len(self.slots)

    def _dispatch(self) -> list[tuple[Task, list[tuple]]]:
        """Hand queued tasks to the least loaded workers; a worker found dead is replaced first."""
        given_up: list[tuple[Task, list[tuple]]] = []
        while self.queue:
            slot = min(self.slots, key=lambda s: len(s.in_flight))
            if len(slot.in_flight) >= IN_FLIGHT_PER_WORKER:
                break
            if slot.process.poll() is not None:
                given_up += self._replace(slot, "worker process died")
                continue
            task = self.queue.popleft()
            # the deadline counts from when the task can start: behind the one already in flight
            start = max([d for _, d in slot.in_flight.values()], default=time.monotonic())
            slot.in_flight[task.task_id] = (task, start + self._task_budget(task))
            try:
                wire.send(slot.conn, (task.task_id, task.candidate, task.entry_point, task.tests))
            except (BrokenPipeError, ConnectionResetError):
                given_up += self._replace(slot, "worker process died")
        return given_up

    def wait(self) -> list[tuple[Task, list[tuple]]]:
        """Block until at least one task finishes (or is given up); return finished tasks and their cells."""
        done: list[tuple[Task, list[tuple]]] = []
        while not done and self.busy:
            done += self._dispatch()
            if done:
                break
            by_handle = {}
            for slot in self.slots:
                if slot.in_flight:
                    by_handle[slot.conn] = slot
                    by_handle[slot.sentinel] = slot
            now = time.monotonic()
            next_deadline = min(d for s in self.slots for _, d in s.in_flight.values())
            ready = wait(list(by_handle), timeout=max(0.0, next_deadline - now))
            dead: set[int] = set()
            for handle in ready:
                slot = by_handle[handle]
                if slot.index in dead:
                    continue
                if handle is slot.conn:
                    try:
                        while slot.conn.poll():
                            task_id, cells = wire.recv(slot.conn)
                            if task_id is None:
                                slot.containment = cells
                                continue
                            task, _ = slot.in_flight.pop(task_id)
                            done.append((task, cells))
                        continue
                    except (EOFError, OSError):
                        pass
                dead.add(slot.index)
                done += self._replace(slot, "worker process died")
            now = time.monotonic()
            for slot in self.slots:
                if slot.index not in dead and any(d < now for _, d in slot.in_flight.values()):
                    done += self._replace(slot, "worker stopped answering")
        return done

    def _replace(self, slot: _Slot, reason: str) -> list[tuple[Task, list[tuple]]]:
        """Start a new worker in the slot; resubmit its tasks once, give up on the second loss."""
        _kill(slot)
        given_up = self._retry_once([task for task, _ in slot.in_flight.values()], reason)
        new = self._start(slot.index)
        self.slots[slot.index] = new
        return given_up

    def containment(self) -> Containment:
        """The weakest containment among the workers (waits for the ones that have not reported yet)."""
        for slot in self.slots:
            if slot.containment is None:
                try:
                    _, slot.containment = wire.recv(slot.conn)  # a worker's first message: nothing is sent before it
                except (EOFError, OSError):
                    raise RuntimeError(f"executor worker {slot.index} exited before it started") from None
        return weakest([s.containment for s in self.slots])

    def cancel(self) -> None:
        """Forget queued and in-flight work (a consumer stopped early): restart busy workers."""
        self.queue.clear()
        for slot in list(self.slots):
            if slot.in_flight:
                slot.in_flight.clear()
                _kill(slot)
                self.slots[slot.index] = self._start(slot.index)

    def close(self) -> None:
        for slot in self.slots:
            try:
                wire.send(slot.conn, None)
            except (OSError, ValueError):
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
    slot.conn.close()
