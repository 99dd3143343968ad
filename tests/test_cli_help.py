"""Every command's `--help` ends with examples, and every example parses: its options are real
options of the command it runs, with valid values."""
from __future__ import annotations

import argparse
import contextlib
import io
import shlex

import pytest

from coderm.cli import build_parser, main


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path (``()`` for `coderm` itself, ``("difficulty", "train")``...), groups included."""
    paths = [path]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                paths += _commands(sub, (*path, name))
    return paths


COMMANDS = _commands(build_parser())


def _help(path: tuple[str, ...]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_:
        main([*path, "--help"])
    assert exit_.value.code == 0
    return out.getvalue()


def _examples(help_text: str) -> list[list[str]]:
    """The `coderm ...` lines of the examples section, continuations joined, comments dropped."""
    assert "\nexamples:\n" in help_text, "no examples section"
    section = help_text.split("\nexamples:\n", 1)[1].replace("\\\n", " ")
    return [shlex.split(line, comments=True) for line in section.splitlines() if line.strip().startswith("coderm ")]


def test_every_command_is_covered():
    assert {p[0] for p in COMMANDS if p} >= {"score", "eval", "execute", "convert", "generate-tests", "difficulty", "orm",
                                        "pareto", "serve"}
    assert ("difficulty", "predict") in COMMANDS and ("orm", "train") in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "coderm")
def test_help_shows_examples_of_the_command_that_parse(path):
    examples = _examples(_help(path))
    assert any(tuple(e[1:1 + len(path)]) == path for e in examples), f"no example runs `coderm {' '.join(path)}`"
    parser = build_parser()
    for example in examples:
        errors = io.StringIO()
        with contextlib.redirect_stderr(errors):
            try:
                parser.parse_args(example[1:])
            except SystemExit:
                pytest.fail(f"`{shlex.join(example)}` does not parse: {errors.getvalue().strip().splitlines()[-1]}")
