"""Stdin/stdout problems in MapCoder's and SandboxFusion's ``code_eval`` files.

Record shapes recognised by their fields:
- MapCoder CodeContests: ``name, description, sample_io, test_list`` (outputs are lists of
  accepted answers: the first is expected, the others are alternatives); candidates from
  ``samples`` (``name, candidates[{code, is_solved}]``);
- SandboxFusion: ``content, id, test`` (a JSON string of ``{"input": {"stdin"}, "output": {"stdout"}}``)
  or ``content, id, test_list`` (assert tests, a function problem) with ``canonical_solution``.
Hidden tests become ``tests``; visible examples go to ``meta["public_tests"]``. APPS/TACO and
DeepMind CodeContests records have loaders of their own (``apps``, ``codecontests``).

The language of a stdio problem's candidates is the record's ``language`` field, or SandboxFusion's
``labels.programming_language``; a record naming none takes the loader's ``language`` (SandboxFusion's
judge-style datasets name none in the data: the request does), Python by default. Assert-test
problems are Python.
"""
from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator, Sequence

from coderm.loaders.records import LoaderError, as_sources, decode_json, field, problem, read_jsonl, read_records
from executor import astparse
from executor.languages import PYTHON, canonical


def _expected(output, where: str) -> tuple[str, list[str]]:
    """An expected output and its alternatives: a string, or a list of accepted outputs."""
    outputs = output if isinstance(output, list) else [output]
    if not outputs or not all(isinstance(o, str) for o in outputs):
        raise LoaderError(f"{where}: an expected output must be a string or a non-empty list of strings")
    return outputs[0], outputs[1:]


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
        expected, alternatives = _expected(outp, f"{where}: {name}[{k}].output")
        test = {"type": "stdio", "input": inp, "output": expected}
        if alternatives:
            test["alternatives"] = alternatives
        out.append(test)
    return out


def _mapcoder_candidates(path: str) -> dict[str, tuple[list[str], list[bool]]]:
    out = {}
    for where, record in read_jsonl(path):
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
        tree = astparse.parse(test)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not hasattr(builtins, node.func.id):
            return node.func.id
    return None


def _language(named, where: str, default: str) -> str:
    """The language a record names (``named``, None when it names none), else ``default``."""
    try:
        return canonical(named or default)
    except ValueError as e:
        raise LoaderError(f"{where}: {e}") from None


def _one(record: dict, where: str, default_language: str) -> dict:
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
        language = _language(record.get("language"), where, default_language)
    elif "content" in record and "test" in record:  # SandboxFusion stdio
        task_id, prompt = str(field(record, "id", where, (str, int))), field(record, "content", where)
        tests = _io_pairs(decode_json(record["test"], where, "test"), where, "test")
        if record.get("labels"):
            meta["labels"] = decode_json(record["labels"], where, "labels")
        sf_labels = meta.get("labels")
        named = record.get("language") or (sf_labels.get("programming_language") if isinstance(sf_labels, dict) else None)
        language = _language(named, where, default_language)
    elif "content" in record and "test_list" in record:  # SandboxFusion MBPP: assert tests
        task_id, prompt = str(field(record, "id", where, (str, int))), field(record, "content", where)
        tests = [str(t) for t in field(record, "test_list", where, list)]
        entry_point = called_function(tests[0]) if tests else None
        if isinstance(record.get("canonical_solution"), str):
            candidates, labels = [record["canonical_solution"]], [True]
        language = PYTHON
    elif "input_output" in record or "public_tests" in record:
        raise LoaderError(f"{where}: an APPS/TACO or DeepMind CodeContests record: use the apps or codecontests loader")
    else:
        raise LoaderError(f"{where}: unrecognised stdio record (fields: {', '.join(sorted(record))})")
    return problem(task_id, prompt, entry_point, candidates, tests, labels, meta, language)


def stdio(inputs: str | Sequence[str] | None = None, *, samples: str | None = None,
          language: str = PYTHON) -> Iterator[dict]:
    """Stdio problems from ``inputs``; ``samples`` is a MapCoder candidates file joined by ``name``;
    ``language``: the candidates' language where a stdio record names none."""
    sources = as_sources(inputs, "", "stdio needs --input: e.g. stdio/codecontests31_problems.jsonl.gz")
    default_language = _language(None, "stdio", language)
    pool = _mapcoder_candidates(samples) if samples else {}
    for source in sources:
        for where, record in read_records(source):
            out = _one(record, where, default_language)
            if out["task_id"] in pool:
                codes, labels = pool[out["task_id"]]
                known = labels if all(isinstance(x, bool) for x in labels) else None
                out = problem(out["task_id"], out["prompt"], out["entry_point"], codes, out["tests"], known, out["meta"],
                              out.get("language", PYTHON))
            yield out
