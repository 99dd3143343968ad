"""Competitive-programming datasets: APPS / TACO and DeepMind CodeContests.

- APPS (``codeparrot/apps``) and TACO (``BAAI/TACO``): ``question``, ``input_output`` (JSON text of
  ``{"inputs", "outputs", "fn_name"?}``), ``starter_code``; stdin/stdout problems get stdio tests,
  ``fn_name`` problems call tests of that function (a ``class Solution`` method is called on a
  fresh instance).
- CodeContests (``deepmind/code_contests``): ``name``, ``description`` and the ``public_tests``,
  ``private_tests`` and ``generated_tests`` splits as stdio tests.

The test formats are read by ``coderm.formats``, as RL ground truth in the same shapes is.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence

from coderm.formats import FormatError, entry_name, io_tests, split_tests
from coderm.loaders.records import LoaderError, as_sources, decode_json, field, problem, read_records

SPLITS = ("public", "private", "generated")


def apps(inputs: str | Sequence[str] | None = None) -> Iterator[dict]:
    """APPS or TACO problems (``inputs`` defaults to the APPS test split on the Hub)."""
    for source in as_sources(inputs, "codeparrot/apps"):
        for where, record in read_records(source):
            spec = decode_json(field(record, "input_output", where, (str, dict)), where, "input_output")
            if not isinstance(spec, dict):
                raise LoaderError(f"{where}: field 'input_output' must hold an object")
            try:
                fn_name = entry_name(spec.get("fn_name"))
                tests = io_tests(spec.get("inputs", []), spec.get("outputs", []), fn_name)
            except FormatError as e:
                raise LoaderError(f"{where}: input_output: {e}") from None
            meta = {"dataset": "apps"}
            meta.update({k: record[k] for k in ("difficulty", "url", "source") if isinstance(record.get(k), str)})
            if record.get("starter_code"):
                meta["starter_code"] = record["starter_code"]
            task_id = str(record.get("problem_id", record.get("name") or where))
            yield problem(task_id, field(record, "question", where), fn_name, [], tests, None, meta)


def codecontests(inputs: str | Sequence[str] | None = None, *,
                 splits: Sequence[str] = SPLITS) -> Iterator[dict]:
    """CodeContests problems with the tests of ``splits`` (public, private, generated)."""
    unknown = sorted(set(splits) - set(SPLITS))
    if unknown or not splits:
        raise LoaderError(f"codecontests splits must be some of {', '.join(SPLITS)}, "
                          f"got {', '.join(splits) or 'none'}")
    for source in as_sources(inputs, "deepmind/code_contests"):
        for where, record in read_records(source):
            tests, counts = [], {}
            for split in splits:
                value = decode_json(record.get(f"{split}_tests") or {"input": [], "output": []}, where, f"{split}_tests")
                try:
                    found = split_tests(value, f"{split}_tests")
                except FormatError as e:
                    raise LoaderError(f"{where}: {e}") from None
                tests += found
                counts[split] = len(found)
            meta = {"dataset": "codecontests", "n_tests": counts}
            meta.update({k: record[k] for k in ("source", "difficulty", "time_limit") if k in record})
            yield problem(str(field(record, "name", where)), field(record, "description", where), None, [], tests,
                          None, meta)
