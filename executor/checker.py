"""Special judges: a checker program decides whether an output is right, inside the sandbox.

A stdio or call test judged by ``{"kind": "checker", "code": ...}`` runs its candidate as usual;
the parent keeps the output and leaves the cell pending (``compare.CHECKER_PENDING``, a FAIL).
``settle_checkers`` then runs the checker's ``check(input, expected, got)`` as a sandboxed program
through the same Executor, one call test per distinct (input, expected, got), and the cell passes
only when the checker returned ``True`` (judged outside the sandbox like any call result). A
checker that raises, hangs, exits, prints or returns anything else leaves the cell FAIL. The
candidate cannot reach its checker: it has finished before the checker starts, in another
sandboxed process, and its output arrives as a plain argument.

``check`` gets, for a stdio test: the input text, the expected output text and the program's
stdout; for a call test: ``{"args": [...], "kwargs": {...}}``, the expected value and the
returned value (decoded JSON).
"""
from __future__ import annotations

import json
from typing import Any, Sequence

from executor.compare import CHECKER_PENDING
from executor.matrix import PassMatrix
from executor.runner import Executor, Job
from executor.specs import CallTest, CodeTest, StdioTest, as_test, canonical_json
from executor.status import Status

CHECK_FUNCTION = "check"


def _check_args(test: StdioTest | CallTest, output: str) -> list | None:
    """``[input, expected, got]`` for the checker, or None when the output cannot be decoded."""
    if isinstance(test, StdioTest):
        return [test.input, test.output, output]
    try:
        got = json.loads(output)
    except ValueError:  # cut at the output limit
        return None
    return [{"args": test.args, "kwargs": test.kwargs}, test.expected, got]


def settle_checkers(executor: Executor, tests: Sequence[Any], matrix: PassMatrix) -> None:
    """Judge the pending cells of checker-judged ``tests`` in ``matrix`` (in place) by running
    their checkers on ``executor``; a no-op when no test has a checker."""
    specs = [as_test(t) for t in tests]
    cells: dict[str, list[tuple[int, int]]] = {}
    calls: dict[str, list[CallTest]] = {}
    for j, spec in enumerate(specs):
        if isinstance(spec, CodeTest) or spec.judge.kind != "checker":
            continue
        for i in range(matrix.shape[0]):
            output = matrix.outputs.get((i, j))
            if matrix.statuses[i, j] != Status.FAIL or matrix.details.get((i, j)) != CHECKER_PENDING or output is None:
                continue
            args = _check_args(spec, output)
            if args is None:
                matrix.details[(i, j)] = "the output could not be decoded for the checker"
                continue
            cells.setdefault(spec.judge.code, []).append((i, j))
            calls.setdefault(spec.judge.code, []).append(CallTest(canonical_json(args), "true"))
    if not calls:
        return
    jobs = [Job(code, [code], calls[code], CHECK_FUNCTION) for code in calls]
    for code, verdicts in executor.run_many(jobs):
        for k, (i, j) in enumerate(cells[code]):
            status = Status(int(verdicts.statuses[0, k]))
            if status == Status.PASS:
                matrix.statuses[i, j] = Status.PASS
                matrix.details.pop((i, j), None)
            else:
                why = verdicts.details.get((0, k), "")
                matrix.details[(i, j)] = f"checker {status.name}: {why}" if why else f"checker {status.name}"
