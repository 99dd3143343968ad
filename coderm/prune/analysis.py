"""Static analysis of one candidate: parse, normalized-AST key, lint findings.

Shared by the prune stages and the ORM features so both see the same signals.
"""
from __future__ import annotations

import ast
import hashlib
import warnings
from dataclasses import dataclass, field

from pyflakes import checker, messages

LINT_CHECKS = ("undefined-name", "missing-entry-point", "no-return")


def parse(code: str) -> ast.Module | None:
    """The module AST, or None when the candidate does not compile (syntax, bad escapes, ...)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(code)
            compile(tree, "<candidate>", "exec")
        return tree
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


class _Normalizer(ast.NodeTransformer):
    """Drop docstrings and rename local identifiers to positional names, so that programs
    differing only in comments, formatting, docstrings or local variable names share one key."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def _local(self, name: str) -> str:
        return self.names.setdefault(name, f"v{len(self.names)}")

    def _strip_docstring(self, node: ast.AST) -> None:
        body = getattr(node, "body", None)
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]

    def visit_Module(self, node: ast.Module) -> ast.AST:
        self._strip_docstring(node)
        return self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        self._strip_docstring(node)
        node.returns = None  # annotations do not change behaviour
        return self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        self._strip_docstring(node)
        return self.generic_visit(node)

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.arg = self._local(node.arg)
        node.annotation = None
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        # Names bound in the program (args, assignments) are renamed; free names (builtins, imports
        # used before binding) keep theirs because their identity matters.
        if isinstance(node.ctx, ast.Store) or node.id in self.names:
            node.id = self._local(node.id)
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        node.annotation = ast.Constant(None)
        return self.generic_visit(node)


def normalized_key(tree: ast.Module) -> str:
    """Digest of the normalized AST (the tree is copied, not modified)."""
    copy = ast.parse(ast.unparse(tree))
    dumped = ast.dump(_Normalizer().visit(copy), annotate_fields=False)
    return hashlib.blake2b(dumped.encode(), digest_size=16).hexdigest()


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
