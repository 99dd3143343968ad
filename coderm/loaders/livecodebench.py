"""LiveCodeBench ``code_generation_lite``: stdin problems (AtCoder, Codeforces) and functional
LeetCode problems, with public and private tests.

Private tests are stored as base64(zlib(pickle(json string))). The pickle comes from a
download, so it is read with an unpickler that refuses every global: only the plain string it
is supposed to hold can come out of it, never an object that runs code.
"""
from __future__ import annotations

import base64
import binascii
import io
import json
import pickle
import zlib
from collections.abc import Iterator, Sequence

from coderm.loaders.records import LoaderError, as_sources, field, problem, read_records

HUB_FILE = "hf://datasets/livecodebench/code_generation_lite/test.jsonl"  # release_v1; test2..6 add later problems


class _StringsOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a test file")


def decode_private(blob: str, where: str) -> list:
    """Private tests: plain JSON, or LCB's base64 + zlib + pickle of a JSON string."""
    try:
        return json.loads(blob)
    except json.JSONDecodeError:
        pass
    try:
        text = _StringsOnly(io.BytesIO(zlib.decompress(base64.b64decode(blob.encode("ascii"), validate=True)))).load()
        if not isinstance(text, str):
            raise LoaderError(f"{where}: private_test_cases holds a {type(text).__name__}, expected a JSON string")
        return json.loads(text)
    except (binascii.Error, zlib.error, pickle.UnpicklingError, EOFError, UnicodeEncodeError, json.JSONDecodeError) as e:
        raise LoaderError(f"{where}: private_test_cases is neither JSON nor base64+zlib+pickle ({e})") from None


def functional_test(func_name: str, case: dict) -> str:
    """A LeetCode case (one JSON value per input line) as an assert on ``Solution().func_name``."""
    args = [json.loads(line) for line in case["input"].split("\n") if line.strip()]
    expected = json.loads(case["output"])
    return f"assert Solution().{func_name}(*{args!r}) == {expected!r}"


def _tests(cases, func_name: str | None, where: str, name: str) -> list:
    if not isinstance(cases, list):
        raise LoaderError(f"{where}: {name} must be a list of test cases")
    tests = []
    for k, case in enumerate(cases):
        if not isinstance(case, dict) or not isinstance(case.get("input"), str) or not isinstance(case.get("output"), str):
            raise LoaderError(f"{where}: {name}[{k}] needs string fields 'input' and 'output'")
        kind = case.get("testtype", "stdin")
        if kind == "stdin":
            tests.append({"type": "stdio", "input": case["input"], "output": case["output"]})
        elif kind == "functional":
            if not func_name:
                raise LoaderError(f"{where}: {name}[{k}] is functional but metadata has no func_name")
            try:
                tests.append(functional_test(func_name, case))
            except json.JSONDecodeError as e:
                raise LoaderError(f"{where}: {name}[{k}] input/output is not JSON ({e.msg})") from None
        else:
            raise LoaderError(f"{where}: {name}[{k}] has unknown testtype {kind!r}")
    return tests


def livecodebench(inputs: str | Sequence[str] | None = None, *, private: bool = True) -> Iterator[dict]:
    """LCB problems; ``private=False`` keeps only the public tests.

    Functional problems get ``entry_point`` ``"Solution"`` (the class a candidate must define)
    and assert tests on ``Solution().<func_name>``; stdin problems get stdio tests.
    """
    for source in as_sources(inputs, HUB_FILE):
        for where, record in read_records(source):
            metadata = _json(record.get("metadata") or {}, where, "metadata")
            func_name = metadata.get("func_name") if isinstance(metadata, dict) else None
            public = _json(field(record, "public_test_cases", where, (str, list)), where, "public_test_cases")
            tests = _tests(public, func_name, where, "public_test_cases")
            if private and record.get("private_test_cases"):
                tests += _tests(decode_private(record["private_test_cases"], where), func_name, where, "private_test_cases")
            meta = {"dataset": "livecodebench", "n_public": len(public)}
            meta.update({k: str(record[k]) for k in ("platform", "difficulty", "contest_date", "question_title") if k in record})
            if record.get("starter_code"):
                meta["starter_code"] = record["starter_code"]
            if func_name:
                meta["func_name"] = func_name
            task_id = str(field(record, "question_id", where, (str, int)))
            prompt = field(record, "question_content", where)
            yield problem(task_id, prompt, "Solution" if func_name else None, [], tests, None, meta)


def _json(value, where: str, name: str):
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value) if value.strip() else {}
    except json.JSONDecodeError as e:
        raise LoaderError(f"{where}: field {name!r} is not valid JSON ({e.msg})") from None
