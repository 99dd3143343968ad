"""PassMatrix: the result of running candidates x tests for one problem."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from executor.status import Status

_REPR_ROWS = 5  # rows shown by repr()


@dataclass
class RunCounts:
    """What running one problem took, in the words of every stats output (``PassMatrix.run_stats``):
    distinct cells after duplicate candidates and tests are merged, how many of them the sandbox ran
    (a rerun at the ceiling counts again) and how many came from the cell cache, and the wall time from
    the problem entering the executor to its last verdict (problems overlap, so these do not add up
    to a run's time)."""

    unique_cells: int = 0
    executed_cells: int = 0
    cached_cells: int = 0
    wall_seconds: float = 0.0

    def __add__(self, other: "RunCounts") -> "RunCounts":
        """Rounds of one problem run one after another: their counts and times add up."""
        return RunCounts(self.unique_cells + other.unique_cells, self.executed_cells + other.executed_cells,
                         self.cached_cells + other.cached_cells, self.wall_seconds + other.wall_seconds)


@dataclass
class PassMatrix:
    """Statuses, timings and evidence of one problem, in input order.

    ``statuses[i, j]`` is the ``Status`` (uint8) of candidate ``i`` on test ``j``;
    ``seconds`` the wall time of that cell; ``details`` a bounded tail of output or the
    error message for non-PASS cells; ``outputs`` what a stdio/call cell produced
    (stdout text, or the JSON of the returned value), ``None`` for code tests: it feeds
    output-agreement aggregation and computing expected outputs from a reference.
    """

    statuses: np.ndarray
    seconds: np.ndarray
    details: dict[tuple[int, int], str] = field(default_factory=dict)
    outputs: dict[tuple[int, int], str] = field(default_factory=dict)
    run: RunCounts = field(default_factory=RunCounts)

    @classmethod
    def empty(cls, n_candidates: int, n_tests: int, status: Status = Status.SKIPPED) -> "PassMatrix":
        return cls(
            np.full((n_candidates, n_tests), int(status), dtype=np.uint8),
            np.zeros((n_candidates, n_tests), dtype=np.float32),
        )

    @property
    def shape(self) -> tuple[int, int]:
        return self.statuses.shape  # type: ignore[return-value]

    @property
    def passed(self) -> np.ndarray:
        """Boolean matrix: True where the cell is PASS."""
        return self.statuses == Status.PASS

    @classmethod
    def hstack(cls, parts: "list[PassMatrix]", n_candidates: int) -> "PassMatrix":
        """Matrices of the same candidates side by side (tests run in rounds, as one matrix),
        details and outputs re-keyed to the joined column numbers."""
        joined = cls(np.concatenate([m.statuses for m in parts], axis=1) if parts else
                     np.zeros((n_candidates, 0), dtype=np.uint8),
                     np.concatenate([m.seconds for m in parts], axis=1) if parts else
                     np.zeros((n_candidates, 0), dtype=np.float32), run=sum((m.run for m in parts), RunCounts()))
        offset = 0
        for m in parts:
            for source, target in ((m.details, joined.details), (m.outputs, joined.outputs)):
                target.update({(i, j + offset): v for (i, j), v in source.items()})
            offset += m.shape[1]
        return joined

    def take_rows(self, rows: np.ndarray) -> "PassMatrix":
        """The matrix with ``rows`` (repeats allowed) as its rows, details and outputs carried along."""
        return self._take(np.asarray(rows, dtype=np.int64), np.arange(self.shape[1]))

    def take_columns(self, cols: np.ndarray) -> "PassMatrix":
        """The matrix restricted to ``cols``, details and outputs re-keyed to the new column numbers."""
        return self._take(np.arange(self.shape[0]), np.asarray(cols, dtype=np.int64))

    def _take(self, rows: np.ndarray, cols: np.ndarray) -> "PassMatrix":
        new_rows: dict[int, list[int]] = {}
        for k, r in enumerate(rows.tolist()):
            new_rows.setdefault(r, []).append(k)
        new_col = {c: k for k, c in enumerate(cols.tolist())}
        picked = PassMatrix(self.statuses[np.ix_(rows, cols)], self.seconds[np.ix_(rows, cols)], run=self.run)
        for source, target in ((self.details, picked.details), (self.outputs, picked.outputs)):
            for (i, j), value in source.items():
                if j in new_col:
                    for k in new_rows.get(i, ()):
                        target[(k, new_col[j])] = value
        return picked

    def status_names(self) -> list[list[str]]:
        names = [s.name for s in Status]
        return [[names[v] for v in row] for row in self.statuses.tolist()]

    def __repr__(self) -> str:
        """Status names, not uint8 codes: the counts, then the first rows."""
        counts = ", ".join(f"{Status(v).name}={n}" for v, n in zip(*np.unique(self.statuses, return_counts=True)))
        rows = self.status_names()[:_REPR_ROWS]
        more = f", ... {self.shape[0] - _REPR_ROWS} more rows" if self.shape[0] > _REPR_ROWS else ""
        return f"PassMatrix({self.shape[0]} candidates x {self.shape[1]} tests; {counts}; rows {rows}{more})"

    def run_stats(self) -> dict[str, int | float]:
        """The stats every output shares (`coderm score`'s ``stats``, `coderm execute`'s line, rewards):
        ``executed_pairs`` (candidate x test pairs with a verdict, duplicates counted), ``seconds`` (their
        summed run time in the sandbox, not wall time) and the ``RunCounts``."""
        return {"executed_pairs": int((self.statuses != Status.SKIPPED).sum()),
                "seconds": round(float(self.seconds.sum()), 4),
                "unique_cells": self.run.unique_cells, "executed_cells": self.run.executed_cells,
                "cached_cells": self.run.cached_cells, "wall_seconds": round(self.run.wall_seconds, 4)}

    def to_record(self, task_id: str) -> dict:
        """The `coderm execute` output line of DESIGN.md, with the shared run stats."""
        return {"task_id": task_id, "statuses": self.status_names(), **self.run_stats()}
