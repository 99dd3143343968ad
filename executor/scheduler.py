"""One pool, many callers: a driver thread owns the worker pool and serves callers' streams round robin.

Every ``Executor.run_many`` call (from any thread, nested or not) is a ``Stream``: it submits tasks
and takes its own finished tasks from its inbox. Only the driver touches the pool, so the pool's
channel invariant holds unchanged (the parent never blocks on a worker), and nothing serializes
callers: the driver hands the pool one task of each stream in turn, keeping the pool's own queue
short, so a small call waits behind at most a few tasks of a big batch, not behind the batch. A
stream that stops early drops only its own queued tasks; its tasks already on a worker finish and are
discarded, unless no other stream has work in the pool, when its busy workers are restarted (as a
single caller's early stop always did).
"""
from __future__ import annotations

import os
import queue
import select
import threading
from collections import deque
from concurrent.futures import Future
from typing import Any, Callable

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


class Scheduler:
    """The driver thread of one pool; ``submit``/``take`` from any thread, ``call`` runs on the driver."""

    def __init__(self, pool: WorkerPool | RayPool) -> None:
        self.pool = pool
        self._lock = threading.Lock()
        self._streams: deque[Stream] = deque()  # streams with waiting tasks, in round-robin order
        self._calls: deque[tuple[Callable[[], Any], Future]] = deque()
        self._pooled_by: dict[int, Stream] = {}  # task_id -> stream, for tasks in the pool
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
            self._deliver(task, (task, cells))
        return True

    def _feed(self) -> None:
        """Move waiting tasks into the pool, one stream at a time, while its queue is short."""
        with self._lock:
            while self._streams and self.pool.queued < self.pool.workers:
                stream = self._streams.popleft()
                task = stream.waiting.popleft()
                if stream.waiting:
                    self._streams.append(stream)
                if task.plan is not None:
                    task.plan(task)
                self.pool.submit(task)
                self._pooled_by[task.task_id] = stream
                stream.pooled += 1

    def _deliver(self, task: Task, item: Finished) -> None:
        stream = self._pooled_by.pop(task.task_id)
        stream.pooled -= 1
        if not stream.cancelled:
            stream.inbox.put(item)

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
            stream.waiting.clear()
            if stream in self._streams:
                self._streams.remove(stream)

    def _cancel(self, stream: Stream) -> None:
        self._drop(stream)
        if stream.pooled and all(s is stream for s in self._pooled_by.values()):
            self.pool.cancel()  # nobody else is on the workers: restart the busy ones, as a lone caller did
            self._pooled_by.clear()
            stream.pooled = 0
        else:
            for task in [t for t in self.pool.queue if t.owner is stream]:  # on a worker: finishes, discarded
                self.pool.queue.remove(task)
                del self._pooled_by[task.task_id]
                stream.pooled -= 1

    def _fail_pooled(self, error: Exception) -> None:
        """The pool failed: its work is dropped (busy workers restarted) and the streams that had some get the error."""
        streams = {id(s): s for s in self._pooled_by.values()}
        self.pool.cancel()
        self._pooled_by.clear()
        for stream in streams.values():
            self._drop(stream)
            stream.pooled = 0
            stream.inbox.put(error)

    def _fail_all(self, error: Exception) -> None:
        with self._lock:
            calls, self._calls = self._calls, deque()
            streams = {id(s): s for s in [*self._streams, *self._pooled_by.values()]}
        for _, future in calls:
            future.set_exception(error)
        for stream in streams.values():
            stream.inbox.put(error)
