"""Test inputs without a model: mutations of the inputs a problem already shows (S* selection).

S* needs inputs on which candidates that pass every visible test may still disagree; their outputs
are then clustered (``coderm.select.sstar``), so no expected output is needed. Here they come from
the visible inputs, mutated so that they stay inputs of the same problem:

- Function problems (evalplus-style type-aware mutation): the arguments of the calls in the given
  tests (call tests, asserts, ``check(candidate)``) and the prompt's examples; ints are nudged or drawn
  from the range the seeds span, floats scaled, bools flipped, strings edited within their alphabet,
  lists and dicts grown, shrunk and mutated element-wise, tuples element-wise (their arity is a type).
- Stdin problems: the public example inputs (given tests, ``meta.public_tests``, the statement's
  examples), mutated structure-preservingly. The line and token
  layout is kept; a number that announces how many lines follow (or how many tokens the next line
  holds) is a count and moves only with them, when a repeated block or array grows or shrinks; other
  numbers are perturbed within the range the example's numbers span; words are edited within their
  letter class, keeping their length.

Every input is a record-only test (``{"type": "call", "args", "kwargs"}`` or ``{"type": "stdio",
"input"}``). The same problem and seed give the same inputs. Inputs on which most candidates crash
are dropped after running them (``coderm.select.sstar``): a mutation may leave the problem's domain.
"""
from __future__ import annotations

import ast
import json
import random
import re
import string
from dataclasses import dataclass
from typing import Any, Callable

from coderm import sources
from executor import astparse
from executor.specs import CallTest, CodeTest, StdioTest, as_test, canonical_json

MAX_ATTEMPTS = 20  # mutation attempts per wanted input before giving up (few seeds, few distinct mutants)
_INT = re.compile(r"-?\d+\Z")
_FLOAT = re.compile(r"-?\d+\.\d*\Z")


def synthesize(problem: dict, n: int, seed: int = 0) -> list[dict]:
    """Up to ``n`` new record-only tests for ``problem`` (a contract dict), none equal to a seed input."""
    rng = random.Random(f"{seed}:{problem.get('task_id', '')}")
    if problem.get("entry_point"):
        calls = call_seeds(problem)
        pool = _Values([value for args, kwargs in calls for value in (*args, *kwargs.values())])
        found = _distinct(lambda: _mutate_call(rng.choice(calls), pool, rng), canonical_json,
                          [canonical_json(c) for c in calls], n) if calls else []
        return [{"type": "call", "args": args, **({"kwargs": kwargs} if kwargs else {})} for args, kwargs in found]
    texts = stdio_seeds(problem)
    layouts = [_Layout.parse(text) for text in texts]
    found = _distinct(lambda: rng.choice(layouts).mutate(rng), str, texts, n) if layouts else []
    return [{"type": "stdio", "input": text} for text in found]


def _distinct(make: Callable[[], Any], key: Callable[[Any], str], seen: list[str], n: int) -> list[Any]:
    """Up to ``n`` values of ``make()`` with keys new to ``seen``, in at most ``n * MAX_ATTEMPTS`` tries."""
    known, out = set(seen), []
    for _ in range(n * MAX_ATTEMPTS):
        if len(out) == n:
            break
        value = make()
        if key(value) not in known:
            known.add(key(value))
            out.append(value)
    return out


# -- function problems -------------------------------------------------------------------------


def call_seeds(problem: dict) -> list[tuple[list, dict]]:
    """(args, kwargs) of every call of the entry point with literal arguments in the problem's tests
    and prompt examples, first occurrence order, JSON values only (they travel as call tests)."""
    entry_point = problem["entry_point"]
    found: list[tuple[list, dict]] = []
    codes: list[str] = []
    for test in [*(problem.get("tests") or []), *sources.mined_tests(problem)]:
        try:
            spec = as_test(test)
        except ValueError:
            continue
        if isinstance(spec, CallTest):
            found.append((spec.args, spec.kwargs))
        elif isinstance(spec, CodeTest):
            codes.append(spec.code)
    for code in codes:
        found.extend(literal_calls(code, entry_point))
    unique: dict[str, tuple[list, dict]] = {}
    for args, kwargs in found:
        try:
            unique.setdefault(canonical_json([args, kwargs]), (args, kwargs))
        except (TypeError, ValueError):  # a tuple key, a set: not a call test's JSON
            continue
    return list(unique.values())


def literal_calls(code: str, entry_point: str) -> list[tuple[list, dict]]:
    """(args, kwargs) of the calls ``entry_point(...)``, ``candidate(...)`` or ``X.entry_point(...)`` in
    ``code`` whose arguments are all literals; the code is parsed, never run."""
    try:
        tree = astparse.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return []
    calls = [_literal_args(node, entry_point) for node in ast.walk(tree) if isinstance(node, ast.Call)]
    return [call for call in calls if call is not None]


def _literal_args(node: ast.Call, entry_point: str) -> tuple[list, dict] | None:
    """(args, kwargs) of a call of the entry point whose arguments are all JSON literals, else None."""
    func = node.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    if name not in (entry_point, "candidate") or any(isinstance(a, ast.Starred) for a in node.args):
        return None
    try:
        args = [_json_like(ast.literal_eval(a)) for a in node.args]
        kwargs = {k.arg: _json_like(ast.literal_eval(k.value)) for k in node.keywords if k.arg}
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return (args, kwargs) if len(kwargs) == len(node.keywords) else None


def recording(test: Any, entry_point: str) -> dict | None:
    """The record-only call test behind a generated assert ``assert f(<literals>) == <literal>`` (either
    side), else None: every candidate's output on that input can then be compared with every other's,
    which clusters them by behaviour even where the assert's expected value is wrong."""
    try:
        spec = as_test(test)
    except ValueError:
        return None
    if not isinstance(spec, CodeTest):
        return None
    try:
        tree = astparse.parse(spec.code)
    except (SyntaxError, ValueError):
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assert):
        return None
    check = tree.body[0].test
    if not (isinstance(check, ast.Compare) and len(check.ops) == 1 and isinstance(check.ops[0], ast.Eq)):
        return None
    for call, other in ((check.left, check.comparators[0]), (check.comparators[0], check.left)):
        if isinstance(call, ast.Call) and _is_literal(other):
            found = _literal_args(call, entry_point)
            if found is not None:
                args, kwargs = found
                return {"type": "call", "args": args, **({"kwargs": kwargs} if kwargs else {})}
    return None


def recordings(tests: list[Any], entry_point: str | None) -> list[dict]:
    """The distinct record-only call tests behind ``tests``' asserts (see ``recording``), in order."""
    found: dict[str, dict] = {}
    for test in tests if entry_point else []:
        call = recording(test, entry_point)
        if call is not None:
            found.setdefault(canonical_json(call), call)
    return list(found.values())


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return True


def _json_like(value: Any) -> Any:
    """Tuples as lists (JSON has no tuples); anything else JSON cannot hold raises TypeError."""
    if isinstance(value, (list, tuple)):
        return [_json_like(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("dict keys must be strings in JSON")
        return {k: _json_like(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"{type(value).__name__} is not JSON")


class _Values:
    """What the seeds span: the int range, and the characters strings are edited with."""

    def __init__(self, values: list[Any]) -> None:
        ints: list[int] = []
        chars: set[str] = set()

        def walk(v: Any) -> None:
            if isinstance(v, bool):
                return
            if isinstance(v, int):
                ints.append(v)
            elif isinstance(v, str):
                chars.update(v)
            elif isinstance(v, list):
                for x in v:
                    walk(x)
            elif isinstance(v, dict):
                for x in v.values():
                    walk(x)

        for value in values:
            walk(value)
        self.lo, self.hi = (min(ints), max(ints)) if ints else (0, 10)
        self.alphabet = "".join(sorted(chars)) or string.ascii_lowercase


def _mutate_call(seed: tuple[list, dict], pool: _Values, rng: random.Random) -> tuple[list, dict]:
    """A copy of a seed call with one or two of its arguments mutated."""
    args, kwargs = json.loads(json.dumps(seed[0])), json.loads(json.dumps(seed[1]))
    slots = [("a", i) for i in range(len(args))] + [("k", k) for k in kwargs]
    if not slots:
        return args, kwargs
    for _ in range(rng.randint(1, 2)):
        kind, at = rng.choice(slots)
        if kind == "a":
            args[at] = mutate_value(args[at], pool, rng)
        else:
            kwargs[at] = mutate_value(kwargs[at], pool, rng)
    return args, kwargs


def mutate_value(value: Any, pool: _Values, rng: random.Random) -> Any:
    """One type-aware mutation of a JSON value (evalplus's operators, kept inside the seeds' domain:
    a non-negative int stays non-negative unless the seeds hold negatives)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        scale = max(10, abs(value), pool.hi - pool.lo)
        options = [value + 1, value - 1, value + rng.randint(-scale, scale), value * 2, rng.randint(pool.lo, pool.hi)]
        new = rng.choice(options)
        return max(new, min(pool.lo, 0)) if value >= 0 else new
    if isinstance(value, float):
        return rng.choice([value * rng.uniform(0.5, 2.0), value + rng.uniform(-1.0, 1.0), round(value) + 0.5])
    if isinstance(value, str):
        return _edit_string(value, pool.alphabet, rng)
    if isinstance(value, list):
        items = list(value)
        op = rng.choice(["grow", "shrink", "mutate", "mutate"] if items else ["grow"])
        if op == "grow" and items:
            items.insert(rng.randint(0, len(items)), mutate_value(rng.choice(items), pool, rng))
        elif op == "grow":
            return [rng.randint(pool.lo, pool.hi)]
        elif op == "shrink":
            del items[rng.randrange(len(items))]
        else:
            k = rng.randrange(len(items))
            items[k] = mutate_value(items[k], pool, rng)
        return items
    if isinstance(value, dict) and value:
        key = rng.choice(sorted(value))
        return {**value, key: mutate_value(value[key], pool, rng)}
    return value


def _edit_string(text: str, alphabet: str, rng: random.Random) -> str:
    op = rng.choice(["insert", "delete", "replace", "swap"] if text else ["insert"])
    k = rng.randrange(len(text) + (op == "insert")) if text or op == "insert" else 0
    if op == "insert":
        return text[:k] + rng.choice(alphabet) + text[k:]
    if op == "delete":
        return text[:k] + text[k + 1:]
    if op == "replace":
        return text[:k] + rng.choice(alphabet) + text[k + 1:]
    j = rng.randrange(len(text))
    chars = list(text)
    chars[k], chars[j] = chars[j], chars[k]
    return "".join(chars)


# -- stdin problems ----------------------------------------------------------------------------


def stdio_seeds(problem: dict) -> list[str]:
    """The inputs of the problem's stdio tests, of its public examples (``meta.public_tests``) and of the
    examples in its statement."""
    tests = [*(problem.get("tests") or []), *((problem.get("meta") or {}).get("public_tests") or []),
             *sources.mined_tests(problem)]
    inputs: list[str] = []
    for test in tests:
        try:
            spec = as_test(test)
        except ValueError:
            continue
        if isinstance(spec, StdioTest) and spec.input not in inputs:
            inputs.append(spec.input)
    return inputs


@dataclass
class _Count:
    """A count token (line, position) and what it counts: the ``lines`` following it or the tokens
    of the line ``tokens_of``; neither for a number of test cases (never changed)."""

    line: int
    pos: int
    lines: range | None = None
    tokens_of: int | None = None


class _Layout:
    """An example input as lines of tokens, its counts, and the ranges its numbers span."""

    def __init__(self, lines: list[list[str]], trailing_newline: bool) -> None:
        self.lines, self.trailing_newline = lines, trailing_newline
        self.counts = self._find_counts()
        counted = {(c.line, c.pos) for c in self.counts}
        ints = [int(t) for i, line in enumerate(lines) for p, t in enumerate(line)
                if _INT.match(t) and (i, p) not in counted]
        self.lo, self.hi = (min(ints), max(ints)) if ints else (0, 0)
        words = "".join(t for line in lines for t in line if not _INT.match(t) and not _FLOAT.match(t))
        self.alphabet = _letter_class(words)

    @classmethod
    def parse(cls, text: str) -> "_Layout":
        return cls([line.split() for line in text.rstrip("\n").split("\n")], text.endswith("\n"))

    def _find_counts(self) -> list[_Count]:
        """Ints equal to the number of same-shaped lines right after their line, or to the number of
        tokens of the next line; the first int of a line that announces a block wins."""
        counts: list[_Count] = []
        used: set[int] = set()
        for i, line in enumerate(self.lines):
            for p, token in enumerate(line):
                if not _INT.match(token):
                    continue
                c = int(token)
                block = range(i + 1, i + 1 + c)
                if c >= 2 and block.stop <= len(self.lines) and not used & set(block) and \
                        len({_shape(self.lines[k]) for k in block}) == 1:
                    counts.append(_Count(i, p, lines=block))
                    used.update(block)
                    break
                if c > 1 and i + 1 < len(self.lines) and len(self.lines[i + 1]) == c and i + 1 not in used \
                        and len({_shape([t]) for t in self.lines[i + 1]}) == 1:
                    counts.append(_Count(i, p, tokens_of=i + 1))
                    used.add(i + 1)
                    break
        if self.lines and len(self.lines[0]) == 1 and _INT.match(self.lines[0][0]) and not any(c.line == 0 for c in counts):
            counts.append(_Count(0, 0))  # a lone int first: the number of test cases, left as it is
        return counts

    def mutate(self, rng: random.Random) -> str:
        """A new input text: one or two of number perturbation, word edits, a block or array resized."""
        lines = [list(line) for line in self.lines]
        counts = list(self.counts)
        for _ in range(rng.randint(1, 2)):
            resizable = [k for k, c in enumerate(counts) if c.lines is not None or c.tokens_of is not None]
            op = rng.choice(["numbers", "numbers", "words"] + ["resize"] * (2 if resizable else 0))
            if op == "resize":
                lines, counts = _resize(lines, counts, rng.choice(resizable), rng, self)
            elif op == "numbers":
                self._perturb_numbers(lines, counts, rng)
            else:
                self._edit_words(lines, rng)
        return "\n".join(" ".join(line) for line in lines) + ("\n" if self.trailing_newline else "")

    def _perturb_numbers(self, lines: list[list[str]], counts: list[_Count], rng: random.Random) -> None:
        counted = {(c.line, c.pos) for c in counts}
        spots = [(i, p) for i, line in enumerate(lines) for p, t in enumerate(line)
                 if (i, p) not in counted and (_INT.match(t) or _FLOAT.match(t))]
        for i, p in rng.sample(spots, min(len(spots), rng.randint(1, 3))):
            lines[i][p] = self.number(lines[i][p], rng)

    def number(self, token: str, rng: random.Random) -> str:
        """A number like ``token`` within the example's range: nudged, or drawn from the range."""
        if _FLOAT.match(token):
            decimals = len(token.split(".")[1])
            return f"{float(token) * rng.uniform(0.5, 1.5):.{decimals}f}"
        value = int(token)
        new = rng.choice([value - 1, value + 1, rng.randint(self.lo, self.hi)])
        return str(min(max(new, self.lo), self.hi))

    def _edit_words(self, lines: list[list[str]], rng: random.Random) -> None:
        spots = [(i, p) for i, line in enumerate(lines) for p, t in enumerate(line)
                 if not _INT.match(t) and not _FLOAT.match(t)]
        if spots:
            i, p = rng.choice(spots)
            word = list(lines[i][p])
            for k in rng.sample(range(len(word)), min(len(word), rng.randint(1, 2))):
                word[k] = rng.choice(self.alphabet)
            lines[i][p] = "".join(word)


def _shape(tokens: list[str]) -> tuple:
    """A line's layout: the kind of each token (int, float, word)."""
    return tuple("i" if _INT.match(t) else "f" if _FLOAT.match(t) else "w" for t in tokens)


def _letter_class(words: str) -> str:
    """The characters a word may be edited with: the letter class its example uses."""
    if words and all(c in string.ascii_uppercase for c in words):
        return string.ascii_uppercase
    if words and all(c in string.ascii_lowercase for c in words):
        return string.ascii_lowercase
    return "".join(sorted(set(words))) or string.ascii_lowercase


def _resize(lines: list[list[str]], counts: list[_Count], which: int, rng: random.Random,
            layout: _Layout) -> tuple[list[list[str]], list[_Count]]:
    """Grow (by 1-3 copies of mutated items) or shrink (by 1) what count ``which`` counts, and its count."""
    count = counts[which]
    n = int(lines[count.line][count.pos])
    delta = rng.choice([-1, 1, 2, 3]) if n > 1 else rng.choice([1, 2, 3])
    if count.tokens_of is not None:
        row = lines[count.tokens_of]
        for _ in range(abs(delta)):
            if delta > 0:
                token = rng.choice(row)
                row.insert(rng.randint(0, len(row)), layout.number(token, rng) if _INT.match(token) else token)
            else:
                del row[rng.randrange(len(row))]
        lines[count.line][count.pos] = str(len(row))
        return lines, counts
    assert count.lines is not None
    block = [lines[k] for k in count.lines]
    if delta > 0:
        for _ in range(delta):
            new = [layout.number(t, rng) if _INT.match(t) or _FLOAT.match(t) else t for t in rng.choice(block)]
            block.insert(rng.randint(0, len(block)), new)
    else:
        del block[rng.randrange(len(block))]
    lines = lines[:count.lines.start] + block + lines[count.lines.stop:]
    lines[count.line][count.pos] = str(len(block))
    shift = len(block) - len(count.lines)
    moved = []
    for c in counts:  # counts after the block move with it; those inside it are no longer trusted
        if c is count:
            moved.append(_Count(c.line, c.pos, range(c.lines.start, c.lines.start + len(block))))
        elif c.line >= count.lines.stop:
            moved.append(_Count(c.line + shift, c.pos, c.lines and range(c.lines.start + shift, c.lines.stop + shift),
                                None if c.tokens_of is None else c.tokens_of + shift))
        elif c.line <= count.line:
            moved.append(c)
    return lines, moved
