"""Dataset loaders into the problems contract (DESIGN.md): each yields one problem dict at a time.

    from coderm import loaders
    for problem in loaders.load("humaneval", inputs="HumanEval.jsonl.gz"):
        ...

``inputs`` is a local JSONL(.gz) path (or several), or a Hugging Face Hub name; each loader's
docstring lists its options.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator

from coderm.loaders.codet import codet
from coderm.loaders.contests import apps, codecontests
from coderm.loaders.evalplus import humanevalplus, mbppplus
from coderm.loaders.humaneval import humaneval, mbpp
from coderm.loaders.ldb import ldb
from coderm.loaders.livecodebench import livecodebench
from coderm.loaders.records import LoaderError
from coderm.loaders.stdio import stdio

LOADERS: dict[str, Callable[..., Iterator[dict]]] = {loader.__name__: loader for loader in (
    humaneval, humanevalplus, mbppplus, mbpp, codet, ldb, stdio, livecodebench, apps, codecontests)}
NAMES = tuple(LOADERS)

__all__ = ["LOADERS", "NAMES", "LoaderError", "load", "options"]


def options(name: str) -> list[str]:
    """The keyword arguments loader ``name`` accepts."""
    return list(inspect.signature(_get(name)).parameters)


def load(name: str, **paths_and_options) -> Iterator[dict]:
    """Problems of dataset ``name``; unknown names or options raise LoaderError."""
    loader = _get(name)
    unknown = sorted(set(paths_and_options) - set(options(name)))
    if unknown:
        raise LoaderError(f"loader {name!r} has no option(s) {', '.join(unknown)}; it takes {', '.join(options(name))}")
    try:
        return loader(**paths_and_options)
    except TypeError as e:  # a required path is missing
        raise LoaderError(f"loader {name!r}: {e}") from None


def _get(name: str) -> Callable[..., Iterator[dict]]:
    if name not in LOADERS:
        raise LoaderError(f"unknown dataset {name!r}; known: {', '.join(NAMES)}")
    return LOADERS[name]
