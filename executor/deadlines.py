"""What a problem's candidates so far tell about its tests: calibrated deadlines and fail-fast order.

Calibrated deadlines (``timeout_policy: calibrated``). A fixed deadline is slow and unfair at once:
on 40 CodeT problems, 67 looping cells at 1 s were 33.5 s of a 46.5 s run, and on a loaded host
correct code turns into TIMEOUT. So a test's deadline is measured instead: ``timeout_factor`` times
the slowest time a peer candidate took to finish it (any verdict but TIMEOUT), at least
``timeout_floor`` and at most the ceiling ``timeout``. The slowest peer (the highest quantile) is the
evidence that a slow candidate can still finish, so a slow-but-correct candidate keeps its verdict
whenever any peer was as slow. Times are in *reference seconds*: each is divided by the measured slowdown of the worker
that ran it (a fixed CPU probe, ``executor.worker``), and a worker multiplies the deadlines it gets
by its own slowdown, so a busy host stretches deadlines instead of cutting correct code short. A
deadline cuts a test only while it computes: past it, the worker gives one more deadline's time and
reads the candidate's CPU time, and lets a test that was not computing (a stall of the host, a sleep)
run on up to the ceiling (``worker._Supervision._grace``).

A test no peer has finished yet gets the floor too. A cell that overran a deadline below the
ceiling is rerun at the ceiling (where its verdict is the fixed policy's) only when that could
change it: when the evidence grew since its deadline was set (a slower peer finished meanwhile), or
when no peer finished the test by the time the problem's other candidates are done. Until one of
those is known the cell waits; and once ``HOPELESS`` runs at the ceiling timed out on a test that no
peer finished, more time is not expected to help and its overruns stand.

Fail-fast order: with ``fail_fast`` a candidate stops at its first failing test, so tests that
failed many peers run first, cheap ones before dear ones.
"""
from __future__ import annotations

import numpy as np

from executor.config import ExecutorConfig
from executor.status import Status

HOPELESS = 2  # ceiling runs of a test that timed out with no peer finishing it: overruns stand
_COST_STEP = 0.01  # seconds: tests whose mean times differ by less are equally cheap
_RAN = np.array([s not in (Status.SKIPPED, Status.INVALID) for s in Status])  # a verdict from running the test


class Peers:
    """Per unique test of one problem: the slowest finishing time, failures and mean time of its peers."""

    def __init__(self, config: ExecutorConfig, n_tests: int) -> None:
        self.config = config
        self.slowest = np.full(n_tests, np.nan)  # reference seconds of the slowest run that finished
        self.failed = np.zeros(n_tests, dtype=np.int64)  # peers that ran the test and did not pass it
        self.seconds = np.zeros(n_tests)  # reference seconds of every run, summed
        self.runs = np.zeros(n_tests, dtype=np.int64)
        self.hopeless = np.zeros(n_tests, dtype=np.int64)  # runs that timed out at the ceiling

    def observe(self, cols: np.ndarray, statuses: np.ndarray, seconds: np.ndarray, slowdown: float,
                deadlines: list[float] | None = None) -> None:
        """One candidate's verdicts on ``cols``, from a worker slowed down ``slowdown`` times, under
        ``deadlines`` (reference seconds; None: the ceiling)."""
        ran = _RAN[statuses]
        timeout = statuses == Status.TIMEOUT
        finished = ran & ~timeout
        reference = seconds / max(slowdown, 1.0)
        self.slowest[cols[finished]] = np.fmax(self.slowest[cols[finished]], reference[finished])
        np.add.at(self.failed, cols[ran & (statuses != Status.PASS)], 1)
        np.add.at(self.seconds, cols[ran], reference[ran])
        np.add.at(self.runs, cols[ran], 1)
        at_ceiling = np.ones(len(cols), dtype=bool) if deadlines is None else np.array(deadlines) >= self.config.timeout
        np.add.at(self.hopeless, cols[timeout & at_ceiling & (seconds > 0)], 1)

    def deadlines(self, cols: np.ndarray, startup: float = 0.0) -> list[float] | None:
        """Reference seconds per test of ``cols`` (None: the fixed policy, ``timeout`` each). A test no
        peer has finished gets the floor: the overrun waits for evidence (``decide``). ``startup``: the
        seconds the candidate's runtime takes to start (a JVM's), which no deadline may fall below
        ``timeout_factor`` times (no more than the ceiling)."""
        cfg = self.config
        if cfg.timeout_policy == "fixed":
            return None
        slowest = np.nan_to_num(self.slowest[cols], nan=0.0)
        floor = max(cfg.timeout_floor, cfg.timeout_factor * startup)
        return np.clip(cfg.timeout_factor * slowest, floor, cfg.timeout).tolist()

    def decide(self, col: int, deadline: float) -> str:
        """What a cell that overran ``deadline`` (reference seconds, below the ceiling) on test ``col``
        deserves: ``"stand"`` (the TIMEOUT is the verdict), ``"rerun"`` at the ceiling, or ``"wait"``
        for a peer to finish the test (the caller reruns when none will)."""
        if np.isnan(self.slowest[col]):
            return "stand" if self.hopeless[col] >= HOPELESS else "wait"
        return "rerun" if self.deadlines(np.array([col]))[0] > deadline else "stand"  # type: ignore[index]

    def order(self, cols: np.ndarray) -> np.ndarray:
        """``cols`` with the tests that failed most peers first, then the cheapest; tests alike in both
        (times within the same ``_COST_STEP``) keep their order."""
        cost = np.floor(self.seconds[cols] / np.maximum(self.runs[cols], 1) / _COST_STEP)
        return cols[np.lexsort((cost, -self.failed[cols]))]
