"""Turn test specs into ready-to-run units, in the worker, before any untrusted code runs.

Code tests are classified (plain asserts, ``check(candidate)``, ``unittest`` classes), their
``==``/``!=`` comparisons are rewritten to guarded helpers (so an object whose ``__eq__`` always
returns True cannot pass), and they are compiled once per worker.
"""
from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from executor import astparse
from executor.specs import CallTest, CodeTest, StdioTest, TestSpec

TEST_FILENAME = "<test>"
CANDIDATE_FILENAME = "<candidate>"
COMPARE_HELPER = "__coderm_compare__"
_OP_NAMES = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge",
             ast.In: "in_", ast.NotIn: "not_in", ast.Is: "is_", ast.IsNot: "is_not"}
COMPARE_OPS = tuple(_OP_NAMES.values())
_GUARDED = (ast.Eq, ast.NotEq, ast.In, ast.NotIn)
# Names through which test code can get hold of unittest (or of anything): a test naming none of them
# (nor an ``assert*`` method) cannot see what a candidate did to unittest.
REACHES_UNITTEST = frozenset({
    "unittest", "TestCase", "TestSuite", "TestLoader", "TestResult", "main", "sys", "modules", "importlib",
    "__import__", "__subclasses__", "__globals__", "__dict__", "__builtins__", "__class__", "__base__",
    "__bases__", "__mro__", "getattr", "vars", "globals", "locals", "eval", "exec", "gc",
})


@dataclass(frozen=True)
class Prepared:
    """One runnable test. ``kind``: assert | check | unittest | stdio | call | invalid."""

    kind: str
    code: Any = None  # compiled code object (code tests) or None
    n_methods: int = 0  # unittest: test methods the loader must run
    class_names: tuple[str, ...] = ()  # unittest: the TestCase classes the test defines
    names: frozenset[str] = frozenset()  # every name the test's code looks up (its builtins are watched)
    spec: TestSpec | None = None
    error: str = ""  # why the test is invalid
    # whether the test may reach unittest, which the candidate could have patched (``reaches_unittest``):
    # only these tests pay for restoring and checking unittest's state around them
    uses_unittest: bool = False


class _GuardComparisons(ast.NodeTransformer):
    """Comparison chains with ``==``, ``!=``, ``in`` or ``not in`` become calls of the harness's guard.

    ``a == b == c`` -> ``__coderm_compare__(("eq", "eq"), a, b, c)``: operands are evaluated once, in
    order (all of them, unlike Python's short-circuit), then checked for liars and compared.
    """

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if not any(isinstance(op, _GUARDED) for op in node.ops):
            return node
        ops = ast.Tuple([ast.Constant(_OP_NAMES[type(op)]) for op in node.ops], ast.Load())
        call = ast.Call(ast.Name(COMPARE_HELPER, ast.Load()), [ops, node.left, *node.comparators], [])
        return ast.copy_location(call, node)


def _testcase_classes(tree: ast.Module) -> dict[str, ast.ClassDef]:
    """Top-level classes that derive (directly or through classes in the file) from TestCase."""
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}

    def base_names(cls: ast.ClassDef) -> list[str]:
        names = []
        for b in cls.bases:
            if isinstance(b, ast.Name):
                names.append(b.id)
            elif isinstance(b, ast.Attribute):
                names.append(b.attr)
        return names

    found: dict[str, ast.ClassDef] = {}
    changed = True
    while changed:
        changed = False
        for name, cls in classes.items():
            if name not in found and any(b == "TestCase" or b in found for b in base_names(cls)):
                found[name] = cls
                changed = True
    return found


def _count_test_methods(classes: dict[str, ast.ClassDef], tree: ast.Module) -> int:
    """Test methods the default loader will collect, counted statically (inherited ones too)."""
    all_classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}

    def methods(cls: ast.ClassDef, seen: set[str]) -> set[str]:
        own = {
            n.name for n in cls.body
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test")
        }
        for b in cls.bases:
            if isinstance(b, ast.Name) and b.id in all_classes and b.id not in seen:
                own |= methods(all_classes[b.id], seen | {b.id})
        return own

    return sum(len(methods(cls, {name})) for name, cls in classes.items())


def prepare_code_test(code: str) -> Prepared:
    try:
        tree = astparse.parse(code, TEST_FILENAME)
    except (SyntaxError, ValueError) as e:
        return Prepared("invalid", error=f"test does not compile: {type(e).__name__}: {e}")
    classes = _testcase_classes(tree)
    if classes:
        kind = "unittest"
        n_methods = _count_test_methods(classes, tree)
        if n_methods == 0:
            return Prepared("invalid", error="unittest class without test methods")
    elif any(isinstance(n, ast.FunctionDef) and n.name == "check" for n in tree.body):
        kind, n_methods = "check", 0
    else:
        kind, n_methods = "assert", 0
        if not any(isinstance(n, ast.Assert) for n in ast.walk(tree)):
            return Prepared("invalid", error="test has no assert, check(candidate) or TestCase")
    tree = ast.fix_missing_locations(_GuardComparisons().visit(tree))
    try:
        compiled = compile(tree, TEST_FILENAME, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as e:
        return Prepared("invalid", error=f"test does not compile: {type(e).__name__}: {e}")
    names = code_names(compiled)
    return Prepared(kind, compiled, n_methods, tuple(classes), names,
                    uses_unittest=kind == "unittest" or reaches_unittest(names))


def reaches_unittest(names: frozenset[str]) -> bool:
    """Whether code looking up ``names`` can get hold of unittest: it names unittest, an ``assert*``
    method, or a way to any module or object (``REACHES_UNITTEST``)."""
    return bool(names & REACHES_UNITTEST) or any(name.startswith("assert") for name in names)


@lru_cache(maxsize=1 << 12)
def behaviour_key(source: str) -> str:
    """What two Python programs share when they are bound to behave alike: their syntax tree and the
    lines of every node (a digest of them). Comments, spacing within a line and the spelling of
    literals may differ; a moved line may not (tracebacks and frames see line numbers). A program
    that does not parse is keyed by its text. The executor runs one program per key (LLM samples
    often differ in comments only); kept for the last programs seen, since rounds run them again."""
    try:
        tree = astparse.parse(source)
        lines = [(getattr(node, "lineno", 0), getattr(node, "end_lineno", 0)) for node in ast.walk(tree)]
        return "tree:" + hashlib.sha256(f"{ast.dump(tree)}\n{lines}".encode()).hexdigest()
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # deep nesting overflows the dump too
        return "text:" + source  # never equal to a tree's key, whatever the text


def code_names(code: Any) -> frozenset[str]:
    """Names a code object (and the code nested in it) looks up as globals, builtins or attributes."""
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= code_names(const)
    return frozenset(names)


def prepare(spec: TestSpec) -> Prepared:
    if isinstance(spec, CodeTest):
        return prepare_code_test(spec.code)
    if isinstance(spec, StdioTest):
        return Prepared("stdio", spec=spec)
    if isinstance(spec, CallTest):
        return Prepared("call", spec=spec)
    raise TypeError(f"not a test spec: {spec!r}")


def compile_candidate(source: str) -> tuple[Any, str]:
    """(code object, "") or (None, error message) for a candidate that is not valid Python. Compiled as
    Python would run it: ``dont_inherit``, or this module's ``from __future__ import annotations`` would
    postpone the candidate's annotations (an undefined name in one would load instead of failing)."""
    try:
        return compile(source, CANDIDATE_FILENAME, "exec", dont_inherit=True), ""
    except (SyntaxError, ValueError, OverflowError, MemoryError, RecursionError) as e:
        return None, f"{type(e).__name__}: {e}"
