"""``ast.parse`` that threads can share.

CPython before 3.11.8 keeps the AST constructor's recursion depth in state the whole interpreter
shares (cpython gh-106905). The constructor runs no Python code of its own, but an allocation in it
can start a garbage collection, whose callbacks and finalizers are Python code where the thread may
hand the GIL over; if the next thread parses too, the first parse fails with ``SystemError: AST
constructor recursion depth mismatch`` for a tree it built correctly. ``coderm serve`` hit it with 4
concurrent clients (CPython 3.11.7), since every reward request parses completions. Every parse of
this project's takes one lock and holds off collection until the tree is built, so it never hands
the GIL over mid-construction, to our threads or anyone's.
"""
from __future__ import annotations

import ast
import gc
import threading
from typing import Any

_LOCK = threading.Lock()


def parse(source: str, filename: str = "<unknown>", mode: str = "exec") -> ast.AST:
    """``ast.parse(source, filename, mode)``, safe to call from any number of threads."""
    with _LOCK:
        collecting = gc.isenabled()
        gc.disable()
        try:
            return ast.parse(source, filename, mode)
        finally:
            if collecting:
                gc.enable()


def literal_eval(text: str) -> Any:
    """``ast.literal_eval`` of a string, parsed with ``parse``."""
    return ast.literal_eval(parse(text.lstrip(" \t"), mode="eval"))
