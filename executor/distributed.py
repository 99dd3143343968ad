"""The Ray backend: the worker pool's interface over Ray actors, each a local sandbox pool on its node.

The Executor keeps deduping, caching, streaming in input order and judging stdio/call outputs; only
the running of candidate tasks moves to the actors. An actor gets (candidate, entry point, blinded
tests), never the caller's bookkeeping, and hosts one :class:`WorkerPool`, so every sandbox layer is
the local one. Each actor has at most one call in flight, ``step``: it takes the tasks sent since its
last call, blocks until some task finishes and returns every finished one, so submissions and results
travel in batches. A dead actor (``ray.kill``, a lost node) is replaced and its tasks follow the
pool's retry policy (:meth:`TaskQueue._retry_once`). Ray is imported here only, when the pool starts: it is the
optional ``coderm[ray]`` extra.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from executor.config import ExecutorConfig
from executor.pool import IN_FLIGHT_PER_WORKER, Task, TaskQueue, WorkerPool
from executor.sandbox import Containment, weakest

ACTOR_LOST = "ray actor died"


class _PoolHost:
    """Runs inside a Ray actor: one sandbox pool on the actor's node, fed by ``step``."""

    def __init__(self, config: ExecutorConfig) -> None:
        self.pool = WorkerPool(config)

    def step(self, batch: list[tuple]) -> list[tuple[int, int, list[tuple], float]]:
        """Queue ``batch`` (``Task.message()`` each); return (task id, attempts, cells, slowdown) of the
        tasks finished by then, at least one."""
        for task_id, candidate, entry_point, tests, deadlines, toolchain in batch:
            self.pool.submit(Task(candidate, entry_point, tests, ref=task_id, deadlines=deadlines, toolchain=toolchain))
        return [(task.ref, task.attempts, cells, task.slowdown) for task, cells in self.pool.wait()]

    def containment(self) -> Containment:
        return self.pool.containment()


@dataclass
class _Actor:
    index: int
    handle: Any
    in_flight: dict[int, Task] = field(default_factory=dict)  # task_id -> task sent to this actor
    step: Any = None  # the ObjectRef of its pending step call


class RayPool(TaskQueue):
    """Same interface as :class:`WorkerPool` (what the Executor drives), over ``config.actors`` actors."""

    def __init__(self, config: ExecutorConfig) -> None:
        try:
            import ray
        except ImportError:
            raise ImportError("backend='ray' needs Ray: pip install 'coderm[ray]'") from None
        if not ray.is_initialized():
            ray.init(address=config.ray_address, include_dashboard=False)
        super().__init__()
        self._ray = ray
        self._lost_errors = (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError,
                             ray.exceptions.ObjectLostError)
        self.config = config
        # actors are spread over the nodes and never restarted by Ray: a replacement starts with no
        # tasks, and the lost ones are resubmitted here, under the pool's policy
        self._host = ray.remote(_PoolHost).options(num_cpus=config.workers, max_restarts=0, max_task_retries=0,
                                                  scheduling_strategy="SPREAD")
        n = config.actors or max(1, int(ray.cluster_resources().get("CPU", 1)) // config.workers)
        self.slots = [_Actor(i, self._host.remote(config)) for i in range(n)]
        ray.get([slot.handle.__ray_ready__.remote() for slot in self.slots])  # a broken node fails here, not as CRASH cells

    @property
    def workers(self) -> int:
        """Sandbox workers over all actors (the runner keeps a queue in proportion)."""
        return len(self.slots) * self.config.workers

    def _dispatch(self) -> None:
        """Spread queued tasks over the actors with no call pending, least loaded first, then send each
        its batch; every actor with tasks ends up with a pending step."""
        capacity = IN_FLIGHT_PER_WORKER * self.config.workers
        free = [slot for slot in self.slots if slot.step is None]
        batches: dict[int, list[Task]] = {slot.index: [] for slot in free}
        while self.queue and free:
            slot = min(free, key=lambda s: len(s.in_flight))
            if len(slot.in_flight) >= capacity:
                break
            task = self.queue.popleft()
            slot.in_flight[task.task_id] = task
            batches[slot.index].append(task)
        for slot in free:
            if slot.in_flight:
                slot.step = slot.handle.step.remote([t.message() for t in batches[slot.index]])

    def wait(self, wakeup: int | None = None) -> list[tuple[Task, list[tuple]]]:
        """Block until at least one task finishes (or is given up); return finished tasks and their cells.
        ``wakeup`` is not watched: new tasks reach an actor with its next step anyway."""
        done: list[tuple[Task, list[tuple]]] = []
        while not done and self.busy:
            self._dispatch()
            by_ref = {slot.step: slot for slot in self.slots if slot.step is not None}
            [ref], _ = self._ray.wait(list(by_ref), num_returns=1)
            slot = by_ref[ref]
            slot.step = None
            try:
                finished = self._ray.get(ref)
            except self._lost_errors:
                done += self._retry_once(self._restart(slot), ACTOR_LOST)
                continue
            for task_id, attempts, cells, slowdown in finished:
                task = slot.in_flight.pop(task_id)
                task.slowdown = slowdown
                task.attempts = max(task.attempts, attempts)  # given up inside the actor: not cached either
                done.append((task, cells))
        return done

    def _restart(self, slot: _Actor) -> list[Task]:
        """Kill the slot's actor and start a fresh one; return the tasks it held."""
        self._ray.kill(slot.handle, no_restart=True)
        lost = list(slot.in_flight.values())
        slot.in_flight.clear()
        slot.step = None
        slot.handle = self._host.remote(self.config)
        return lost

    def containment(self) -> Containment:
        """The weakest containment among the actors' workers."""
        return weakest(self._ray.get([slot.handle.containment.remote() for slot in self.slots]))

    def cancel(self) -> None:
        """Forget queued and in-flight work (a consumer stopped early): busy actors are replaced."""
        self.queue.clear()
        for slot in self.slots:
            if slot.in_flight:
                self._restart(slot)

    def close(self) -> None:
        """Kill the actors; their sandbox workers die with them (parent-death signal)."""
        for slot in self.slots:
            self._ray.kill(slot.handle, no_restart=True)
        self.slots = []
