"""The Executor: problems in, PassMatrix out, with dedupe, caching and streaming across problems."""
from __future__ import annotations

import dataclasses
import reprlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from executor.cache import CellCache, cell_key, config_digest, digest
from executor.compare import blind, judge
from executor.config import ExecutorConfig
from executor.deadlines import Peers
from executor.distributed import RayPool
from executor.languages import (PYTHON, Toolchain, available, canonical, find, missing as toolchain_missing,
                                startup_seconds)
from executor.matrix import PassMatrix, RunCounts
from executor.pool import ExecutorStalled, Task, WorkerPool
from executor.prepare import behaviour_key
from executor.scheduler import Scheduler, Stream
from executor.sandbox import Containment
from executor.specs import TestSpec, as_test, canonical_json, test_to_json
from executor.status import Status
from executor.worker import FAIL_FAST_SKIP, timed_out_skip

MAX_PROBLEMS_IN_FLIGHT = 256
# Problems stay open (in the parent's memory, ~0.5 KB a cell on HumanEval+) from the first task
# submitted until every problem before them is yielded: more are opened only below this many cells,
# so a slow candidate at the head holds back a bounded amount of work, not up to 256 problems.
CELLS_IN_FLIGHT_PER_WORKER = 100_000
# fail_fast: a worker cannot see a wrong stdio/call output (the parent judges it), so it cannot stop
# there. A candidate with such tests runs its first this many (the ones that failed most peers) alone;
# the rest is sent only when the parent found them all passed, so a wrong candidate costs a few cells.
FAIL_FAST_SPLIT = 16
_TASKS_PER_WORKER = 4  # a call's candidates submitted and not yet back, per worker: two running, two waiting


@dataclass
class Job:
    """One problem: candidates x tests. ``key`` comes back with its matrix. ``reference``: a solution
    known to be correct; under the calibrated policy it runs first, its times set the tests' deadlines
    like a peer's, and it is not part of the matrix. ``language``: the candidates' language (the
    reference's too), or one per candidate (``executor.languages``; any alias)."""

    key: Any
    candidates: Sequence[str]
    tests: Sequence[Any]
    entry_point: str | None = None
    reference: str | None = None
    language: str | Sequence[str] = PYTHON

    def languages(self) -> list[str]:
        """The canonical language of each candidate; ValueError for an unknown name or a wrong count."""
        if isinstance(self.language, str):
            return [canonical(self.language)] * len(self.candidates)
        names = [canonical(name) for name in self.language]
        if len(names) != len(self.candidates):
            raise ValueError(f"{len(names)} languages for {len(self.candidates)} candidates")
        return names


def _candidate_digest(candidate: str, language: str, toolchain: Toolchain | None) -> str:
    """What a cached verdict of the candidate depends on: its source and, but for Python (whose version
    is in the config key), its language and toolchain's version and flags (none: never stored)."""
    if language == PYTHON:
        return digest(candidate)
    return digest(f"{language}:{toolchain.key if toolchain else 'missing'}:{candidate}")


def _unique(items: Sequence[Any], key: Callable[[Any], Any]) -> tuple[list[Any], np.ndarray]:
    """Unique items in first-seen order and, per input position, the index of its unique item."""
    first: dict[Any, int] = {}
    uniq: list[Any] = []
    index = np.empty(len(items), dtype=np.int64)
    for pos, item in enumerate(items):
        k = key(item)
        if k not in first:
            first[k] = len(uniq)
            uniq.append(item)
        index[pos] = first[k]
    return uniq, index


def _behaviour(pair: tuple[str, str]) -> tuple[str, str]:
    """Candidates with one key run once: Python programs alike up to comments and spacing
    (``prepare.behaviour_key``), other languages' identical texts."""
    candidate, language = pair
    return (behaviour_key(candidate) if language == PYTHON else candidate), language


def _positions(index: np.ndarray) -> list[list[int]]:
    """For each unique item, the input positions it fills."""
    positions: list[list[int]] = [[] for _ in range(int(index.max()) + 1 if len(index) else 0)]
    for pos, u in enumerate(index.tolist()):
        positions[u].append(pos)
    return positions


@dataclass
class _Problem:
    """A job being executed: work is done on unique candidates x unique tests, expanded at the end."""

    job: Job
    cand_index: np.ndarray
    test_index: np.ndarray
    candidates: list[str]
    toolchains: list[Toolchain | None]  # per unique candidate; None: Python
    startups: list[float]  # per unique candidate: its runtime's start-up, seconds (Peers.deadlines)
    tests: list[TestSpec]
    statuses: np.ndarray
    seconds: np.ndarray
    blinded: list[TestSpec]  # what workers get: stdio/call tests without their expected output
    peers: Peers
    details: dict[tuple[int, int], str] = field(default_factory=dict)
    outputs: dict[tuple[int, int], str] = field(default_factory=dict)
    keys: list[list[str]] | None = None  # cache keys per unique cell
    waiting: int = 0  # candidate tasks not finished yet
    undecided: dict[int, list[tuple[int, float]]] = field(default_factory=dict)  # row -> overruns (col, deadline)
    split: set[int] = field(default_factory=set)  # fail_fast rows sent in two parts (FAIL_FAST_SPLIT)
    later: dict[int, np.ndarray] = field(default_factory=dict)  # row -> the second part, sent once the first passed
    run: RunCounts = field(default_factory=RunCounts)
    opened: float = field(default_factory=time.perf_counter)

    def record(self, ui: int, uj: int, status: int, seconds: float, detail: str, output: str | None) -> None:
        self.statuses[ui, uj] = status
        self.seconds[ui, uj] = seconds
        self.note(ui, uj, detail, output)

    def note(self, ui: int, uj: int, detail: str, output: str | None) -> None:
        """A cell's detail and output, kept only when there is one (most cells have neither)."""
        if detail:
            self.details[(ui, uj)] = detail
        elif (ui, uj) in self.details:  # a rerun at the ceiling replaces the overrun's detail
            del self.details[(ui, uj)]
        if output is not None:
            self.outputs[(ui, uj)] = output

    def expand(self) -> PassMatrix:
        """The matrix in input order, duplicates filled in."""
        ci, ti = self.cand_index, self.test_index
        run = dataclasses.replace(self.run, unique_cells=self.statuses.size, wall_seconds=time.perf_counter() - self.opened)
        matrix = PassMatrix(self.statuses[np.ix_(ci, ti)], self.seconds[np.ix_(ci, ti)], run=run)
        if self.details or self.outputs:
            rows, cols = _positions(ci), _positions(ti)
            for source, target in ((self.details, matrix.details), (self.outputs, matrix.outputs)):
                for (ui, uj), value in source.items():
                    for i in rows[ui]:
                        for j in cols[uj]:
                            target[(i, j)] = value
        return matrix


class Executor:
    """Sandboxed multiprocess runner, local or over Ray actors (``config.backend``). Use as a context
    manager; the worker pool starts on entry."""

    def __init__(self, config: ExecutorConfig | None = None, **overrides: Any) -> None:
        self.config = dataclasses.replace(config or ExecutorConfig(), **overrides)
        self._config_key = config_digest(self.config)
        self._pool: WorkerPool | RayPool | None = None
        self._scheduler: Scheduler | None = None
        self._cache = CellCache(self.config.cache_path) if self.config.cache_path else None
        self._lock = threading.Lock()  # guards start/close, the cache connection and stats
        self.stats = {"executed_cells": 0, "cached_cells": 0}

    def __enter__(self) -> "Executor":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def start(self) -> Scheduler:
        """Start the workers (local sandbox processes, or Ray actors with ``backend="ray"``) and the
        driver thread that serves every caller (executor.scheduler)."""
        with self._lock:
            if self._scheduler is None:
                self._pool = RayPool(self.config) if self.config.backend == "ray" else WorkerPool(self.config)
                self._scheduler = Scheduler(self._pool)
            return self._scheduler

    @property
    def containment(self) -> Containment:
        """How far the workers could isolate candidates: check it before pointing them at unread code."""
        scheduler = self.start()
        return scheduler.call(scheduler.pool.containment)

    @staticmethod
    def languages() -> dict[str, str]:
        """Each supported language with the version of its toolchain on this host, or "missing"."""
        return available()

    def close(self) -> None:
        with self._lock:
            if self._scheduler is not None:
                self._scheduler.close()
                self._scheduler.pool.close()
                self._scheduler = self._pool = None
            if self._cache is not None:
                self._cache.close()
                self._cache = None

    def run(self, candidates: Sequence[str], tests: Sequence[Any], entry_point: str | None = None,
            language: str | Sequence[str] = PYTHON) -> PassMatrix:
        """Run one problem."""
        for _, matrix in self.run_many([Job(None, candidates, tests, entry_point, language=language)]):
            return matrix
        raise AssertionError("unreachable")

    def run_many(self, jobs: Iterable[Job], progress: Callable[[int], None] | None = None,
                 planned: Callable[[int], None] | None = None) -> Iterator[tuple[Any, PassMatrix]]:
        """Stream (key, matrix) in input order while keeping every worker busy across problem boundaries.

        The parent's memory grows with the workers and the largest problem, not with the run (see
        CELLS_IN_FLIGHT_PER_WORKER). ``progress`` is called with the number of cells each finished
        candidate (or cache hit) settles; ``planned`` with the number of cells of each job as it opens
        (unique candidates x unique tests), so the two sums agree once the call finishes: a progress
        bar's done and total.
        """
        scheduler = self.start()
        stream = Stream()
        workers = scheduler.pool.workers
        jobs_iter = iter(jobs)
        order: list[_Problem] = []  # problems not yet yielded, in input order
        open_cells = 0
        exhausted = finished = False
        try:
            while True:
                while not exhausted and len(order) < MAX_PROBLEMS_IN_FLIGHT and \
                        open_cells < CELLS_IN_FLIGHT_PER_WORKER * workers and \
                        stream.outstanding < _TASKS_PER_WORKER * workers:
                    job = next(jobs_iter, None)
                    if job is None:
                        exhausted = True
                        break
                    order.append(self._open(job, scheduler, stream, progress))
                    open_cells += order[-1].statuses.size
                    if planned:
                        planned(order[-1].statuses.size)
                while order and order[0].waiting == 0:
                    problem = order.pop(0)
                    open_cells -= problem.statuses.size
                    yield problem.job.key, problem.expand()
                if exhausted and not order:
                    finished = True
                    return
                if stream.outstanding:
                    try:
                        finished_tasks = scheduler.take(stream)
                    except ExecutorStalled as e:
                        e.problems = sorted({reprlib.repr(task.ref[0].job.key) for task in e.tasks})
                        raise
                    for task, cells in finished_tasks:
                        self._close_task(task, cells, scheduler, stream, progress)
        finally:
            # a consumer that stopped early leaves work nobody will read: drop it (only this call's;
            # other callers, an enclosing run_many among them, share the pool)
            if not finished and stream.outstanding:
                scheduler.cancel(stream)

    def _open(self, job: Job, scheduler: Scheduler, stream: Stream,
              progress: Callable[[int], None] | None) -> _Problem:
        """Dedupe, fill from the cache, and submit one task per candidate with missing cells."""
        if isinstance(job.candidates, str) or not all(isinstance(c, str) for c in job.candidates):
            raise TypeError("candidates must be a sequence of strings")
        specs = [as_test(t) for t in job.tests]
        alike = _behaviour if len(set(job.candidates)) > 1 else (lambda pair: pair)  # one program: nothing to merge
        pairs, cand_index = _unique(list(zip(job.candidates, job.languages())), alike)
        calibrated = self.config.timeout_policy == "calibrated"
        reference = (job.reference, canonical(job.language) if isinstance(job.language, str) else PYTHON)
        if calibrated and job.reference is not None and reference not in pairs:
            pairs.append(reference)  # a row of its own, left out of the matrix by cand_index
        candidates = [c for c, _ in pairs]
        tests, test_index = _unique(specs, lambda t: t)
        shape = (len(candidates), len(tests))
        toolchains = [find(lang) for _, lang in pairs]
        # timed here (once per process), not on the driver thread that plans the tasks
        startups = [startup_seconds(tc.startup) if calibrated and tc is not None else 0.0 for tc in toolchains]
        problem = _Problem(job, cand_index, test_index, candidates, toolchains, startups, tests,
                           np.zeros(shape, dtype=np.uint8), np.zeros(shape, dtype=np.float32),
                           [blind(t) for t in tests], Peers(self.config, len(tests)))
        missing = np.ones(shape, dtype=bool)
        for ui, (_, lang) in enumerate(pairs):
            if lang != PYTHON and problem.toolchains[ui] is None:  # a verdict of this host, never cached
                for uj in range(len(tests)):
                    problem.record(ui, uj, Status.ERROR, 0.0, toolchain_missing(lang), None)
                missing[ui] = False
                if progress:
                    progress(len(tests))
        if self._cache is not None and candidates and tests:
            test_digests = [digest(canonical_json(test_to_json(t))) for t in tests]
            problem.keys = [[cell_key(_candidate_digest(c, lang, tc), td, self._config_key) for td in test_digests]
                            for (c, lang), tc in zip(pairs, problem.toolchains)]
            with self._lock:
                hits = self._cache.get_many([k for row in problem.keys for k in row])
                self.stats["cached_cells"] += len(hits)
            problem.run.cached_cells = len(hits)
            for ui, row in enumerate(problem.keys):
                for uj, key in enumerate(row):
                    if key in hits:
                        problem.record(ui, uj, *hits[key])
                        missing[ui, uj] = False
            skipped = self._skip_from_cache(problem, missing)
            for ui in np.flatnonzero(~missing.all(axis=1)):  # cached verdicts are evidence too
                cols = np.flatnonzero(~missing[ui])
                problem.peers.observe(cols, problem.statuses[ui, cols], problem.seconds[ui, cols], 1.0,
                                      deadlines=[0.0] * len(cols))  # not known to have had the ceiling
            if progress and hits:
                progress(len(hits) + skipped)
        first = pairs.index(reference) if calibrated and job.reference is not None else None
        if first is not None and missing[first].any():  # first, at the ceiling: the first evidence
            cols = np.flatnonzero(missing[first])
            self._submit(problem, first, cols, scheduler, stream, deadlines=[self.config.timeout] * len(cols))
        for ui in range(len(candidates)):
            cols = np.flatnonzero(missing[ui])
            if len(cols) and ui != first:
                self._submit(problem, ui, cols, scheduler, stream, plan=self._plan)
        return problem

    def _submit(self, problem: _Problem, ui: int, cols: np.ndarray, scheduler: Scheduler, stream: Stream,
                deadlines: list[float] | None = None, plan: Callable[[Task], None] | None = None) -> None:
        task = Task(problem.candidates[ui], problem.job.entry_point, [problem.blinded[j] for j in cols],
                    ref=(problem, ui, cols), deadlines=deadlines, plan=plan, toolchain=problem.toolchains[ui])
        scheduler.submit(stream, task)
        problem.waiting += 1

    def _plan(self, task: Task) -> None:
        """On the driver thread, as the task enters the pool: the deadlines and (fail_fast) the order
        of its tests from what the problem's finished candidates have shown by now."""
        problem, ui, cols = task.ref
        if self.config.fail_fast:
            cols = problem.peers.order(cols)
            if ui not in problem.split and any(problem.blinded[j] is not problem.tests[j] for j in cols[FAIL_FAST_SPLIT:]):
                problem.split.add(ui)  # the worker cannot see a wrong output: the rest waits for the parent's judgement
                cols, problem.later[ui] = cols[:FAIL_FAST_SPLIT], cols[FAIL_FAST_SPLIT:]
            task.tests = [problem.blinded[j] for j in cols]
            task.ref = (problem, ui, cols)
        task.deadlines = problem.peers.deadlines(cols, problem.startups[ui])

    def _skip_from_cache(self, problem: _Problem, missing: np.ndarray) -> int:
        """SKIPPED cells are never cached (they depend on the candidate's other tests), so a rerun
        derives them: where a candidate's cached cells already hold what made the worker stop it
        (``max_timeouts`` timeouts, or with ``fail_fast`` a failure), its uncached cells are SKIPPED
        as the worker left them, not run again. Returns how many cells it settled."""
        settled = 0
        for ui in np.flatnonzero(missing.any(axis=1) & ~missing.all(axis=1)):
            cached = problem.statuses[ui][~missing[ui]]
            timeouts = int((cached == Status.TIMEOUT).sum())
            if self.config.fail_fast and ((cached != Status.PASS) & (cached != Status.INVALID)).any():
                reason = FAIL_FAST_SKIP
            elif timeouts >= self.config.max_timeouts:
                reason = timed_out_skip(timeouts)
            else:
                continue
            for uj in np.flatnonzero(missing[ui]):
                problem.record(int(ui), int(uj), Status.SKIPPED, 0.0, reason, None)
            settled += int(missing[ui].sum())
            missing[ui] = False
        return settled

    def _close_task(self, task: Task, cells: list[tuple], scheduler: Scheduler, stream: Stream,
                    progress: Callable[[int], None] | None) -> None:
        problem, ui, cols = task.ref
        failed = False
        judged: list[int] = []
        times: list[float] = []
        for uj, (status, seconds, detail, output) in zip(cols.tolist(), cells):
            status, detail = judge(problem.tests[uj], status, detail, output)
            if failed and status != Status.INVALID:  # the worker cannot see a wrong output: the parent judges it
                status, seconds, detail, output = Status.SKIPPED, 0.0, FAIL_FAST_SKIP, None
            failed = failed or (self.config.fail_fast and status not in (Status.PASS, Status.INVALID))
            judged.append(status)
            times.append(seconds)
            problem.note(ui, uj, detail, output)
        problem.statuses[ui, cols] = judged
        problem.seconds[ui, cols] = times
        later = problem.later.pop(ui, np.empty(0, dtype=np.int64))
        if failed:
            problem.statuses[ui, later] = Status.SKIPPED
            problem.seconds[ui, later] = 0.0
            for uj in later.tolist():
                problem.details[(ui, uj)] = FAIL_FAST_SKIP
        elif len(later):
            self._submit(problem, ui, later, scheduler, stream, plan=self._plan)
            later = later[:0]
        statuses, seconds = problem.statuses[ui, cols], problem.seconds[ui, cols]
        problem.peers.observe(cols, statuses, seconds, task.slowdown, task.deadlines)
        overruns = [] if task.deadlines is None else [  # overruns of a deadline below the ceiling wait for a decision
            (int(cols[k]), task.deadlines[k]) for k in np.flatnonzero(
                (statuses == Status.TIMEOUT) & (seconds > 0) & (np.asarray(task.deadlines) < self.config.timeout))]
        if overruns:  # so do the cells the candidate skipped after them
            problem.undecided[ui] = overruns
        done = np.concatenate([cols, later])
        if overruns:
            done = done[~np.isin(done, [uj for uj, _ in overruns]) & (problem.statuses[ui, done] != Status.SKIPPED)]
        done = done.tolist()
        problem.waiting -= 1
        self._settled(problem, ui, done, task.attempts, progress)
        with self._lock:
            self.stats["executed_cells"] += len(cells)
        problem.run.executed_cells += len(cells)
        last = problem.waiting == 0  # nothing else of the problem runs: no evidence is coming
        for row in list(problem.undecided):
            self._decide(problem, row, last, scheduler, stream, progress)

    def _settled(self, problem: _Problem, ui: int, cols: list[int], attempts: int,
                 progress: Callable[[int], None] | None) -> None:
        """Cells whose verdict is final: cached (but for SKIPPED, which says what else the candidate did,
        not how it does on the test, and cells of a task lost twice) and counted."""
        if problem.keys is not None and self._cache is not None and attempts < 2:
            rows = [(problem.keys[ui][uj], int(problem.statuses[ui, uj]), float(problem.seconds[ui, uj]),
                     problem.details.get((ui, uj), ""), problem.outputs.get((ui, uj)))
                    for uj in cols if problem.statuses[ui, uj] != Status.SKIPPED]
            if rows:
                with self._lock:
                    self._cache.put_many(rows)
        if progress and cols:
            progress(len(cols))

    def _decide(self, problem: _Problem, ui: int, last: bool, scheduler: Scheduler, stream: Stream,
                progress: Callable[[int], None] | None) -> None:
        """Settle a candidate's overruns once each is decided (``Peers.decide``), or every one once the
        problem has nothing else running: rerun at the ceiling those that could pass, with the tests the
        candidate skipped after them; the other TIMEOUTs stand."""
        overruns = problem.undecided[ui]
        verdicts = [problem.peers.decide(uj, deadline) for uj, deadline in overruns]
        if "wait" in verdicts and not last:
            return
        del problem.undecided[ui]
        again = [uj for (uj, _), verdict in zip(overruns, verdicts) if verdict != "stand"]
        stand = [uj for (uj, _), verdict in zip(overruns, verdicts) if verdict == "stand"]
        skipped = [int(uj) for uj in np.flatnonzero(problem.statuses[ui] == Status.SKIPPED)]
        self._settled(problem, ui, stand if again else stand + skipped, 0, progress)
        if again:
            cols = np.array(again + skipped, dtype=np.int64)
            rest = problem.peers.deadlines(np.array(skipped, dtype=np.int64), problem.startups[ui])
            deadlines = [self.config.timeout] * len(again) + rest
            self._submit(problem, ui, cols, scheduler, stream, deadlines=deadlines)
