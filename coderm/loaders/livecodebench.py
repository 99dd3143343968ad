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

from coderm.formats import FormatError, case_test
from coderm.loaders.records import LoaderError, as_sources, decode_json, field, problem, read_records

HUB_FILE = "hf://datasets/livecodebench/code_generation_lite/test.jsonl"  # release_v1; test2..6 add later problems
SPLITS = ("public", "private")


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


def _tests(cases, func_name: str | None, where: str, name: str) -> list:
    """LCB cases as contract tests: functional ones call ``func_name``; stdin ones compare tokens,
    numbers by value, as LCB's grader does ("1.0" is "1")."""
    if not isinstance(cases, list):
        raise LoaderError(f"{where}: {name} must be a list of test cases")
    tests = []
    for k, case in enumerate(cases):
        try:
            test = case_test(case, func_name)
        except FormatError as e:
            raise LoaderError(f"{where}: {name}[{k}]: {e}") from None
        tests.append({**test, "judge": "float"} if test["type"] == "stdio" else test)
    return tests


def livecodebench(inputs: str | Sequence[str] | None = None, *,
                  splits: Sequence[str] = SPLITS) -> Iterator[dict]:
    """LCB problems with the tests of ``splits`` (public, private).

    Functional (LeetCode) problems get their ``func_name`` as entry point and call tests; a
    program defining it as a method of ``class Solution`` is called on a fresh instance. Stdin
    problems get stdio tests.
    """
    unknown = sorted(set(splits) - set(SPLITS))
    if unknown or not splits:
        raise LoaderError(f"livecodebench splits must be some of {', '.join(SPLITS)}, got {', '.join(splits) or 'none'}")
    for source in as_sources(inputs, HUB_FILE):
        for where, record in read_records(source):
            metadata = decode_json(record.get("metadata") or {}, where, "metadata")
            func_name = metadata.get("func_name") if isinstance(metadata, dict) else None
            public = decode_json(field(record, "public_test_cases", where, (str, list)), where, "public_test_cases")
            tests = _tests(public, func_name, where, "public_test_cases") if "public" in splits else []
            if "private" in splits and record.get("private_test_cases"):
                tests += _tests(decode_private(record["private_test_cases"], where), func_name, where, "private_test_cases")
            meta = {"dataset": "livecodebench", "n_public": len(public)}
            meta.update({k: str(record[k]) for k in ("platform", "difficulty", "contest_date", "question_title") if k in record})
            if record.get("starter_code"):
                meta["starter_code"] = record["starter_code"]
            task_id = str(field(record, "question_id", where, (str, int)))
            prompt = field(record, "question_content", where)
            yield problem(task_id, prompt, func_name or None, [], tests, None, meta)
