"""Joining prompts with completions into complete programs."""
from __future__ import annotations

import textwrap

from coderm.analysis import parse


def join_body(prompt: str, body: str) -> str:
    """``prompt + body``, re-indenting the body when its own indentation does not fit.

    MBPP's canonical bodies keep their original 1/2-space or tab indentation, which does not
    continue a 4-space docstring; the program is re-indented rather than dropped. When no
    variant compiles the plain concatenation is returned (it will fail visibly when run).
    """
    joined = prompt + body
    if parse(joined) is not None:
        return joined
    lines = [line for line in body.expandtabs(4).splitlines(keepends=True) if not line.lstrip().startswith("#")]
    reindented = prompt + textwrap.indent(textwrap.dedent("".join(lines)), "    ")
    return reindented if parse(reindented) is not None else joined
