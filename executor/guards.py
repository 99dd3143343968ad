"""Guards that keep candidate code from faking a test's comparisons or the harness's state.

Test code's ``==``/``!=``/``in`` chains are rewritten (executor.prepare) into ``__coderm_compare__``
calls; values compared with plain data must be plain data themselves; functions the candidate
defines are seen by tests behind a return check; and a snapshot of trusted modules and classes is
restored around every test, any change reported as tampering.
"""
from __future__ import annotations

import decimal
import fractions
import operator
import unittest.case
from itertools import islice
from operator import is_, itemgetter
from types import FunctionType, MappingProxyType
from typing import Any

from executor.prepare import COMPARE_HELPER, COMPARE_OPS

CANDIDATE_MODULE = "__candidate__"  # __name__ of the candidate's namespace
_TestCase = unittest.case.TestCase
_isinstance, _type, _len, _any, _all = isinstance, type, len, any, all

_COMPARE = MappingProxyType({
    **{name: getattr(operator, name) for name in COMPARE_OPS if name not in ("in_", "not_in")},
    "in_": lambda a, b: a in b, "not_in": lambda a, b: a not in b,
})
_EQUALITY_OPS = frozenset({"eq", "ne", "in_", "not_in"})
_PLAIN = frozenset({int, float, complex, str, bytes, bool, type(None)})
_CONTAINERS = frozenset({list, tuple, set, frozenset})


class Tampering(Exception):
    """Raised when a value or the harness environment is caught lying."""


class _Nobody:
    """A fresh object no honest value compares equal to."""


_RIGGABLE = frozenset({
    "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__bool__", "__len__", "__contains__",
    "__abs__", "__neg__", "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
    "__truediv__", "__rtruediv__", "__float__", "__int__", "__index__", "__round__",
})
_rigged_cache: dict = {}


def _rigged(t: type) -> bool:
    """A class written by the candidate that redefines how it compares or computes."""
    verdict = _rigged_cache.get(t)
    if verdict is None:
        verdict = _any(
            getattr(k, "__module__", None) == CANDIDATE_MODULE and _any(name in vars(k) for name in _RIGGABLE)
            for k in getattr(t, "__mro__", ())
        )
        _rigged_cache[t] = verdict
    return verdict


def _lies(value: Any, depth: int = 0) -> bool:
    """True for a value (or an element of one) that may fake its comparisons: an instance of a
    candidate class redefining comparison/arithmetic, or anything equal to an unrelated object."""
    t = _type(value)
    if t in _PLAIN:
        return False
    if t in _CONTAINERS:
        return depth < 4 and _any(_lies(v, depth + 1) for v in islice(value, 2000))
    if t is dict:
        return depth < 4 and _any(_lies(k, depth + 1) or _lies(v, depth + 1) for k, v in islice(value.items(), 2000))
    if _rigged(t):
        return True
    probe = _Nobody()
    try:
        return bool(value == probe) or not bool(value != probe)
    except Exception:
        return False


# Exact builtin types and the raw accessor that reads a subclass instance without its overrides.
_RAW_SCALARS = ((bool, bool), (int, int.__int__), (float, float.__float__), (str, str.__str__),
                (bytes, bytes), (complex, complex))
_TRUSTED_NUMBERS = (fractions.Fraction, decimal.Decimal)


def _plain(value: Any, depth: int = 0) -> Any:
    """``value`` as plain data, to be compared with plain data by the plain types' own equality.

    Subclasses of builtins are read through the builtin (their overrides ignored); numpy-style
    scalars through ``.item()``; anything else cannot stand in for plain data: Tampering.
    """
    t = _type(value)
    if t in _PLAIN or t in _TRUSTED_NUMBERS:
        return value
    if depth < 6:
        if _isinstance(value, (list, tuple)):
            items = [_plain(v, depth + 1) for v in (list.__iter__ if _isinstance(value, list) else tuple.__iter__)(value)]
            return items if _isinstance(value, list) else tuple(items)
        if _isinstance(value, (set, frozenset)):
            return frozenset(_plain(v, depth + 1) for v in (set.__iter__ if _isinstance(value, set) else frozenset.__iter__)(value))
        if _isinstance(value, dict):
            return {_plain(k, depth + 1): _plain(v, depth + 1) for k, v in dict.items(value)}
    for base, raw in _RAW_SCALARS:
        if _isinstance(value, base) and base is not bool:
            return raw(value)
    item = getattr(value, "item", None)
    if callable(item):
        try:
            plain = item()
        except Exception:
            plain = _Nobody
        if _type(plain) in _PLAIN:
            return plain
    raise Tampering(f"a {t.__name__} cannot be compared with plain data")


def _is_plain(value: Any) -> bool:
    t = _type(value)
    return t in _PLAIN or t in _CONTAINERS or t is dict


def _comparable(op: str, left: Any, right: Any) -> tuple[Any, Any]:
    """Where one side is plain data, the other must be turned into plain data too."""
    if op in ("in_", "not_in"):
        if not _is_plain(left) and _is_plain(right):
            return _plain(left), right
        return left, right
    if _is_plain(left) and not _is_plain(right):
        return left, _plain(right)
    if _is_plain(right) and not _is_plain(left):
        return _plain(left), right
    if _type(left) in _CONTAINERS or _type(left) is dict or _type(right) in _CONTAINERS or _type(right) is dict:
        return _plain(left), _plain(right)
    return left, right


def _guarded_compare(ops: tuple, *operands: Any) -> bool:
    """A rewritten comparison chain (``a == b``, ``x in xs``, ``a == b == c``) that refuses liars."""
    for value in operands:
        if _lies(value):
            raise Tampering("a compared value fakes its comparisons")
    left = operands[0]
    for op, right in zip(ops, operands[1:]):
        a, b = _comparable(op, left, right) if op in _EQUALITY_OPS else (left, right)
        if not _COMPARE[op](a, b):
            return False
        left = right
    return True


def guard_returns(fn: Any) -> Any:
    """Wrap a candidate function as tests see it: a returned liar is tampering, not a PASS."""
    def guarded(*args: Any, **kwargs: Any) -> Any:
        value = fn(*args, **kwargs)
        if _lies(value):
            raise Tampering(f"{getattr(fn, '__name__', 'candidate')} returned a value that fakes its comparisons")
        return value

    guarded.__wrapped__ = fn
    return guarded


def _guard_assert_equal(original):
    def assertEqual(self, first, second, msg=None):  # noqa: N802 - unittest's name
        if _lies(first) or _lies(second):
            raise Tampering("a compared value fakes its comparisons")
        first, second = _comparable("eq", first, second)
        return original(self, first, second, msg)

    return assertEqual


for _name in ("assertEqual", "assertEquals", "assertListEqual", "assertTupleEqual", "assertDictEqual",
              "assertSetEqual", "assertSequenceEqual", "assertCountEqual", "assertNotEqual"):
    if hasattr(_TestCase, _name):
        setattr(_TestCase, _name, _guard_assert_equal(getattr(_TestCase, _name)))

HELPERS = MappingProxyType({COMPARE_HELPER: _guarded_compare})


class Snapshot:
    """Attribute values of trusted objects, to restore after untrusted code ran and say what changed.

    The common case (nothing changed) is checked at C speed: same number of attributes and every
    saved value still the very same object.
    """

    def __init__(self, *owners: Any) -> None:
        self.owners = owners
        self.saved = [dict(vars(o)) for o in owners]
        self.getters = [itemgetter(*saved) for saved in self.saved]
        self.values = [getter(saved) for getter, saved in zip(self.getters, self.saved)]
        self.functions = [v for saved in self.saved for v in saved.values() if _type(v) is FunctionType]
        self.codes = [f.__code__ for f in self.functions]

    def _intact(self) -> bool:
        try:
            return _all(
                _len(vars(o)) == _len(saved) and _all(map(is_, getter(vars(o)), values))
                for o, saved, getter, values in zip(self.owners, self.saved, self.getters, self.values)
            ) and _all(map(is_, (f.__code__ for f in self.functions), self.codes))
        except KeyError:
            return False

    def restore_and_diff(self) -> list[str]:
        """Put every saved attribute back; return the names that had been changed."""
        if self._intact():
            return []
        changed = []
        for function, code in zip(self.functions, self.codes):
            if function.__code__ is not code:
                changed.append(f"{function.__qualname__}.__code__ replaced")
                function.__code__ = code
        for owner, saved in zip(self.owners, self.saved):
            current = vars(owner)
            label = getattr(owner, "__name__", "?")
            for key in [k for k in current if k not in saved]:
                changed.append(f"{label}.{key} added")
                try:
                    delattr(owner, key)
                except (AttributeError, TypeError):
                    pass
            for key, value in saved.items():
                if current.get(key, _Nobody) is not value:
                    changed.append(f"{label}.{key} replaced")
                    try:
                        setattr(owner, key, value)
                    except (AttributeError, TypeError):
                        pass
        return changed
