"""Pull runnable code out of a model completion (chat text with fenced blocks, or raw continuation).

RL policies answer in many shapes: a chat message with a ```python block (maybe after reasoning
and an earlier draft), several blocks, or a bare continuation of a completion-style prompt. The
reward must score the program the policy meant, so which block and whether to prepend the prompt
are explicit options rather than guesses buried in an adapter. A reply with no fenced block that
is not Python either has no code: it gets that format status instead of running and failing
like a syntax error.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

from executor import astparse
from executor.languages import ALIASES, PYTHON

BLOCK_CHOICES = ("last", "first", "longest", "all")
JOIN_CHOICES = ("auto", "always", "never")

# An opening fence with an optional language tag, the body, and a closing fence (or the end of the
# text, so a completion cut off by max_tokens still yields its code).
_FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+.#-]*)[^\n]*\n(.*?)(?:^[ \t]*```[ \t]*$|\Z)", re.M | re.S)
PYTHON_LANGS = frozenset({"", "python", "py", "python3", "py3"})  # fence tags of Python code (none counts)


@dataclass(frozen=True)
class ExtractConfig:
    """How a completion becomes a program.

    ``block``: which fenced block to take ("all" joins every Python block in order).
    ``join_prompt``: prepend the prompt to the extracted code — "always" for completion-style
    models whose output continues a signature; "auto" does it only when the code does not define
    the entry point itself but the prompt does; "never" for chat models.
    ``require_fence``: when True a completion without a fenced block has no code (format
    discipline); when False the whole text is taken as code if it compiles (prose does not).
    """

    block: str = "last"
    join_prompt: str = "auto"
    require_fence: bool = False

    def __post_init__(self) -> None:
        if self.block not in BLOCK_CHOICES:
            raise ValueError(f"block must be one of {BLOCK_CHOICES}, got {self.block!r}")
        if self.join_prompt not in JOIN_CHOICES:
            raise ValueError(f"join_prompt must be one of {JOIN_CHOICES}, got {self.join_prompt!r}")


def message_text(completion: Any) -> str:
    """The text of a completion: a string, or (TRL/OpenAI conversational form) a list of message
    dicts whose last assistant message counts, or a single message dict."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return _content(completion)
    if isinstance(completion, (list, tuple)):
        messages = [m for m in completion if isinstance(m, dict)]
        if len(messages) != len(completion) or not messages:
            raise TypeError("a conversational completion must be a non-empty list of message dicts")
        assistant = [m for m in messages if m.get("role", "assistant") == "assistant"]
        return _content((assistant or messages)[-1])
    raise TypeError(f"completion must be a string or a list of messages, got {type(completion).__name__}")


def _content(message: dict) -> str:
    content = message.get("content", "")
    if isinstance(content, list):  # multi-part content: keep the text parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if not isinstance(content, str):
        raise TypeError(f"message content must be a string, got {type(content).__name__}")
    return content


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language tag in lower case, body) of every fenced block, in order."""
    return [(m.group(1).lower(), m.group(2)) for m in _FENCE.finditer(text)]


def fence_tags(language: str) -> frozenset[str]:
    """The fence tags of code in ``language`` (a canonical name): its name, its aliases, or none."""
    if language == PYTHON:
        return PYTHON_LANGS
    return frozenset({"", language, *(alias for alias, name in ALIASES.items() if name == language)})


def code_blocks(text: str, language: str = PYTHON) -> list[str]:
    """Bodies of the fenced code blocks tagged as ``language`` (or untagged), in order."""
    tags = fence_tags(language)
    return [body for tag, body in fenced_blocks(text) if tag in tags]


def _defines(code: str, name: str) -> bool:
    return re.search(rf"^\s*(?:async\s+)?(?:def|class)\s+{re.escape(name)}\b|^\s*{re.escape(name)}\s*=", code, re.M) is not None


def extract_code(completion: Any, prompt: str | None = None, entry_point: str | None = None,
                 config: ExtractConfig = ExtractConfig(), language: str = PYTHON) -> str:
    """The program to run for one completion; "" when there is nothing to run. Code in another
    ``language`` (a canonical name) is taken as it is: no prompt joining, and unfenced text runs
    (prose fails to compile) since only Python can be checked here."""
    text = message_text(completion)
    blocks = code_blocks(text, language)
    if blocks:
        if config.block == "all":
            code = "\n\n".join(blocks)
        elif config.block == "first":
            code = blocks[0]
        elif config.block == "longest":
            code = max(blocks, key=len)
        else:
            code = blocks[-1]
    elif config.require_fence:
        return ""
    else:
        code = text
    if not code.strip():
        return ""
    if language != PYTHON:
        return code
    if prompt and _should_join(code, prompt, entry_point, config.join_prompt):
        code = prompt + code
    if not blocks and _parse(code) is None:
        return ""
    return callable_entry(code, entry_point)


def _parse(code: str) -> ast.Module | None:
    try:
        return astparse.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


def callable_entry(code: str, entry_point: str | None) -> str:
    """The program, with a module-level ``entry_point`` added when it defines the function only as
    a method of ``class Solution`` (LeetCode, LiveCodeBench, TACO): the added function calls the
    method on a fresh instance, so call tests, ``check(candidate)`` and asserts all reach it."""
    if not entry_point or not entry_point.isidentifier() or not re.search(r"^class\s+Solution\b", code, re.M):
        return code
    tree = _parse(code)
    if tree is None:
        return code
    top = {t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
           for t in (node.targets if isinstance(node, ast.Assign) else [node.target]) if isinstance(t, ast.Name)}
    top |= {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    solution = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Solution"]
    if entry_point in top or not solution or not any(
            isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == entry_point for n in solution[-1].body):
        return code
    return (f"{code}\n\n\ndef {entry_point}(*args, **kwargs):  # coderm: the entry point is a Solution method\n"
            f"    return Solution().{entry_point}(*args, **kwargs)\n")


def _should_join(code: str, prompt: str, entry_point: str | None, mode: str) -> bool:
    if mode == "never":
        return False
    if mode == "always":
        return True
    return entry_point is not None and not _defines(code, entry_point) and _defines(prompt, entry_point)
