"""Streaming JSONL in and out: ``.gz`` transparent, atomic outputs, resumable runs.

Inputs are read one line at a time (files of 100k problems never sit in memory). Outputs go to
``OUT.partial`` line by line, flushed, and become ``OUT`` by ``os.replace`` only when complete, so a
reader never sees a half-written ``OUT``. A run killed halfway leaves ``OUT.partial``; the next run
with the same configuration keeps its finished lines (keyed by ``task_id``) and computes the rest.
"""
from __future__ import annotations

import gzip
import json
import os
import secrets
import zlib
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from coderm.model import Problem, ValidationError

ErrorHandler = Callable[[ValidationError], None]


def _open_binary(path: Path):
    return gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")


def read_json_lines(path: str | os.PathLike, on_error: ErrorHandler | None = None) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, value)`` for every non-blank line.

    A line that is not UTF-8 or not JSON raises ValidationError, or, with ``on_error``, is handed
    to it and skipped. A missing file or a corrupt gzip stream always raises (nothing after it is
    readable).
    """
    path = Path(path)
    if not path.is_file():
        raise ValidationError("no such file", path=str(path))
    number = 0
    try:
        with _open_binary(path) as f:
            for number, raw in enumerate(f, start=1):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    _report(ValidationError(f"not valid UTF-8 (byte {e.start})", path=str(path), line=number), on_error)
                    continue
                if not text.strip():
                    continue
                try:
                    value = json.loads(text)
                except json.JSONDecodeError as e:
                    _report(ValidationError(f"malformed JSON: {_decode_error(e, text)}", path=str(path), line=number),
                            on_error)
                    continue
                yield number, value
    except (OSError, EOFError, zlib.error) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise ValidationError(f"cannot read file: {e}", path=str(path), line=number + 1) from None


def _decode_error(error: json.JSONDecodeError, text: str) -> str:
    """The parser's complaint, or, when it ran out of text, that the line is cut short: a truncated
    line (a killed writer, a copy cut off) reads "Expecting value" otherwise."""
    if error.pos >= len(text.rstrip()):
        return f"the line ends after {len(text.rstrip())} characters, before its JSON value does (truncated?)"
    return f"{error.msg} at column {error.colno}"


def read_objects(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """``(line_number, object)`` for every non-blank line; anything but a JSON object raises ValidationError."""
    for number, value in read_json_lines(path):
        if not isinstance(value, dict):
            raise ValidationError(f"expected a JSON object, got {type(value).__name__}", path=str(path), line=number)
        yield number, value


def _report(error: ValidationError, on_error: ErrorHandler | None) -> None:
    if on_error is None:
        raise error
    on_error(error)


def read_problems(path: str | os.PathLike, on_error: ErrorHandler | None = None) -> Iterator[tuple[int, Problem]]:
    """Yield ``(line_number, Problem)``; invalid lines raise or go to ``on_error`` as in ``read_json_lines``.

    A ``task_id`` seen before is invalid too: outputs and resumed runs are keyed by it.
    """
    seen: set[str] = set()
    for number, value in read_json_lines(path, on_error):
        try:
            problem = Problem.from_json(value)
            if problem.task_id in seen:
                raise ValidationError(f"duplicate task_id {problem.task_id!r}", field="task_id")
        except ValidationError as e:
            _report(e.located(str(path), number), on_error)
            continue
        seen.add(problem.task_id)
        yield number, problem


def read_labelled(path: str | os.PathLike, limit: int | None = None) -> list[Problem]:
    """The first ``limit`` problems of a file, each with labels (evaluation and ORM training need them)."""
    problems = []
    for number, problem in islice(read_problems(path), limit):
        if problem.labels is None:
            raise ValidationError("must give one label per candidate", path=str(path), line=number, field="labels")
        problems.append(problem)
    if not problems:
        raise ValidationError("no problems", path=str(path))
    return problems


def dumps(record: Any) -> str:
    """One JSONL line (with its newline); UTF-8 text kept as is."""
    return json.dumps(record, ensure_ascii=False) + "\n"


def write_atomic(path: str | os.PathLike, lines: Iterable[str]) -> int:
    """Write text lines to ``path`` (gzip when it ends in ``.gz``) through a temp file in the same
    directory and ``os.replace``: ``path`` is either the old file or the complete new one."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    count = 0
    try:
        with open(tmp, "xb") as raw:  # not mkstemp: the output gets the usual permissions, not 0600
            sink = gzip.GzipFile(fileobj=raw, mode="wb", filename="", mtime=0) if path.name.endswith(".gz") else raw
            for line in lines:
                sink.write(line.encode("utf-8"))
                count += 1
            if sink is not raw:
                sink.close()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count


class ResumeError(Exception):
    """An existing partial output cannot be continued (it came from a different configuration)."""


def _differences(then: str | None, now: str) -> str:
    """``key: then -> now`` for each setting two JSON fingerprints disagree on (nested keys dotted);
    "" when either is not a JSON object (a partial file from an older version kept a digest)."""
    try:
        old, new = json.loads(then or ""), json.loads(now)
    except ValueError:
        return ""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return ""
    old, new = _flat(old), _flat(new)
    unset = object()
    return "; ".join(f"{key}: {json.dumps(old.get(key))} -> {json.dumps(new.get(key))}"
                     for key in sorted(old.keys() | new.keys()) if old.get(key, unset) != new.get(key, unset))


def _flat(values: dict, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict) and value:
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


class ResumableOutput:
    """Line-keyed output that survives being killed.

        out = ResumableOutput("scores.jsonl", fingerprint=config.fingerprint())
        for problem in problems:
            if problem.task_id not in out.done:
                out.write(problem.task_id, record)
        out.finish(task_ids_in_input_order)

    ``OUT.partial`` holds finished lines; ``OUT.partial.config`` the fingerprint of the
    configuration that wrote them, so a run with other settings never mixes its lines in.
    """

    def __init__(self, path: str | os.PathLike, fingerprint: str) -> None:
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.name + ".partial")
        self._config = self.path.with_name(self.path.name + ".partial.config")
        self.done: set[str] = set()
        if self.partial.exists():
            stored = self._config.read_text() if self._config.exists() else None
            if stored != fingerprint:
                differ = _differences(stored, fingerprint)
                raise ResumeError(f"{self.partial} was written with a different configuration"
                                  f"{f' ({differ})' if differ else ''}; delete it (and {self._config.name}) to "
                                  f"start over, or rerun with the same settings")
            self._recover()
        else:
            self._config.write_text(fingerprint)
        self._file = open(self.partial, "ab")

    def _recover(self) -> None:
        """Keep the complete lines of the partial file; cut a line torn by a kill."""
        good = 0
        with open(self.partial, "rb") as f:
            for raw in f:
                try:
                    task_id = json.loads(raw)["task_id"] if raw.endswith(b"\n") else None
                except (ValueError, TypeError, KeyError):
                    task_id = None
                if not isinstance(task_id, str):
                    break
                self.done.add(task_id)
                good += len(raw)
        os.truncate(self.partial, good)

    def write(self, task_id: str, record: dict) -> None:
        self._file.write(dumps(record).encode("utf-8"))
        self._file.flush()
        self.done.add(task_id)

    def close(self) -> None:
        """Stop writing; the partial file stays for a later run to continue."""
        if not self._file.closed:
            self._file.close()

    def finish(self, order: list[str]) -> None:
        """Publish ``OUT`` with one line per task id of ``order``, in that order; drop the partial files."""
        missing = [t for t in order if t not in self.done]
        if missing:
            raise RuntimeError(f"{len(missing)} problems have no output line (first: {missing[0]!r})")
        self._file.flush()
        os.fsync(self._file.fileno())
        self.close()
        offsets: dict[str, tuple[int, int]] = {}
        sequence: list[str] = []
        with open(self.partial, "rb") as f:
            position = 0
            for raw in f:
                task_id = json.loads(raw)["task_id"]
                offsets[task_id] = (position, len(raw))
                sequence.append(task_id)
                position += len(raw)
        if sequence == order and not self.path.name.endswith(".gz"):
            os.replace(self.partial, self.path)
        else:
            with open(self.partial, "rb") as f:
                write_atomic(self.path, (_read_at(f, *offsets[t]) for t in order))
            self.partial.unlink()
        self._config.unlink(missing_ok=True)


def _read_at(f, offset: int, size: int) -> str:
    f.seek(offset)
    return f.read(size).decode("utf-8")
