"""LDB (LLMDebugger) pools: one program per model per problem, ``is_solved`` as the label,
the visible ``given_tests`` as tests. Candidates of several models make one pool."""
from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence

from coderm.loaders.records import LoaderError, as_sources, field, problem, read_records
from coderm.loaders.samples import join_body


def model_name(path: str) -> str:
    """``humaneval__seed__gpt-4-1106-preview__seed.jsonl.gz`` -> ``gpt-4-1106-preview``."""
    base = re.sub(r"\.jsonl?(\.gz)?$", "", os.path.basename(path))
    match = re.search(r"__seed__(.+)__seed$", base)
    return match.group(1) if match else base


def _natural(task_id: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", task_id))


def ldb(inputs: str | Sequence[str] | None = None) -> Iterator[dict]:
    """Pool the seed files in ``inputs`` (records with ``solution``) per task.

    Records without ``solution`` (LDB's ``*__test__tests`` / ``*__dataset__probs`` files) fix
    the problem order and supply ``given_tests`` where a seed file lacks them (Reflexion).
    Seed solutions that are bodies only are joined with the prompt.
    """
    sources = as_sources(inputs, "", "ldb needs --input: LDB seed files (e.g. ldb/humaneval__seed__*__seed.jsonl.gz)")
    tasks: dict[str, dict] = {}
    pools: dict[str, list[tuple[str, bool, str]]] = {}
    for source in sources:
        model = model_name(source)
        for where, record in read_records(source):
            task_id = str(field(record, "task_id", where, (str, int)))
            if task_id not in tasks:
                tasks[task_id] = {"prompt": field(record, "prompt", where),
                                  "entry_point": field(record, "entry_point", where)}
            task = tasks[task_id]
            if "given_tests" in record and "given_tests" not in task:
                task["given_tests"] = [str(t) for t in field(record, "given_tests", where, list)]
            if "solution" in record:
                solution = field(record, "solution", where)
                if not re.search(rf"def\s+{re.escape(task['entry_point'])}\s*\(", solution):
                    solution = join_body(task["prompt"], solution)
                pools.setdefault(task_id, []).append((solution, field(record, "is_solved", where, bool), model))
    if not pools:
        raise LoaderError(f"no seed records (with 'solution') in {', '.join(sources)}")
    for task_id in sorted(tasks, key=_natural):  # seed files are not in task order (GPT-3.5 starts at /30)
        task, pool = tasks[task_id], pools.get(task_id, [])
        meta = {"dataset": "ldb", "models": [m for _, _, m in pool]}
        yield problem(task_id, task["prompt"], task["entry_point"], [s for s, _, _ in pool],
                      task.get("given_tests", []), [ok for _, ok, _ in pool], meta)
