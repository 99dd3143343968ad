"""Executor-compatible ``run_many`` over a Ray cluster: problems fan out to actors, each holding
one sandboxed Executor (its own worker pool on its node); matrices stream back in input order.

A problem whose actor dies (node lost, OOM-killed, ``ray.kill``) is resubmitted to a fresh actor,
so a batch always comes back complete; after ``max_attempts`` it comes back as CRASH cells.

Multi-node: start Ray on every node (``ray start --head`` on one, ``ray start
--address=HEAD:6379`` on the others), then in the trainer
``RewardFunction(executor=RayExecutor(ExecutorConfig(workers=8), address="auto"))``: one actor
per 8 CPUs across the cluster, each a sandbox pool of 8 workers.
"""
from __future__ import annotations

from collections import deque
from typing import Any, Iterable, Iterator

from executor import ExecutorConfig, PassMatrix, Status


class _ExecutorHost:
    """Runs inside a Ray actor: one Executor, started once, reused for every problem sent."""

    def __init__(self, config: ExecutorConfig) -> None:
        from executor import Executor

        self.executor = Executor(config)
        self.executor.start()

    def run(self, candidates: list[str], tests: list[Any], entry_point: str | None) -> PassMatrix:
        return self.executor.run(candidates, tests, entry_point)

    def ping(self) -> bool:
        return True


class RayExecutor:
    """``run_many(jobs)`` like :class:`executor.Executor`, spread over Ray actors.

    ``actors``: how many executor actors (default: cluster CPUs // ``config.workers``).
    ``address``: passed to ``ray.init`` when Ray is not initialised yet ("auto" joins a cluster).
    """

    def __init__(self, config: ExecutorConfig, actors: int | None = None, address: str | None = None,
                 in_flight_per_actor: int = 2, max_attempts: int = 3) -> None:
        import ray

        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        self.ray = ray
        self.config = config
        self.in_flight_per_actor = in_flight_per_actor
        self.max_attempts = max_attempts
        self._remote = ray.remote(num_cpus=config.workers, max_restarts=0)(_ExecutorHost)
        n = actors or max(1, int(ray.cluster_resources().get("CPU", 1)) // config.workers)
        self.actors = [self._remote.remote(config) for _ in range(n)]
        ray.get([a.ping.remote() for a in self.actors])
        self.resubmitted = 0

    def run_many(self, jobs: Iterable[Any]) -> Iterator[tuple[Any, PassMatrix]]:
        ray = self.ray
        jobs_iter = iter(jobs)
        keys: list[Any] = []
        specs: list[tuple[list[str], list[Any], str | None]] = []
        done: dict[int, PassMatrix] = {}
        queue: deque[tuple[int, int]] = deque()  # (job index, attempts so far)
        pending: dict[Any, tuple[int, int, int, Any]] = {}  # ref -> (job index, slot, attempts, actor)
        load = [0] * len(self.actors)
        next_out = 0
        exhausted = False
        while True:
            capacity = self.in_flight_per_actor * len(self.actors)
            while not exhausted and len(pending) + len(queue) < capacity:
                job = next(jobs_iter, None)
                if job is None:
                    exhausted = True
                    break
                keys.append(job.key)
                specs.append((list(job.candidates), list(job.tests), job.entry_point))
                queue.append((len(specs) - 1, 0))
            while queue:
                slot = min(range(len(self.actors)), key=load.__getitem__)
                if load[slot] >= self.in_flight_per_actor:
                    break
                index, attempts = queue.popleft()
                ref = self.actors[slot].run.remote(*specs[index])
                pending[ref] = (index, slot, attempts + 1, self.actors[slot])
                load[slot] += 1
            while next_out in done:
                yield keys[next_out], done.pop(next_out)
                next_out += 1
            if exhausted and not pending and not queue:
                return
            if not pending:
                continue
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                index, slot, attempts, actor = pending.pop(ref)
                load[slot] -= 1
                try:
                    done[index] = ray.get(ref)
                except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError,
                        ray.exceptions.ObjectLostError):
                    self._replace(slot, actor)
                    if attempts < self.max_attempts:
                        self.resubmitted += 1
                        queue.appendleft((index, attempts))
                    else:
                        candidates, tests, _ = specs[index]
                        done[index] = PassMatrix.empty(len(candidates), len(tests), Status.CRASH)

    def _replace(self, slot: int, dead: Any) -> None:
        """A dead actor's slot gets a fresh actor, once (its other in-flight problems fail and resubmit too)."""
        if self.actors[slot] is dead:
            self.ray.kill(dead, no_restart=True)
            self.actors[slot] = self._remote.remote(self.config)

    def close(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor, no_restart=True)
        self.actors = []
