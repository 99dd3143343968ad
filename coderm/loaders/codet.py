"""CodeT's raw generations (microsoft/CodeT ``data/generated_data``) joined with their problems.

Code samples are completions of the code prompt, cut at CodeT's stop tokens; test samples are
continuations of ``...# check the correctness of f\\nassert `` from which CodeT's
postprocessing extracts at most ``limit`` asserts per sample (duplicates kept, as CodeT
counts them). Reproduces ``codet/humaneval_codegen16b.problems.jsonl.gz`` exactly.
"""
from __future__ import annotations

import json
from collections.abc import Iterator

from coderm.loaders.records import LoaderError, field, problem, read_jsonl, read_records
from executor import astparse

STOP_TOKENS = ("\nclass", "\ndef", "\n#", "\nif", "\nprint")


def truncate(text: str) -> str:
    """Cut at the first of CodeT's stop tokens, applied in CodeT's order."""
    for token in STOP_TOKENS:
        if token in text:
            text = text.split(token)[0]
    return text


def _is_valid_assert(test: str) -> bool:
    # CodeT's check: the assert must parse inside a try block (parsed, not compiled, so a
    # trailing `from __future__` line does not disqualify it, matching the published file)
    if not test.strip() or "assert" not in test:
        return False
    body = test.replace("\n", "\n    ")
    try:
        astparse.parse(f"try:\n    {body}\nexcept:\n    pass\n")
    except (SyntaxError, ValueError):
        return False
    return True


def extract_asserts(sample: str, entry_point: str) -> list[str]:
    """The asserts of one generated test sample that mention ``entry_point``, in order."""
    parts = f"assert {sample}".split("assert ")
    tests = [truncate("assert " + p.strip()).strip() for p in parts if entry_point.strip() in p and p.strip()]
    return [t for t in tests if _is_valid_assert(t)]


def codet(*, solutions: str, test_cases: str | None = None, problems: str, labels: str | None = None,
          limit: int = 5) -> Iterator[dict]:
    """Problems of ``problems`` (``HumanEval_for_code_generation``) with candidates from
    ``solutions`` (``*_code_solution.jsonl``) and tests from ``test_cases`` (``*_test_case.jsonl``).

    Generations are matched to problems by prompt, as CodeT does; ``labels`` is a JSON object
    ``task_id -> [bool]`` (e.g. ``humaneval_codegen16b_labels.json``).
    """
    if limit < 1:
        raise LoaderError(f"limit must be >= 1, got {limit}")
    by_prompt: dict[str, dict] = {}
    order: list[str] = []
    for where, record in read_records(problems):
        task = {k: field(record, k, where) for k in ("prompt", "entry_point")}
        task["task_id"] = str(field(record, "task_id", where, (str, int)))
        by_prompt[task["prompt"]] = task
        order.append(task["task_id"])
    candidates = _generations(solutions, by_prompt, lambda task, s: task["prompt"] + truncate(s))
    tests: dict[str, list[str]] = {}
    if test_cases:
        extracted = _generations(test_cases, by_prompt, lambda task, s: extract_asserts(s, task["entry_point"])[:limit])
        tests = {task_id: [t for ts in per_sample for t in ts] for task_id, per_sample in extracted.items()}
    truth = _read_labels(labels) if labels else {}
    tasks = {t["task_id"]: t for t in by_prompt.values()}
    for task_id in order:
        task = tasks[task_id]
        cands = candidates.get(task_id, [])
        task_labels = truth.get(task_id)
        if task_labels is not None and len(task_labels) != len(cands):
            raise LoaderError(f"{labels}: {task_id} has {len(task_labels)} labels for {len(cands)} candidates")
        meta = {"dataset": "codet", "source": "CodeT generated_data"}
        yield problem(task_id, task["prompt"], task["entry_point"], cands, tests.get(task_id, []), task_labels, meta)


def _generations(path: str, by_prompt: dict[str, dict], convert) -> dict[str, list]:
    """``task_id -> [convert(task, sample)]`` for a ``{prompt, samples}`` file.

    A test-case prompt is the code prompt followed by a stub and ``assert ``; it is matched to
    the longest code prompt it starts with.
    """
    out: dict[str, list] = {}
    for where, record in read_jsonl(path):
        prompt = field(record, "prompt", where)
        samples = field(record, "samples", where, list)
        task = by_prompt.get(prompt) or _by_prefix(prompt, by_prompt)
        if task is None:
            raise LoaderError(f"{where}: prompt matches no problem of the problems file")
        if task["task_id"] in out:
            raise LoaderError(f"{where}: second record for {task['task_id']}")
        out[task["task_id"]] = [convert(task, s) for s in samples]
    return out


def _by_prefix(prompt: str, by_prompt: dict[str, dict]) -> dict | None:
    matches = [p for p in by_prompt if prompt.startswith(p)]
    return by_prompt[max(matches, key=len)] if matches else None


def _read_labels(path: str) -> dict[str, list[bool]]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise LoaderError(f"{path}: no such file") from None
    except json.JSONDecodeError as e:
        raise LoaderError(f"{path}: malformed JSON at line {e.lineno} ({e.msg})") from None
    if not isinstance(data, dict) or not all(
        isinstance(v, list) and all(isinstance(x, bool) for x in v) for v in data.values()
    ):
        raise LoaderError(f"{path}: expected an object task_id -> list of true/false")
    return data
