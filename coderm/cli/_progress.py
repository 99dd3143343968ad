"""The progress bar of the commands that execute problems: it counts test cells, not problems, so
one problem with thousands of candidates moves the bar too, and its ETA covers the whole run."""
from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm


class CellProgress:
    """Cells settled out of an estimated total, with rate, ETA and the problems finished.

    The executor reports each problem's cells as it opens them (``planned``) and as verdicts
    settle (``settled``; ``coderm.pipeline.Progress``). Problems not opened yet are counted at the
    cells per candidate seen so far, times their candidates. ``candidates``: the candidates of each
    problem to run, in input order (the order the executor opens them). Off under ``quiet`` and
    when ``file`` is not a terminal (a log file gets the summary line alone).
    """

    def __init__(self, candidates: list[int], quiet: bool, file: TextIO | None = None) -> None:
        file = file or sys.stderr
        self._candidates = candidates
        self._total = sum(candidates)
        self._remaining = self._total  # candidates of the problems not opened yet
        self._opened = 0
        self._planned = 0
        self._done = 0
        self.bar = tqdm(total=None, unit="cell", file=file, dynamic_ncols=True,
                        disable=quiet or not file.isatty())

    def planned(self, cells: int) -> None:
        if self._opened < len(self._candidates):
            self._remaining -= self._candidates[self._opened]
        self._opened += 1
        self._planned += cells
        opened = self._total - self._remaining
        per_candidate = self._planned / opened if opened else 0.0
        self.bar.total = self._planned + round(self._remaining * per_candidate)
        self.bar.refresh()

    def settled(self, cells: int) -> None:
        self.bar.update(cells)

    def problem_done(self) -> None:
        self._done += 1
        self.bar.set_postfix_str(f"problems {self._done}/{len(self._candidates)}", refresh=False)

    def close(self) -> None:
        self.bar.close()

    def __enter__(self) -> "CellProgress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
