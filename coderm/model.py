"""The data contract of DESIGN.md as plain dataclasses, with validation that names file, line and field.

``Problem`` is one input line of ``coderm score``; ``ScoreResult`` one output line. Tests stay in
their contract form (strings or dicts) so a problem round-trips unchanged; ``executor.specs.as_test``
is the single judge of what a valid test is.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from executor.languages import PYTHON, canonical
from executor.specs import CallTest, as_test


class ValidationError(ValueError):
    """Bad input, located: ``path:line: field: message`` (path/line/field may be unknown)."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None, field: str | None = None):
        self.message, self.path, self.line, self.field = message, path, line, field
        super().__init__(str(self))

    def located(self, path: str | None, line: int | None) -> "ValidationError":
        """The same error with file and line filled in (validators below do not know them)."""
        return ValidationError(self.message, path=path, line=line, field=self.field)

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.path, self.line) if p is not None)
        what = f"field {self.field!r}: {self.message}" if self.field else self.message
        return f"{where}: {what}" if where else what


def _require(obj: dict, name: str, kind: type | tuple[type, ...], what: str) -> Any:
    if name not in obj:
        raise ValidationError("missing required field", field=name)
    value = obj[name]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ValidationError(f"must be {what}, got {type(value).__name__}", field=name)
    return value


def _optional(obj: dict, name: str, kind: type | tuple[type, ...], what: str, default: Any) -> Any:
    if obj.get(name) is None:
        return default
    return _require(obj, name, kind, what)


def _language(obj: dict, n_candidates: int) -> str | list[str]:
    """The ``language`` field: a name for every candidate or a list with one per candidate (aliases folded)."""
    value = obj.get("language")
    if value is None:
        return PYTHON
    try:
        if isinstance(value, str):
            return canonical(value)
        if isinstance(value, list):
            if len(value) != n_candidates:
                raise ValueError(f"has {len(value)} entries for {n_candidates} candidates")
            return [canonical(v) for v in value]
    except ValueError as e:
        raise ValidationError(str(e), field="language") from None
    raise ValidationError(f"must be a language name or a list of them, got {type(value).__name__}", field="language")


@dataclass
class Problem:
    """One problem: candidates to score and (optionally) the tests to score them with."""

    task_id: str
    prompt: str
    candidates: list[str]
    entry_point: str | None = None
    tests: list[Any] | None = None  # None: no tests given (mined/generated ones are used instead)
    labels: list[bool] | None = None  # ground truth, read only by evaluation
    meta: dict = field(default_factory=dict)
    language: str | list[str] = PYTHON  # the candidates' language, or one per candidate (canonical names)

    def languages(self) -> list[str]:
        """The language of each candidate."""
        return [self.language] * len(self.candidates) if isinstance(self.language, str) else list(self.language)

    @property
    def all_python(self) -> bool:
        """Whether every candidate is Python (what pruning and prompt joining understand)."""
        return all(lang == PYTHON for lang in self.languages())

    @classmethod
    def from_json(cls, obj: Any) -> "Problem":
        """Validate a decoded JSON line; raises ValidationError naming the field."""
        if not isinstance(obj, dict):
            raise ValidationError(f"a problem must be a JSON object, got {type(obj).__name__}")
        task_id = _require(obj, "task_id", str, "a string")
        prompt = _require(obj, "prompt", str, "a string")
        entry_point = _optional(obj, "entry_point", str, "a string or null", None)
        candidates = _require(obj, "candidates", list, "a list of strings")
        for i, c in enumerate(candidates):
            if not isinstance(c, str):
                raise ValidationError(f"must be a string (a full program), got {type(c).__name__}", field=f"candidates[{i}]")
        tests = _optional(obj, "tests", list, "a list of tests", None)
        for j, t in enumerate(tests or ()):
            try:
                spec = as_test(t)
            except ValueError as e:
                raise ValidationError(str(e), field=f"tests[{j}]") from None
            if isinstance(spec, CallTest) and entry_point is None:
                raise ValidationError(f"tests[{j}] is a call test but the problem has no entry_point", field="entry_point")
        labels = _optional(obj, "labels", list, "a list of booleans", None)
        if labels is not None:
            if len(labels) != len(candidates):
                raise ValidationError(f"has {len(labels)} entries for {len(candidates)} candidates", field="labels")
            for i, label in enumerate(labels):
                if not isinstance(label, bool):
                    raise ValidationError(f"must be true or false, got {label!r}", field=f"labels[{i}]")
        meta = _optional(obj, "meta", dict, "an object", {})
        return cls(task_id, prompt, list(candidates), entry_point, tests, labels, meta, _language(obj, len(candidates)))

    def to_json(self) -> dict:
        out: dict[str, Any] = {"task_id": self.task_id, "prompt": self.prompt, "entry_point": self.entry_point,
                               "candidates": self.candidates}
        if self.tests is not None:
            out["tests"] = self.tests
        if self.labels is not None:
            out["labels"] = self.labels
        out["meta"] = self.meta
        if self.language != PYTHON:
            out["language"] = self.language
        return out


@dataclass
class ScoreResult:
    """One output line of ``coderm score``: ``scores[i]`` belongs to ``candidates[i]``, higher is better."""

    task_id: str
    scores: list[float]
    ranking: list[int]
    best: int | None  # None only when there are no candidates
    n_tests: int
    stats: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"task_id": self.task_id, "scores": self.scores, "ranking": self.ranking, "best": self.best,
                "n_tests": self.n_tests, "stats": self.stats}

    @classmethod
    def from_json(cls, obj: Any) -> "ScoreResult":
        if not isinstance(obj, dict):
            raise ValidationError(f"a score line must be a JSON object, got {type(obj).__name__}")
        task_id = _require(obj, "task_id", str, "a string")
        scores = _require(obj, "scores", list, "a list of numbers")
        for i, s in enumerate(scores):
            if not isinstance(s, (int, float)) or isinstance(s, bool) or not math.isfinite(s):
                raise ValidationError(f"must be a finite number, got {s!r}", field=f"scores[{i}]")
        ranking = _require(obj, "ranking", list, "a list of candidate indices")
        if sorted(ranking) != list(range(len(scores))):
            raise ValidationError(f"must be a permutation of 0..{len(scores) - 1}", field="ranking")
        best = obj.get("best")
        if best != (ranking[0] if ranking else None):
            raise ValidationError(f"must equal ranking[0], got {best!r}", field="best")
        n_tests = _require(obj, "n_tests", int, "an integer")
        stats = _optional(obj, "stats", dict, "an object", {})
        return cls(task_id, [float(s) for s in scores], ranking, best, n_tests, stats)
