"""One pool, many callers: a driver thread owns the worker pool and serves callers' streams round robin.

Every ``Executor.run_many`` call (from any thread, nested or not) is a ``Stream``: it submits tasks
and takes its own finished tasks from its inbox. Only the driver touches the pool, so the pool's
channel invariant holds unchanged (the parent never blocks on a worker), and nothing serializes
callers: the driver hands the pool one task of each stream in turn, keeping the pool's own queue
short, so a small call waits behind at most a few tasks of a big batch, not behind the batch. A
stream that stops early drops only its own queued tasks; its tasks already on a worker finish and are
discarded, unless no other stream has work in the pool, when its busy workers are restarted (as a
single caller's early stop always did).

Identical work runs once: a task whose worker message (candidate, tests, deadlines, toolchain) equals
that of a task already in the pool follows it instead of entering the pool, and gets a copy of its
cells; a task that waited while its twin ran gets the twin's cells when its turn comes. Calls made
one after another share nothing (nothing of theirs overlaps in time), so this is no cache: it gives
concurrent one-sample calls (an RL trainer's per-rollout rewards, where sampled completions repeat)
the dedupe one batch call gets inside the executor.
"""
from __future__ import annotations

import os
import queue
import select
import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable

from executor.distributed import RayPool
from executor.pool import Finished, Task, WorkerPool


class Stream:
    """One caller's share of the pool: tasks not yet handed to it, tasks in it, and an inbox."""

    def __init__(self) -> None:
        self.waiting: deque[Task] = deque()  # submitted, not yet in the pool (guarded by the scheduler's lock)
        self.pooled = 0  # in the pool (queued there or on a worker); driver only
        self.outstanding = 0  # submitted and not yet taken back by the caller; caller only
        self.inbox: queue.SimpleQueue[Finished | BaseException] = queue.SimpleQueue()
        self.cancelled = False


@dataclass
class _Twins:
    """The tasks of one candidate program (any tests), across streams: those waiting to enter the
    pool, those in it, and finished ones with the tasks that waited while they ran (kept for them)."""

    waiting: dict[int, Task] = field(default_factory=dict)  # id(task) -> task
    running: list[Task] = field(default_factory=list)
    finished: list[tuple[Task, list[tuple], dict[int, Task]]] = field(default_factory=list)

    def forget(self, task: Task) -> None:
        """``task`` no longer waits: drop it, and the finished runs nobody waits for any more."""
        del self.waiting[id(task)]
        for _, _, waited in self.finished:
            waited.pop(id(task), None)
        self.finished = [run for run in self.finished if run[2]]

    @property
    def idle(self) -> bool:
        return not self.waiting and not self.running


def _program(task: Task) -> Hashable:
    return task.candidate, task.entry_point, task.toolchain


def _same_work(a: Task, b: Task) -> bool:
    """Would a worker do the same for both (``Task.message`` but the id)? Tests compare by value."""
    return a.tests == b.tests and a.deadlines == b.deadlines


class Scheduler:
    """The driver thread of one pool; ``submit``/``take`` from any thread, ``call`` runs on the driver."""

    def __init__(self, pool: WorkerPool | RayPool) -> None:
        self.pool = pool
        self._lock = threading.Lock()
        self._streams: deque[Stream] = deque()  # streams with waiting tasks, in round-robin order
        self._calls: deque[tuple[Callable[[], Any], Future]] = deque()
        self._pooled_by: dict[int, Stream] = {}  # task_id -> stream, for tasks in the pool
        self._twins: dict[Hashable, _Twins] = {}  # _program(task) -> its tasks, while any waits or runs
        self._followers: dict[int, list[Task]] = {}  # task_id in the pool -> tasks given its cells
        self.shared = 0  # tasks answered by a twin's run instead of their own
        self._closed = False
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._thread = threading.Thread(target=self._drive, name="coderm-executor-driver", daemon=True)
        self._thread.start()

    # -- callers' side ------------------------------------------------------------------------

    def submit(self, stream: Stream, task: Task) -> None:
        task.owner = stream
        with self._lock:
            if self._closed:
                raise RuntimeError("executor closed")
            stream.outstanding += 1
            if not stream.waiting:
                self._streams.append(stream)
            stream.waiting.append(task)
            self._twins.setdefault(_program(task), _Twins()).waiting[id(task)] = task
        self._wake()

    def take(self, stream: Stream) -> list[Finished]:
        """Block until some of the stream's tasks finish; raise what the driver hit for it (a stall)."""
        items = [stream.inbox.get()]
        while not stream.inbox.empty():
            items.append(stream.inbox.get())
        for item in items:
            if isinstance(item, BaseException):
                stream.outstanding = 0
                raise item
        stream.outstanding -= len(items)
        return items  # type: ignore[return-value]

    def cancel(self, stream: Stream) -> None:
        """Forget the stream's work (its caller stopped early), leaving every other stream's intact."""
        stream.outstanding = 0
        if not self._closed:  # a closed executor has dropped every stream's work already
            self.call(lambda: self._cancel(stream))

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the driver thread (the only one that may touch the pool) and return its result."""
        if threading.current_thread() is self._thread:
            return fn()
        future: Future = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("executor closed")
            self._calls.append((fn, future))
        self._wake()
        return future.result()

    def close(self) -> None:
        """Stop the driver; callers still waiting get an error instead of hanging."""
        with self._lock:
            self._closed = True
        self._wake()
        self._thread.join()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except BlockingIOError:  # the pipe is full: the driver is already due to wake
            pass

    # -- the driver -----------------------------------------------------------------------------

    def _drive(self) -> None:
        """Serve until closed; if serving itself breaks, fail every caller rather than leave it waiting."""
        error = RuntimeError("executor closed while this call was waiting for results")
        try:
            while self._step():
                pass
        except BaseException as e:
            error = RuntimeError(f"executor driver failed: {e!r}")
            with self._lock:
                self._closed = True
        self._fail_all(error)

    def _step(self) -> bool:
        """Run the calls asked for, feed the pool, wait for results or a wakeup, route the results."""
        with self._lock:
            if self._closed:
                return False
            calls, self._calls = self._calls, deque()
        for fn, future in calls:
            try:
                future.set_result(fn())
            except BaseException as e:  # handed to the caller that asked
                future.set_exception(e)
        self._feed()
        try:
            if self.pool.busy:
                finished = self.pool.wait(self._wake_r)
            else:
                finished = []
                select.select([self._wake_r], [], [])
        except Exception as e:  # a stall (or a broken pool): every stream with work in it is told
            self._fail_pooled(e)
            return True
        self._drain_wake()
        for task, cells in finished:
            self._finish(task, cells)
        return True

    def _feed(self) -> None:
        """Move waiting tasks into the pool, one stream at a time, while its queue is short; a task
        whose twin is in the pool, or finished while it waited, takes the twin's cells instead."""
        with self._lock:
            while self._streams and self.pool.queued < self.pool.workers:
                stream = self._streams.popleft()
                task = stream.waiting.popleft()
                if stream.waiting:
                    self._streams.append(stream)
                if task.plan is not None:
                    task.plan(task)
                stream.pooled += 1
                twins = self._twins[_program(task)]
                leader = next((t for t in twins.running if _same_work(t, task)), None)
                done = next(((t, cells) for t, cells, waited in twins.finished
                             if id(task) in waited and _same_work(t, task)), None)
                twins.forget(task)
                if leader is not None:
                    self._followers.setdefault(leader.task_id, []).append(task)
                elif done is not None:
                    task.slowdown = done[0].slowdown
                    self._deliver(task, list(done[1]), shared=True)
                else:
                    self.pool.submit(task)
                    self._pooled_by[task.task_id] = stream
                    twins.running.append(task)
                self._settle(task, twins)

    def _finish(self, task: Task, cells: list[tuple]) -> None:
        """A task left the pool: its stream and its followers get the cells, kept for twins waiting."""
        with self._lock:
            del self._pooled_by[task.task_id]
            self._deliver(task, cells)
            for follower in self._followers.pop(task.task_id, []):
                follower.slowdown = task.slowdown
                self._deliver(follower, list(cells), shared=True)
            twins = self._twins[_program(task)]
            twins.running.remove(task)
            if twins.waiting:
                twins.finished.append((task, cells, dict(twins.waiting)))
            self._settle(task, twins)

    def _settle(self, task: Task, twins: _Twins) -> None:
        """Forget a program's twins once none waits or runs (under the lock)."""
        if twins.idle:
            del self._twins[_program(task)]

    def _deliver(self, task: Task, cells: list[tuple], shared: bool = False) -> None:
        stream: Stream = task.owner
        stream.pooled -= 1
        self.shared += shared
        if not stream.cancelled:
            stream.inbox.put((task, cells))

    def _drain_wake(self) -> None:
        try:
            while os.read(self._wake_r, 4096):
                pass
        except BlockingIOError:
            pass

    def _drop(self, stream: Stream) -> None:
        """No more of the stream's tasks reach the pool, and none of its results reach its inbox."""
        stream.cancelled = True
        with self._lock:
            for task in stream.waiting:
                twins = self._twins[_program(task)]
                twins.forget(task)
                self._settle(task, twins)
            stream.waiting.clear()
            if stream in self._streams:
                self._streams.remove(stream)

    def _in_pool(self) -> list[Stream]:
        """The streams of the tasks in the pool and of their followers (one entry per task)."""
        return [*self._pooled_by.values(), *(f.owner for fs in self._followers.values() for f in fs)]

    def _cancel(self, stream: Stream) -> None:
        self._drop(stream)
        if stream.pooled and all(s is stream for s in self._in_pool()):
            self._clear_pool()  # nobody else is on the workers: restart the busy ones, as a lone caller did
            stream.pooled = 0
        else:  # on a worker, or followed by another stream's task: finishes, discarded
            for task in [t for t in self.pool.queue if t.owner is stream and t.task_id not in self._followers]:
                self.pool.queue.remove(task)
                del self._pooled_by[task.task_id]
                stream.pooled -= 1
                with self._lock:
                    twins = self._twins[_program(task)]
                    twins.running.remove(task)
                    self._settle(task, twins)

    def _clear_pool(self) -> None:
        """Drop every task in the pool (busy workers restart) and what followed them."""
        self.pool.cancel()
        self._pooled_by.clear()
        self._followers.clear()
        with self._lock:
            for program, twins in list(self._twins.items()):
                twins.running.clear()
                if twins.idle:
                    del self._twins[program]

    def _fail_pooled(self, error: Exception) -> None:
        """The pool failed: its work is dropped (busy workers restarted) and the streams that had some get the error."""
        streams = {id(s): s for s in self._in_pool()}
        self._clear_pool()
        for stream in streams.values():
            self._drop(stream)
            stream.pooled = 0
            stream.inbox.put(error)

    def _fail_all(self, error: Exception) -> None:
        with self._lock:
            calls, self._calls = self._calls, deque()
            streams = {id(s): s for s in [*self._streams, *self._in_pool()]}
        for _, future in calls:
            future.set_exception(error)
        for stream in streams.values():
            stream.inbox.put(error)
