"""Labels from a dataset's own tests: a candidate is correct when it passes every test its problem
gives (the official ones, in a converted benchmark). Model samples rarely carry a verdict, and
`coderm eval` needs one per candidate; `coderm convert --label` writes them with this."""
from __future__ import annotations

from collections import deque
from typing import Iterable, Iterator

from coderm.model import Problem
from coderm.pipeline import run_given_tests
from executor import Executor, ExecutorConfig, Status

# Generous fixed limits: a slow but correct program is correct, so no deadline is learned from peers.
LABEL_TIMEOUT = 10.0


def label_config(workers: int | None) -> ExecutorConfig:
    """The executor settings labels are computed under (no cache: a verdict is computed once anyway)."""
    return ExecutorConfig(timeout=LABEL_TIMEOUT, load_timeout=LABEL_TIMEOUT, timeout_policy="fixed", cache_path=None,
                          **({} if workers is None else {"workers": workers}))


def with_labels(problems: Iterable[dict], executor: Executor) -> Iterator[dict]:
    """Each problem (a contract dict, streamed in order) with ``labels[i]``: candidate ``i`` passed
    every given test. A problem without tests has nothing to judge by and keeps what it had.
    Raises ValidationError for a problem the contract refuses."""
    rows: deque[dict] = deque()

    def parsed() -> Iterator[Problem]:
        for row in problems:
            problem = Problem.from_json(row)
            rows.append(row)
            yield problem

    for problem, matrix in run_given_tests(parsed(), executor):
        row = rows.popleft()
        yield {**row, "labels": (matrix.statuses == Status.PASS).all(axis=1).tolist()} if problem.tests else row
