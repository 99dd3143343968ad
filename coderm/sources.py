"""LLM-free test sources: examples already written in the problem statement.

- Function problems: doctest examples (``>>> f(x)`` then the expected value) and example
  lines such as ``f(x) == y`` / ``f(x) ➞ y`` / ``f(x) => y`` become ``assert f(x) == y``, kept
  only when the expected value is a Python literal (printed output, exceptions and prose are
  skipped: they do not say what the function returns).
  ``Input: a = 1, b = [2]`` / ``Output: 3`` pairs become ``assert f(a=1, b=[2]) == 3``; for
  LeetCode-style problems (``entry_point`` "Solution", ``meta.func_name``) the call is
  ``Solution().func_name(...)``.
- Stdin/stdout problems: "Example/Sample Input ... Output ..." blocks become stdio tests.

Measured on HumanEval (164 prompts): 147 problems get >= 1 test, 413 tests, of which the
canonical solution passes 407 (the 6 others are wrong docstring examples: HumanEval/47, 116,
130, 148). On the 31 CodeContests statements every problem gets its examples; in 25 they are
verbatim among the dataset's tests (the 6 others accept any valid answer).
"""
from __future__ import annotations

import ast
import re

from executor import astparse

_STOP = re.compile(r'^\s*("""|\'\'\'|>>>)')
_ARROW = re.compile(r"^\s*#?\s*(?:==>|=>|==|➞|->|→|=|should return|returns?)\s*(.+?)\s*[.,;]?\s*$")
_JSON_WORDS = {"true": True, "false": False, "null": None}
_INPUT_LINE = re.compile(r"^\s*Input\s*:\s*(\S.*)$")
_OUTPUT_LINE = re.compile(r"^\s*Output\s*:\s*(\S.*)$")


def mined_tests(problem: dict) -> list:
    """Tests mined from ``problem["prompt"]``: asserts for function problems (``entry_point``
    set), stdio tests for stdin/stdout problems. Duplicates are dropped, order kept."""
    prompt = problem.get("prompt") or ""
    entry_point = problem.get("entry_point")
    method = (problem.get("meta") or {}).get("func_name")
    if entry_point == "Solution" and method:
        tests = doctest_asserts(prompt, None, callee=f"Solution().{method}")
    elif entry_point:
        tests = doctest_asserts(prompt, entry_point)
    else:
        tests = statement_examples(prompt)
    return [test for k, test in enumerate(tests) if test not in tests[:k]]  # tests may be dicts: not hashable


def _literal(text: str):
    """``(True, value)`` when ``text`` is a Python literal, else ``(False, None)``."""
    text = text.strip()
    if text in _JSON_WORDS:  # "is_simple_power(1, 4) => true"
        return True, _JSON_WORDS[text]
    try:
        return True, astparse.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


def _assert(expr: str, value) -> str:
    return f"assert {expr} is None" if value is None else f"assert {expr} == {value!r}"


def doctest_asserts(prompt: str, entry_point: str | None = None, callee: str | None = None) -> list[str]:
    """Asserts from ``>>>`` examples and, when ``entry_point`` is given, from example lines
    that call it with literal arguments (``f(1, 2) == 3``, ``f("a") ➞ True``) and from
    ``Input:``/``Output:`` pairs; those call ``callee`` (default: ``entry_point``)."""
    callee = callee or entry_point
    lines = prompt.splitlines()
    tests: list[str] = []
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if stripped.startswith(">>>"):
            expr_lines = [stripped[3:].strip()]
            i += 1
            while i < len(lines) and lines[i].strip().startswith("..."):
                expr_lines.append(lines[i].strip()[3:].strip())
                i += 1
            output = []
            while i + len(output) < len(lines) and lines[i + len(output)].strip() and not _STOP.match(lines[i + len(output)]):
                output.append(lines[i + len(output)].strip())
            test, used = _doctest_assert(" ".join(expr_lines), output)
            if test is None and entry_point:  # ">>> f(x) == y" with the True left out
                test = _example_line(" ".join(expr_lines), entry_point)
            if test:
                tests.append(test)
            i += used  # lines after the expected value (prose without a blank line) are scanned again
            continue
        test = _example_line(stripped, entry_point) if entry_point else None
        if callee and test is None and i + 1 < len(lines):
            test = _input_output(stripped, lines[i + 1], callee)
        if test:
            tests.append(test)
        i += 1
    return tests


def _doctest_assert(expr: str, output: list[str]) -> tuple[str | None, int]:
    """The assert for one ``>>>`` example and how many output lines it consumed.

    The expected value is the shortest run of output lines that parses as a literal, so prose
    that follows without a blank line is not swallowed."""
    try:
        node = astparse.parse(expr, mode="eval").body
    except SyntaxError:
        return None, 0
    if "print(" in expr or (output and output[0].startswith("Traceback")):
        return None, len(output)
    if not output:  # doctest prints nothing for a None result
        return (_assert(ast.unparse(node), None) if isinstance(node, ast.Call) else None), 0
    for k in range(1, len(output) + 1):
        ok, value = _literal("\n".join(output[:k]))
        if ok:
            return _assert(ast.unparse(node), value), k
    return None, 0


def _example_line(line: str, entry_point: str) -> str | None:
    start = line.find(entry_point + "(")
    if start < 0 or (start > 0 and (line[start - 1].isalnum() or line[start - 1] in "_.")):
        return None
    end = _call_end(line, start + len(entry_point))
    if end is None:
        return None
    match = _ARROW.match(line[end:])
    return _call_assert(line[start:end], match.group(1)) if match else None


def _input_output(line: str, next_line: str, callee: str) -> str | None:
    """``Input: arr = [1, 2], k = 1`` followed by ``Output: [2]`` -> ``assert f(arr=[1, 2], k=1) == [2]``."""
    given, result = _INPUT_LINE.match(line), _OUTPUT_LINE.match(next_line)
    return _call_assert(f"{callee}({given.group(1)})", result.group(1)) if given and result else None


def _call_end(line: str, open_at: int) -> int | None:
    """Index just past the parenthesis closing the one at ``open_at`` (quotes respected)."""
    depth, quote = 0, None
    for k in range(open_at, len(line)):
        ch = line[k]
        if quote:
            if ch == quote and line[k - 1] != "\\":
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return k + 1
    return None


def _call_assert(call: str, expected: str) -> str | None:
    """``assert call == expected`` when ``expected`` is a literal and so is every argument of the
    call (``is_happy(a)`` names an undefined ``a``); else None."""
    ok, value = _literal(expected)
    try:
        node = astparse.parse(call, mode="eval").body
        if not ok or not isinstance(node, ast.Call):
            return None
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            ast.literal_eval(arg)
    except (ValueError, SyntaxError, TypeError):
        return None
    return _assert(ast.unparse(node), value)


_EXAMPLES_HEADING = re.compile(r"^\s*(?:examples?|samples?|sample tests?|sample test cases?)\s*:?\s*$", re.I)
_INPUT = re.compile(r"^\s*(?:sample\s*|example\s*)?input\s*(?:#?\s*\d+)?\s*:?\s*(.*)$", re.I)
_OUTPUT = re.compile(r"^\s*(?:sample\s*|example\s*)?output\s*(?:#?\s*\d+)?\s*:?\s*(.*)$", re.I)
_SECTION_END = re.compile(r"^\s*(?:notes?|explanations?|hints?|constraints|scoring|subtasks?)\b", re.I)


def statement_examples(statement: str) -> list[dict]:
    """Stdio tests from the example section of a CodeContests/APPS-style statement."""
    lines = statement.splitlines()
    start = next((k + 1 for k, line in enumerate(lines) if _EXAMPLES_HEADING.match(line)), None)
    if start is None:  # no heading: the first "Sample Input" starts the examples
        start = next((k for k, line in enumerate(lines) if re.match(r"^\s*sample\s+input", line, re.I)), None)
    if start is None:
        return []
    tests: list[dict] = []
    block: list[str] | None = None
    kind = None
    pending_input: str | None = None

    def close() -> None:
        nonlocal pending_input
        if block is None:
            return
        text = _block_text(block)
        if kind == "input":
            pending_input = text
        elif pending_input is not None and text:
            tests.append({"type": "stdio", "input": pending_input, "output": text})
            pending_input = None

    for line in lines[start:]:
        header_in, header_out = _INPUT.match(line), _OUTPUT.match(line)
        if header_in and _is_header(header_in.group(1)):
            close()
            kind, block = "input", [header_in.group(1)] if header_in.group(1).strip() else []
        elif header_out and _is_header(header_out.group(1)):
            close()
            kind, block = "output", [header_out.group(1)] if header_out.group(1).strip() else []
        elif _SECTION_END.match(line):
            close()
            kind, block = None, None
        elif block is not None:
            block.append(line)
    close()
    return tests


def _is_header(rest: str) -> bool:
    # "Input: 3 4" keeps data on the header line; prose like "Input format is ..." is no header
    return len(rest.split()) <= 12 and not re.match(r"^(?:the|format|for|each|contains)\b", rest.strip(), re.I)


def _block_text(block: list[str]) -> str:
    """The block's lines, right-stripped, without the blank lines around them; "" when all are blank."""
    text = "".join(line.rstrip() + "\n" for line in block).strip("\n")
    return text + "\n" if text else ""
