"""Static analysis of one candidate: parse, normalized-AST key, lint findings.

Shared by the prune stages and the ORM features so both see the same signals.
"""
from __future__ import annotations

import ast
import hashlib
import warnings
from dataclasses import dataclass, field

from pyflakes import checker, messages

from executor import astparse

LINT_CHECKS = ("undefined-name", "missing-entry-point", "no-return")


def parse(code: str) -> ast.Module | None:
    """The module AST, or None when the candidate does not compile (syntax, bad escapes, ...)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = astparse.parse(code)
            compile(tree, "<candidate>", "exec", dont_inherit=True)
        return tree
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


_SKIPPED_FIELDS = {"annotation", "returns", "type_comment", "ctx", "lineno", "col_offset", "end_lineno",
                   "end_col_offset", "kind", "type_ignores"}


DOCUMENTED = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)  # nodes that may have a docstring


def has_docstring(body: list) -> bool:
    return bool(body) and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
        and isinstance(body[0].value.value, str)


def normalized_key(tree: ast.Module) -> str:
    """Digest of the AST with docstrings and annotations dropped and bound names renamed to positional
    ones, so programs differing only in comments, formatting, docstrings or local names share a key.
    Free names (builtins, imports used before binding) keep theirs because their identity matters.
    One read-only walk: the tree is not modified."""
    names: dict[str, str] = {}
    out: list[str] = []

    def local(name: str) -> str:
        return names.setdefault(name, f"v{len(names)}")

    def visit(value) -> None:
        if isinstance(value, list):
            out.append("[")
            for v in value:
                visit(v)
            out.append("]")
        elif isinstance(value, ast.AST):
            out.append(type(value).__name__ + "(")
            for name, child in ast.iter_fields(value):
                if name in _SKIPPED_FIELDS:
                    continue
                if name == "body" and isinstance(value, DOCUMENTED) and has_docstring(child):
                    child = child[1:]
                if isinstance(value, ast.Name) and name == "id" and (isinstance(value.ctx, ast.Store) or child in names):
                    child = local(child)
                elif isinstance(value, ast.arg) and name == "arg":
                    child = local(child)
                visit(child)
            out.append(")")
        else:
            out.append(repr(value))

    visit(tree)
    return hashlib.blake2b("".join(out).encode(), digest_size=16).hexdigest()


@dataclass
class Lint:
    """What the linter found; ``failed`` lists the checks that make the candidate unrunnable."""

    undefined_names: list[str] = field(default_factory=list)
    missing_entry_point: bool = False
    no_return: bool = False
    warnings: int = 0  # other pyflakes messages (unused names, redefinitions, ...)

    def failed(self, checks: tuple[str, ...] = LINT_CHECKS) -> list[str]:
        found = {"undefined-name": bool(self.undefined_names), "missing-entry-point": self.missing_entry_point,
                 "no-return": self.no_return}
        return [c for c in checks if found[c]]


def _cannot_return(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """True when the function never returns a value: no ``return <expr>`` and no ``yield`` in its
    own body (nested functions excluded), e.g. a truncated generation or a body of ``pass``."""
    todo = list(fn.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Return) and node.value is not None:
            return False
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return False
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        todo.extend(ast.iter_child_nodes(node))
    return True


def lint(tree: ast.Module, entry_point: str | None, undefined_names: bool = True) -> Lint:
    """pyflakes as a library call plus entry-point checks (function-level problems only).
    ``undefined_names=False`` skips pyflakes, the costly part, for callers that only need the rest."""
    result = Lint()
    found = checker.Checker(tree, filename="<candidate>").messages if undefined_names else []
    for msg in found:
        if isinstance(msg, (messages.UndefinedName, messages.UndefinedLocal)):
            result.undefined_names.append(str(msg.message_args[0]))
        else:
            result.warnings += 1
    if entry_point:
        defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == entry_point]
        bound = defs or [n for n in ast.walk(tree) if isinstance(n, (ast.Name, ast.alias)) and
                         (getattr(n, "id", None) == entry_point and isinstance(n.ctx, ast.Store) or
                          getattr(n, "asname", None) == entry_point or getattr(n, "name", None) == entry_point)]
        result.missing_entry_point = not bound
        result.no_return = bool(defs) and _cannot_return(defs[-1])
    return result
