"""Stdin/stdout problems (CodeContests / APPS style) and SandboxFusion's ``code_eval`` files.

Record shapes recognised by their fields:
- MapCoder CodeContests: ``name, description, sample_io, test_list`` (outputs are lists of
  accepted answers; the first is used); candidates from ``samples`` (``name, candidates[{code, is_solved}]``);
- SandboxFusion: ``content, id, test`` (a JSON string of ``{"input": {"stdin"}, "output": {"stdout"}}``)
  or ``content, id, test_list`` (assert tests, a function problem) with ``canonical_solution``;
- APPS: ``problem_id, question, input_output`` (JSON string ``{"inputs", "outputs", "fn_name"?}``);
- DeepMind CodeContests: ``name, description, public_tests, private_tests`` (``{"input": [], "output": []}``).
Hidden tests become ``tests``; visible examples go to ``meta["public_tests"]``.
"""
from __future__ import annotations

import ast
import builtins
import json
from collections.abc import Iterator, Sequence

from coderm.loaders.records import LoaderError, as_sources, field, problem, read_jsonl, read_records


def stdio_test(input_text: str, output_text: str) -> dict:
    return {"type": "stdio", "input": input_text, "output": output_text}


def _first(output, where: str) -> str:
    if isinstance(output, list):
        if not output or not isinstance(output[0], str):
            raise LoaderError(f"{where}: an expected output list must hold strings")
        return output[0]
    if not isinstance(output, str):
        raise LoaderError(f"{where}: expected output must be a string, got {type(output).__name__}")
    return output


def _json_field(record: dict, name: str, where: str):
    value = record[name]
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as e:
            raise LoaderError(f"{where}: field {name!r} is not valid JSON ({e.msg})") from None
    return value


def _io_pairs(cases, where: str, name: str) -> list[dict]:
    if not isinstance(cases, list):
        raise LoaderError(f"{where}: field {name!r} must be a list")
    out = []
    for k, case in enumerate(cases):
        if not isinstance(case, dict) or "input" not in case or "output" not in case:
            raise LoaderError(f"{where}: {name}[{k}] needs 'input' and 'output'")
        inp, outp = case["input"], case["output"]
        if isinstance(inp, dict):  # SandboxFusion: {"stdin": ...} / {"stdout": ...}
            inp, outp = inp.get("stdin", ""), (outp or {}).get("stdout", "")
        if not isinstance(inp, str):
            raise LoaderError(f"{where}: {name}[{k}].input must be a string")
        out.append(stdio_test(inp, _first(outp, f"{where}: {name}[{k}].output")))
    return out


def _columns(value, where: str, name: str) -> list[dict]:
    """``{"input": [...], "output": [...]}`` (DeepMind CodeContests) as stdio tests."""
    if not isinstance(value, dict) or not isinstance(value.get("input"), list):
        raise LoaderError(f"{where}: field {name!r} must be an object with lists 'input' and 'output'")
    if len(value["input"]) != len(value.get("output") or []):
        raise LoaderError(f"{where}: field {name!r} has different numbers of inputs and outputs")
    return [stdio_test(i, o) for i, o in zip(value["input"], value["output"])]


def _apps_tests(record: dict, where: str) -> tuple[list, str | None]:
    spec = _json_field(record, "input_output", where) if record.get("input_output") else {}
    inputs, outputs, fn_name = spec.get("inputs", []), spec.get("outputs", []), spec.get("fn_name")
    if len(inputs) != len(outputs):
        raise LoaderError(f"{where}: input_output has {len(inputs)} inputs and {len(outputs)} outputs")
    if fn_name:  # call-based APPS problems: inputs are argument lists, outputs lists of one value
        tests = [{"type": "call", "args": i, "expected": o[0] if isinstance(o, list) and len(o) == 1 else o}
                 for i, o in zip(inputs, outputs)]
        return tests, fn_name
    as_text = lambda v: "\n".join(v) if isinstance(v, list) else str(v)  # noqa: E731
    return [stdio_test(as_text(i), as_text(o)) for i, o in zip(inputs, outputs)], None


def _mapcoder_candidates(path: str) -> dict[str, tuple[list[str], list[bool]]]:
    out = {}
    for number, record in read_jsonl(path):
        where = f"{path}:{number}"
        codes, labels = [], []
        for k, cand in enumerate(field(record, "candidates", where, list)):
            if not isinstance(cand, dict) or not isinstance(cand.get("code"), str):
                raise LoaderError(f"{where}: candidates[{k}] needs a string 'code'")
            codes.append(cand["code"])
            labels.append(cand.get("is_solved"))
        out[str(field(record, "name", where))] = (codes, labels)
    return out


def called_function(test: str) -> str | None:
    """The first non-builtin function an assert calls: the entry point of an MBPP-style test."""
    try:
        tree = ast.parse(test)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not hasattr(builtins, node.func.id):
            return node.func.id
    return None


def _one(record: dict, where: str) -> dict:
    """Convert one record of any recognised shape."""
    meta: dict = {"dataset": "stdio"}
    entry_point = None
    candidates: list[str] = []
    labels: list[bool] | None = None
    if "test_list" in record and "description" in record:  # MapCoder CodeContests
        task_id, prompt = str(field(record, "name", where)), field(record, "description", where)
        tests = _io_pairs(record["test_list"], where, "test_list")
        meta["public_tests"] = _io_pairs(record.get("sample_io") or [], where, "sample_io")
        meta.update({k: record[k] for k in ("tags", "difficulty") if k in record})
    elif "content" in record and "test" in record:  # SandboxFusion stdio
        task_id, prompt = str(field(record, "id", where, (str, int))), field(record, "content", where)
        tests = _io_pairs(_json_field(record, "test", where), where, "test")
        if record.get("labels"):
            meta["labels"] = _json_field(record, "labels", where)
    elif "content" in record and "test_list" in record:  # SandboxFusion MBPP: assert tests
        task_id, prompt = str(field(record, "id", where, (str, int))), field(record, "content", where)
        tests = [str(t) for t in field(record, "test_list", where, list)]
        entry_point = called_function(tests[0]) if tests else None
        if isinstance(record.get("canonical_solution"), str):
            candidates, labels = [record["canonical_solution"]], [True]
    elif "input_output" in record:  # APPS
        task_id = str(field(record, "problem_id", where, (str, int)))
        prompt = field(record, "question", where)
        tests, entry_point = _apps_tests(record, where)
        if record.get("starter_code"):
            meta["starter_code"] = record["starter_code"]
    elif "public_tests" in record and "description" in record:  # DeepMind CodeContests
        task_id, prompt = str(field(record, "name", where)), field(record, "description", where)
        tests = _columns(record.get("private_tests"), where, "private_tests")
        meta["public_tests"] = _columns(record["public_tests"], where, "public_tests")
    else:
        raise LoaderError(f"{where}: unrecognised stdio record (fields: {', '.join(sorted(record))})")
    return problem(task_id, prompt, entry_point, candidates, tests, labels, meta)


def stdio(inputs: str | Sequence[str] | None = None, *, samples: str | None = None) -> Iterator[dict]:
    """Stdio problems from ``inputs``; ``samples`` is a MapCoder candidates file joined by ``name``."""
    sources = as_sources(inputs, "")
    if sources == [""]:
        raise LoaderError("stdio needs --input: e.g. stdio/codecontests31_problems.jsonl.gz")
    pool = _mapcoder_candidates(samples) if samples else {}
    for source in sources:
        for where, record in read_records(source):
            out = _one(record, where)
            if out["task_id"] in pool:
                codes, labels = pool[out["task_id"]]
                known = labels if all(isinstance(x, bool) for x in labels) else None
                out = problem(out["task_id"], out["prompt"], out["entry_point"], codes, out["tests"], known, out["meta"])
            yield out
