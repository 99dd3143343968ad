"""Sequential scaling (S*'s self-debugging): a candidate that fails public tests is shown the failures and
revised by the model, round after round, until it passes them or the rounds run out.

The public tests are the problem's visible ones (given, or mined from the prompt's examples). Feedback
says, per failed test, what was expected and what came out ("for input X the expected output is Y, but
got Z"), or the failed test code and its error. A revision is the program in the model's reply
(``coderm.extract``); it runs in the sandbox like any candidate and replaces the candidate it revises,
so ``candidates[i]`` stays candidate ``i`` and every score line keeps its length; the lineage (rounds
taken, public tests passed at the end, the final program) is returned beside it. Calls scale with
the failing candidates, not with all of them, and identical failing programs are asked about once
(``SelectModel``'s cache).
"""
from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any, Iterator

from coderm.extract import ExtractConfig, extract_code
from coderm.model import Problem
from coderm.select.llm import SelectModel
from coderm.select.prompts import SHOWN_CHARS, call_text, debug_prompt
from executor import Executor, Job, PassMatrix, Status, as_test
from executor.checker import settle_checkers
from executor.compare import is_record_only
from executor.specs import CallTest, StdioTest, TestSpec

FEEDBACK_SHOWN = 3  # failed tests described per revision request
_NO_VERDICT = (Status.PASS, Status.INVALID, Status.SKIPPED)


def debug(problems: list[Problem], public: list[list[Any]], executor: Executor, model: SelectModel, rounds: int,
          extract: ExtractConfig = ExtractConfig()) -> Iterator[tuple[Problem, dict]]:
    """Each problem with its failing candidates revised (up to ``rounds`` times each), and its lineage:
    ``{"rounds", "revised": [{"candidate", "rounds", "passes", "program"}], "llm_calls"}``.
    ``public[k]`` are the tests of ``problems[k]`` that feedback may show."""
    programs = [list(p.candidates) for p in problems]
    languages = [p.languages() for p in problems]
    revised: list[dict[int, dict]] = [{} for _ in problems]
    calls = [Counter() for _ in problems]
    specs = [[as_test(t) for t in tests] for tests in public]  # parsed once, read for every failing row
    todo = {k: list(range(len(p.candidates))) for k, p in enumerate(problems) if public[k] and p.candidates}
    for round_ in range(rounds + 1):
        jobs = (Job(k, [programs[k][i] for i in rows], public[k], problems[k].entry_point,
                    language=[languages[k][i] for i in rows]) for k, rows in todo.items())
        failing: dict[int, list[tuple[int, list[str]]]] = {}
        for k, matrix in executor.run_many(jobs):
            settle_checkers(executor, public[k], matrix)  # a checker-judged cell is pending until then
            for r, i in enumerate(todo[k]):
                lines = _feedback(specs[k], matrix, r, problems[k].entry_point)
                if i in revised[k]:
                    revised[k][i]["passes"] = not lines
                if lines:
                    failing.setdefault(k, []).append((i, lines))
        if round_ == rounds:
            break
        todo = {}
        for k, found in failing.items():
            contract = problems[k].to_json()
            replies = model.ask(problems[k].task_id, [debug_prompt(contract, programs[k][i], lines) for i, lines in found],
                                "debug", calls[k])
            for (i, _), reply in zip(found, replies):
                code = extract_code(reply or "", problems[k].prompt, problems[k].entry_point, extract, languages[k][i])
                if code and code != programs[k][i]:  # no new program: this candidate's revisions end here
                    programs[k][i] = code
                    revised[k][i] = {"candidate": i, "rounds": round_ + 1, "passes": False, "program": code}
                    todo.setdefault(k, []).append(i)
        if not todo:
            break
    for k, problem in enumerate(problems):
        lineage = {"rounds": rounds, "revised": [revised[k][i] for i in sorted(revised[k])], "llm_calls": dict(calls[k])}
        yield dataclasses.replace(problem, candidates=programs[k]), lineage


def _feedback(specs: list[TestSpec], matrix: PassMatrix, row: int, entry_point: str | None) -> list[str]:
    """One line per failed test of ``row`` (at most ``FEEDBACK_SHOWN``); [] when it failed none."""
    lines = []
    for j, spec in enumerate(specs):
        status = Status(int(matrix.statuses[row, j]))
        if status in _NO_VERDICT or is_record_only(spec):
            continue
        output = matrix.outputs.get((row, j))
        if status == Status.FAIL and output is not None:  # printed text quoted, a returned value as its JSON
            got = repr(output[:SHOWN_CHARS]) if isinstance(spec, StdioTest) else output[:SHOWN_CHARS]
        else:
            got = f"{status.name}: {(matrix.details.get((row, j)) or '')[-SHOWN_CHARS:].strip()}"
        if isinstance(spec, StdioTest):
            lines.append(f"for input {spec.input[:SHOWN_CHARS]!r} the expected output is "
                         f"{(spec.output or '')[:SHOWN_CHARS]!r}, but got {got}")
        elif isinstance(spec, CallTest):
            lines.append(f"for {call_text(entry_point, spec.args, spec.kwargs)[:SHOWN_CHARS]} the expected return value is "
                         f"{spec.expected_json[:SHOWN_CHARS] if spec.expected_json else None}, but got {got}")
        else:
            lines.append(f"the test\n```python\n{spec.code[:SHOWN_CHARS].strip()}\n```\nfailed with {got}")
        if len(lines) == FEEDBACK_SHOWN:
            break
    return lines
