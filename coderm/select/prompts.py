"""What S* asks its model, and strict readers of the replies.

Four questions (S*, Li et al. 2025): write test inputs for a problem; write inputs on which two given
programs may differ; say which of two outputs on an input is right; revise a program that failed public
tests, given the failures. Replies are model text, so they are only ever parsed: call inputs are read
with ``ast`` as literal arguments of the entry point (``synth.literal_calls``), stdin inputs are the
bodies of fenced blocks, a verdict is the last ``VERDICT: A|B`` line, a revision is the program in the
reply's code block, which runs in the sandbox like every candidate, never in this process.
"""
from __future__ import annotations

import re
from coderm.extract import fenced_blocks
from coderm.select.synth import literal_calls
from executor.specs import canonical_json

MAX_REPLY_CHARS = 50_000  # of a reply parsed for inputs (bigger ones are cut: parsing stays cheap)
MAX_INPUT_CHARS = 10_000  # of one stdin input a model writes
SHOWN_CHARS = 2_000  # of an output or an input shown in a prompt
STDIN_TAGS = frozenset({"", "input", "in", "stdin", "text", "txt", "plaintext"})
_VERDICT = re.compile(r"VERDICT\s*:\s*\**\s*\(?([AB])\b", re.I)


def _statement(problem: dict) -> str:
    return "### problem\n" + problem["prompt"].strip() + "\n"


def _program(label: str, code: str) -> str:
    return f"### {label}\n```python\n{code.strip()}\n```\n"


def _input_format(problem: dict, n: int) -> str:
    if problem.get("entry_point"):
        f = problem["entry_point"]
        return (f"Write {n} inputs, each as one call of `{f}` with literal Python arguments (numbers, strings, "
                f"lists, dicts), e.g. `{f}(3, [1, 2])`, one call per line, all in one ```python block. "
                "Write only the calls: no expected outputs, no other code.")
    return (f"Write {n} inputs, each exactly as the program reads it from standard input, each in its own "
            "```input block. Write only the inputs: no expected outputs.")


def inputs_prompt(problem: dict, n: int) -> str:
    """Ask for ``n`` test inputs of the problem, valid and varied, edge cases included."""
    return (_statement(problem) + "\nWrite test inputs for this problem: valid inputs that cover its edge "
            "cases and typical cases, small enough to run in a second.\n" + _input_format(problem, n))


def distinguishing_prompt(problem: dict, code_a: str, code_b: str, n: int) -> str:
    """Ask for ``n`` inputs on which one of the two programs may be wrong and the other right."""
    return (_statement(problem) + "\nTwo programs for it agree on the examples but are not the same.\n"
            + _program("program A", code_a) + _program("program B", code_b)
            + "\nWrite valid inputs of the problem on which one program may give a wrong answer and the other "
            "the right one.\n" + _input_format(problem, n))


def judge_prompt(problem: dict, given: str, code_a: str, out_a: str, code_b: str, out_b: str) -> str:
    """Ask which program's output on ``given`` is right; the answer is read from ``VERDICT: A|B``."""
    return (_statement(problem) + "\n### input\n" + given[:SHOWN_CHARS] + "\n\n"
            + _program("program A", code_a) + f"Its output:\n```\n{out_a[:SHOWN_CHARS]}\n```\n\n"
            + _program("program B", code_b) + f"Its output:\n```\n{out_b[:SHOWN_CHARS]}\n```\n\n"
            "Which output is the correct one for this input? Reason about the problem step by step, then end "
            "with one line `VERDICT: A` or `VERDICT: B`.")


def debug_prompt(problem: dict, code: str, feedback: list[str]) -> str:
    """Ask for a corrected program, given the public tests it failed."""
    lines = "\n".join(f"- {line}" for line in feedback)
    return (_statement(problem) + "\n" + _program("your program", code)
            + f"\nIt fails public tests of the problem:\n{lines}\n\nFind the bug and write the whole corrected "
            "program in one ```python block.")


def parse_inputs(reply: str | None, problem: dict, n: int) -> list[dict]:
    """Up to ``n`` distinct record-only tests read from a reply: call tests from literal calls of the entry
    point, stdio tests from fenced input blocks; anything else in the reply is ignored."""
    if not reply:
        return []
    reply = reply[:MAX_REPLY_CHARS]
    blocks = fenced_blocks(reply)
    tests: dict[str, dict] = {}
    if problem.get("entry_point"):
        for code in [body for _, body in blocks] or [reply]:
            for args, kwargs in literal_calls(code, problem["entry_point"]):
                test = {"type": "call", "args": args, **({"kwargs": kwargs} if kwargs else {})}
                tests.setdefault(canonical_json(test), test)
    else:
        for lang, body in blocks:
            if lang in STDIN_TAGS and body.strip() and len(body) <= MAX_INPUT_CHARS:
                test = {"type": "stdio", "input": body if body.endswith("\n") else body + "\n"}
                tests.setdefault(canonical_json(test), test)
    return list(tests.values())[:n]


def parse_verdict(reply: str | None) -> str | None:
    """``"A"`` or ``"B"`` from the last ``VERDICT:`` line of a reply, None when there is none."""
    found = _VERDICT.findall(reply or "")
    return found[-1].upper() if found else None


def call_text(entry_point: str | None, args: list, kwargs: dict) -> str:
    """A call as Python writes it: ``f(1, [2], k='x')``."""
    return f"{entry_point}({', '.join([repr(a) for a in args] + [f'{k}={v!r}' for k, v in kwargs.items()])})"


def given_text(test: dict, entry_point: str | None) -> str:
    """An input as a prompt shows it: the stdin text, or the call."""
    return test["input"] if test["type"] == "stdio" else call_text(entry_point, test["args"], test.get("kwargs", {}))
