"""From a raw completion to runnable test code, on the AST rather than by regex.

Models wrap tests in prose and code fences, split them over several blocks, copy the function
under test into the test file (which would test the copy instead of the candidate), import it
from a module that does not exist, guard ``unittest.main()`` behind ``__main__``, forget
``import unittest`` and get cut off by the token limit. Each of those is repaired here; what
still does not compile, has no test, or never calls the entry point is dropped with a reason.

Everything CodeRM's own extractor (RUCKBReasoning/CodeRM ``preprocess/extract_unit_test.py``)
takes is taken here too: the test class, its imports (less ``from your_module import f``) and the
tests' direct calls of the function under test, which runs in the candidate's namespace. Beyond
it: several blocks or classes, unfenced or cut-off replies, ``import code_solution`` calls. Where
it is laxer this stays strict, as that is safer: a class with no ``test*`` method (it would run
no test and pass) and tests that never name the entry point are dropped, not kept.
"""
from __future__ import annotations

import ast
import copy
import importlib.util
import re
import sys
from dataclasses import dataclass, field

from coderm.extract import PYTHON_LANGS
from executor import astparse

# Modules a model imports the solution from; they never exist in the sandbox.
PLACEHOLDER_MODULES = frozenset({
    "your_module", "my_module", "solution", "your_solution", "main", "module", "source", "program",
    "candidate", "your_code", "my_solution", "answer",
})
FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:\n[ \t]*```|\Z)", re.S)
CODE_START = re.compile(r"^(import |from \S+ import |class |def |assert |@|if __name__)")


# Why a reply gave no test: no code in it, code that does not parse, no assert or test method, or
# tests that never call the function under test.
DROP_REASONS = ("no_code", "syntax", "no_test", "no_entry_point")


@dataclass
class Extraction:
    """Tests found in one completion; ``drop`` says why there are none."""

    tests: list[str] = field(default_factory=list)
    drop: str | None = None


def code_pieces(text: str) -> tuple[list[str], bool]:
    """Python code blocks of a completion (fenced blocks if any, else the text from its first code
    line), and whether the last block runs to the end of the text (so a token limit may have cut it)."""
    if "```" in text:
        matches = [m for m in FENCE.finditer(text) if m.group(1).lower() in PYTHON_LANGS and m.group(2).strip()]
        open_end = bool(matches) and not matches[-1].group(0).rstrip().endswith("```")
        return [m.group(2) for m in matches], open_end
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if CODE_START.match(line)), None)
    return ([] if start is None else ["\n".join(lines[start:])]), True


SALVAGEABLE = (ast.Assert, ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _longest_prefix(lines: list[str]) -> tuple[list[ast.stmt], int]:
    """Statements of the longest parsable prefix of ``lines`` and how many lines it spans."""
    end = len(lines)
    while end > 0:
        try:
            return astparse.parse("\n".join(lines[:end])).body, end
        except SyntaxError as err:
            end = min(end - 1, max((err.lineno or end) - 1, 0))
    return [], 0


def _salvage(chunk: list[str]) -> list[ast.stmt]:
    """A top-level statement that failed in context: alone, cut to its parsable prefix, or joined onto one
    line (``assert \\n    f(x) == y`` from completion-style models). Only test-shaped statements are kept,
    so stray prose that happens to parse is not."""
    body, _ = _longest_prefix(chunk)
    if not body:
        try:
            body = astparse.parse(" ".join(line.strip() for line in chunk)).body
        except SyntaxError:
            return []
    return [s for s in body if isinstance(s, SALVAGEABLE)]


def parse_code(code: str) -> ast.Module | None:
    """Parse ``code`` as far as it goes, then salvage the top-level statements after the first error.

    A cut-off trailing method or statement is dropped; a broken statement in the middle costs only itself.
    """
    lines = code.splitlines()
    body, end = _longest_prefix(lines)
    chunk: list[str] = []
    for line in lines[end:]:
        if line.strip() and not line[0].isspace():  # a new top-level statement starts
            body += _salvage(chunk) if chunk else []
            chunk = [line]
        else:
            chunk.append(line)
    body += _salvage(chunk) if chunk else []
    return ast.Module(body=body, type_ignores=[]) if body else None


def _is_main_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    names = [n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)]
    consts = [n.value for n in ast.walk(node.test) if isinstance(n, ast.Constant)]
    return names == ["__name__"] and consts == ["__main__"]


def _is_unittest_main(node: ast.stmt) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and ast.unparse(node.value.func) in ("unittest.main", "main"))


def _top(module: str | None) -> str:
    return (module or "").split(".")[0]


def _missing(module: str) -> bool:
    """Neither the standard library nor an installed package: an import of it can only mean the solution."""
    top = _top(module)
    if top in sys.stdlib_module_names:
        return False
    try:
        return importlib.util.find_spec(top) is None  # a top-level lookup on sys.path: nothing is imported
    except (ImportError, ValueError):
        return True


def _solution_aliases(tree: ast.Module, entry_point: str) -> set[str]:
    """Names bound by ``import M [as A]`` that stand for the solution: a placeholder module, or a module that
    does not exist here and through which alone the entry point is called (``import code_solution``, then
    ``code_solution.f(x)``). A real module's attribute of that name (``math.sqrt``) is an oracle and stays,
    and so does any ``M.f`` next to a bare ``f(...)``: rewritten, ``f(x) == M.f(x)`` could not fail."""
    called_through = {n.value.id for n in ast.walk(tree)
                      if isinstance(n, ast.Attribute) and n.attr == entry_point and isinstance(n.value, ast.Name)}
    if any(isinstance(n, ast.Name) and n.id == entry_point for n in ast.walk(tree)):
        called_through = set()
    aliases = set()
    for node in tree.body:
        for alias in node.names if isinstance(node, ast.Import) else []:
            bound = alias.asname or _top(alias.name)
            if _top(alias.name) in PLACEHOLDER_MODULES or (bound in called_through and _missing(alias.name)):
                aliases.add(bound)
    return aliases


def _imports_solution(node: ast.stmt, entry_point: str) -> bool:
    """``from your_module import f`` / ``from solution import *``: the candidate is already in scope."""
    if isinstance(node, ast.ImportFrom):
        names = {a.name for a in node.names}
        return (node.level > 0 or _top(node.module) in PLACEHOLDER_MODULES or entry_point in names
                or ("*" in names and _top(node.module) not in sys.stdlib_module_names))
    return False


def _without_aliases(node: ast.stmt, aliases: set[str]) -> ast.stmt | None:
    """``node`` less the ``import`` names bound to ``aliases`` (None when nothing is left)."""
    if not isinstance(node, ast.Import):
        return node
    kept = [a for a in node.names if (a.asname or _top(a.name)) not in aliases]
    return ast.Import(names=kept) if kept else None


class _UnqualifySolution(ast.NodeTransformer):
    """``solution.f(x)`` -> ``f(x)`` once ``import solution`` is gone."""

    def __init__(self, aliases: set[str]):
        self.aliases = aliases

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.value, ast.Name) and node.value.id in self.aliases:
            return ast.copy_location(ast.Name(id=node.attr, ctx=node.ctx), node)
        return node


def clean(tree: ast.Module, entry_point: str) -> ast.Module:
    """Drop main guards, ``unittest.main()``, solution imports and redefinitions of the entry point; add ``import unittest``."""
    aliases = _solution_aliases(tree, entry_point)
    body = [_without_aliases(node, aliases) for node in tree.body
            if not (_is_main_guard(node) or _is_unittest_main(node) or _imports_solution(node, entry_point)
                    or (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                        and node.name == entry_point))]
    tree = _UnqualifySolution(aliases | PLACEHOLDER_MODULES).visit(
        ast.Module(body=[node for node in body if node is not None], type_ignores=[]))
    uses_unittest = any(isinstance(n, ast.Name) and n.id == "unittest" for n in ast.walk(tree))
    imported = any(isinstance(n, ast.Import) and any(a.name == "unittest" and a.asname is None for a in n.names)
                   for n in tree.body)
    if uses_unittest and not imported:
        tree.body.insert(0, ast.Import(names=[ast.alias(name="unittest")]))
    return ast.fix_missing_locations(tree)


def _test_methods(node: ast.ClassDef) -> list[ast.stmt]:
    return [m for m in node.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and m.name.startswith("test")]


def has_test(tree: ast.AST) -> bool:
    """At least one assert statement or one ``test*`` method in a class."""
    return any(_is_unit(n) for n in ast.walk(tree))


def references(tree: ast.AST, name: str) -> bool:
    return any((isinstance(n, ast.Name) and n.id == name) or (isinstance(n, ast.Attribute) and n.attr == name)
               for n in ast.walk(tree))


def _is_unit(node: ast.stmt) -> bool:
    return isinstance(node, ast.Assert) or (isinstance(node, ast.ClassDef) and bool(_test_methods(node)))


def split_units(tree: ast.Module) -> list[ast.Module]:
    """One module per test method and per top-level assert, each with the shared setup around it."""
    units: list[ast.Module] = []
    for i, node in enumerate(tree.body):
        if not _is_unit(node):
            continue
        if isinstance(node, ast.Assert):
            pieces: list[ast.stmt] = [node]
        else:
            methods = _test_methods(node)
            shared = [m for m in node.body if not any(m is t for t in methods)]
            pieces = [copy.copy(node) for _ in methods]
            for cls, method in zip(pieces, methods):
                cls.body = shared + [method]
        before = [s for s in tree.body[:i] if not _is_unit(s)]
        after = [s for s in tree.body[i + 1:] if not _is_unit(s)]
        units += [ast.Module(body=before + [piece] + after, type_ignores=[]) for piece in pieces]
    return units


def _valid(tree: ast.Module, entry_point: str) -> str | None:
    """Drop reason for a cleaned module, or None when it is a usable test."""
    if not has_test(tree):
        return "no_test"
    if not references(tree, entry_point):
        return "no_entry_point"
    try:
        compile(ast.unparse(tree), "<test>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return "syntax"
    return None


def extract_tests(text: str, entry_point: str, *, prefix: str = "", truncated: bool = False,
                  split: bool = False) -> Extraction:
    """Runnable tests in one completion.

    ``prefix`` is the part of the answer that sat in the prompt (CodeT's ``assert``);
    ``truncated`` (the token limit was hit) drops the last line of a block left open, which may
    look complete but is cut; ``split`` yields one test per test method / assert.
    """
    if not text.strip():
        return Extraction(drop="no_code")
    pieces, open_end = code_pieces(prefix + text)
    if truncated and open_end and pieces:
        pieces[-1] = "\n".join(pieces[-1].splitlines()[:-1])
    if not any(p.strip() for p in pieces):
        return Extraction(drop="no_code")
    trees = [t for t in (parse_code(p) for p in pieces) if t is not None]
    if not trees:
        return Extraction(drop="syntax")
    module = clean(ast.Module(body=[s for t in trees for s in t.body], type_ignores=[]), entry_point)
    reason = _valid(module, entry_point)
    if reason:
        return Extraction(drop=reason)
    units = split_units(module) if split else [module]
    tests = [ast.unparse(u) for u in units if _valid(u, entry_point) is None]
    return Extraction(tests=tests) if tests else Extraction(drop="no_entry_point")
