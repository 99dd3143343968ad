"""HumanEval+ and MBPP+ (evalplus): call tests whose expected outputs come from running the
canonical solution on ``base_input`` (+ ``plus_input``) through the sandboxed executor.

evalplus ships inputs only; the reference outputs are recomputed here, as evalplus itself
does. Inputs on which the reference fails (error, timeout) or returns more than
``max_output_chars`` of JSON (HumanEval/15 returns strings of ~1 MB) are dropped and counted in
``meta["dropped_inputs"]``. Outputs holding floats are judged within the task's ``atol``, as
evalplus judges them. Hub copies without inputs (their ``test`` inlines them) keep that ``test``
as one code test.
"""
from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Sequence

from coderm.loaders.records import LoaderError, as_sources, field, problem, read_records
from coderm.loaders.samples import candidates_from_samples, join_body, read_samples
from executor import CallTest, Executor, ExecutorConfig, Job, Status
from executor.specs import canonical_json

EVALPLUS_FLOAT_ATOL = 1e-6  # evalplus: "enforce atol for float comparison" when a task has none
EVALPLUS_RTOL = 1e-7  # numpy's allclose default, which evalplus uses
# evalplus's special oracle: these MBPP+ functions are right when they return the same set of items.
SET_EQUAL_ENTRY_POINTS = frozenset({"similar_elements", "find_char_long", "common_in_nested_lists", "extract_singly",
                                    "larg_nnum", "intersection_array", "find_dissimilar", "Diff"})


def task_id(record: dict) -> str:
    """A record's task id as samples spell it (v0.1.0 spells HumanEval_0 for HumanEval/0)."""
    return str(record["task_id"]).replace("HumanEval_", "HumanEval/")


def _inputs(record: dict, where: str, plus: bool, max_inputs: int | None) -> list[list]:
    inputs = list(field(record, "base_input", where, list))
    if plus:
        inputs += field(record, "plus_input", where, list)
    for k, args in enumerate(inputs):
        if not isinstance(args, list):
            raise LoaderError(f"{where}: input {k} must be a list of arguments, got {type(args).__name__}")
    return inputs if max_inputs is None else inputs[:max_inputs]


def _expected_outputs(jobs: Iterable[tuple[int, str, str, list[list]]], config) -> Iterator[tuple[int, list]]:
    """For each (key, program, entry_point, inputs): ``(key, [output_json or None per input])``."""
    with Executor(config or ExecutorConfig(timeout=5.0, cache_path=None)) as ex:
        recording = (Job(key, [program], [CallTest(canonical_json(args), None) for args in inputs],
                         entry_point=entry_point) for key, program, entry_point, inputs in jobs)
        for key, matrix in ex.run_many(recording):
            # a recording cell is PASS when the reference returned; anything else has no output
            yield key, [matrix.outputs.get((0, j)) if status == Status.PASS else None
                        for j, status in enumerate(matrix.statuses[0])]


def _has_float(value) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, list):
        return any(_has_float(v) for v in value)
    return isinstance(value, dict) and any(_has_float(v) for v in value.values())


def _call_test(args: list, output_json: str | None, entry_point: str, atol: float,
               max_output_chars: int | None) -> dict | None:
    """The call test for one input, or None when the reference gave no (complete, small enough) output.

    Judged as evalplus does: as a set for its set-equality tasks; else within the task's ``atol``
    (1e-6 when it has none and the output holds floats) with numpy's default ``rtol`` of 1e-7."""
    if output_json is None or (max_output_chars is not None and len(output_json) > max_output_chars):
        return None
    try:
        expected = json.loads(output_json)
    except json.JSONDecodeError:  # output cut at the executor's output_limit
        return None
    test = {"type": "call", "args": args, "expected": expected}
    if entry_point in SET_EQUAL_ENTRY_POINTS:
        test["judge"] = {"kind": "unordered", "multiset": False}
    elif atol or _has_float(expected):
        test["judge"] = {"kind": "float", "atol": atol or EVALPLUS_FLOAT_ATOL, "rtol": EVALPLUS_RTOL}
    return test


def _evalplus(dataset: str, inputs: str | Sequence[str] | None = None, *, samples: str | None = None,
              plus: bool = True, max_inputs: int | None = None, max_output_chars: int | None = 10_000,
              executor_config=None) -> Iterator[dict]:
    """The loader of one evalplus dataset (they differ only in name and Hub source)."""
    if max_inputs is not None and max_inputs < 1:
        raise LoaderError(f"max_inputs must be >= 1, got {max_inputs}")
    sources = as_sources(inputs, f"evalplus/{dataset}")
    by_task = read_samples(samples) if samples else None
    pending: dict[int, tuple[dict, str, list[list] | None]] = {}  # args None: Hub copy, tests inlined

    def jobs():
        index = 0
        for source in sources:
            for where, record in read_records(source):
                index += 1
                prog = join_body(field(record, "prompt", where), field(record, "canonical_solution", where))
                entry_point = field(record, "entry_point", where)
                if "base_input" in record:
                    args = _inputs(record, where, plus, max_inputs)
                else:
                    field(record, "test", where)
                    args = None
                pending[index] = (record, prog, args)
                yield index, prog, entry_point, args or []

    for key, outputs in _expected_outputs(jobs(), executor_config):
        record, prog, args = pending.pop(key)
        if args is None:
            tests, meta = [record["test"]], {}
        else:
            atol = float(record.get("atol") or 0.0)
            tests = [_call_test(a, out, record["entry_point"], atol, max_output_chars) for a, out in zip(args, outputs)]
            tests = [t for t in tests if t is not None]
            meta = {"n_inputs": len(args), "dropped_inputs": len(args) - len(tests)}
        if by_task is None:
            candidates, labels = [prog], [True]
        else:
            candidates, labels = candidates_from_samples(record["prompt"], by_task.get(task_id(record), []))
        meta.update(dataset=dataset, plus=plus)
        yield problem(task_id(record), record["prompt"], record["entry_point"], candidates, tests, labels, meta)


def _evalplus_loader(dataset: str, doc: str):
    """``_evalplus`` for one dataset, named and documented as its public loader."""
    load = functools.partial(_evalplus, dataset)
    load.__name__ = load.__qualname__ = dataset
    load.__doc__ = doc
    return load


humanevalplus = _evalplus_loader("humanevalplus", "HumanEval+ problems with call tests; ``plus=False`` keeps only the base inputs.")
mbppplus = _evalplus_loader("mbppplus", "MBPP+ problems with call tests; the prompt is evalplus's task description.")
