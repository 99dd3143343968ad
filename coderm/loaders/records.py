"""Reading source records and building contract problems.

Local JSONL files are read line by line with the standard ``json`` module: Arrow (what
``datasets`` uses for local JSON) rejects the big integers in the evalplus inputs ("Value is
too big!") and would coerce mixed int/float argument lists to floats, which changes what a
program is called with. Anything that is not a local path is a Hugging Face Hub dataset read
through ``datasets`` in streaming mode, so nothing is downloaded whole or cached as Arrow.
"""
from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlparse

from coderm.jsonl import read_objects
from coderm.model import Problem, ValidationError
from executor.languages import PYTHON

HUB_PROBE_SECONDS = 5.0  # time a first connection to the Hub may take


class LoaderError(ValueError):
    """Bad or missing input for a loader; the message names the file, line and field."""


def is_local(source: str) -> bool:
    """A source is a local file when it exists or has a JSON file suffix; else a Hub name."""
    return os.path.exists(source) or (
        not source.startswith("hf://") and source.endswith((".jsonl", ".jsonl.gz", ".json", ".json.gz"))
    )


def read_jsonl(path: str) -> Iterator[tuple[str, dict]]:
    """Yield ``(where, record)`` from a local JSONL(.gz) file, one line at a time; ``where`` is ``file:line``."""
    try:
        for number, record in read_objects(path):
            yield f"{path}:{number}", record
    except ValidationError as e:
        raise LoaderError(str(e)) from None


def read_records(source: str, split: str = "test") -> Iterator[tuple[str, dict]]:
    """Yield ``(where, record)``: ``where`` is ``file:line`` (local) or ``name[index]`` (Hub)."""
    if is_local(source):
        yield from read_jsonl(source)
        return
    import datasets

    unreachable = _hub_unreachable()
    if unreachable:
        raise LoaderError(f"{source}: not a local file, and the Hugging Face Hub cannot be reached ({unreachable}); "
                          f"give a local copy with --input FILE, or set HF_HUB_OFFLINE=1 to read a cached one")
    try:
        if source.startswith("hf://"):
            dataset = datasets.load_dataset("json", data_files=source, split="train", streaming=True)
        else:
            dataset = datasets.load_dataset(source, split=split, streaming=True)
        for index, record in enumerate(dataset):
            yield f"{source}[{index}]", dict(record)
    except (OSError, ValueError, ConnectionError) as e:  # offline, unknown name, bad split
        raise LoaderError(f"{source}: not a local file and not loadable from the Hugging Face Hub ({e})") from None


def _hub_unreachable() -> str | None:
    """Why no connection to the Hub opens within HUB_PROBE_SECONDS, or None. The Hub client retries a
    dead connection with backoff for about 25 s before giving up; this answers in one try. Skipped in
    offline mode (the cache is read) and behind a proxy (a direct connection proves nothing there)."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE or any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY")):
        return None
    url = urlparse(constants.ENDPOINT)
    host, port = url.hostname or "", url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=HUB_PROBE_SECONDS).close()
    except OSError as e:
        return f"{host}:{port}: {e.strerror or e}"
    return None


def field(record: dict, name: str, where: str, kind: type | tuple[type, ...] = str) -> Any:
    """``record[name]`` checked for presence and type, else a LoaderError naming the place."""
    if name not in record:
        raise LoaderError(f"{where}: missing field {name!r}")
    value = record[name]
    if not isinstance(value, kind):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise LoaderError(f"{where}: field {name!r} must be {expected}, got {type(value).__name__}")
    return value


def decode_json(value: Any, where: str, name: str) -> Any:
    """A field that datasets store either decoded or as JSON text ("" reads as {})."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value) if value.strip() else {}
    except json.JSONDecodeError as e:
        raise LoaderError(f"{where}: field {name!r} is not valid JSON ({e.msg})") from None


def as_sources(inputs: str | Sequence[str] | None, default: str, missing: str = "") -> list[str]:
    """Normalise a loader's ``inputs`` argument: one path, several, or the Hub default; a loader
    without a Hub copy (``default`` "") raises LoaderError(``missing``) when given none."""
    sources = [inputs] if isinstance(inputs, str) else (list(inputs) if inputs else [default])
    if sources == [""] and not default:
        raise LoaderError(missing)
    return sources


def problem(task_id: str, prompt: str, entry_point: str | None, candidates: list[str], tests: list,
            labels: list[bool] | None = None, meta: dict | None = None, language: str = PYTHON) -> dict:
    """One contract line (DESIGN.md); ``labels`` is left out when unknown, ``language`` when Python."""
    if labels is not None and len(labels) != len(candidates):
        raise LoaderError(f"{task_id}: {len(labels)} labels for {len(candidates)} candidates")
    return Problem(task_id, prompt, candidates, entry_point, tests, labels, meta or {}, language).to_json()
