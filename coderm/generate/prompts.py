"""What the test generator is asked: CodeRM's unittest prompt or CodeT's assert prompt.

A ``PromptRequest`` is backend-neutral: ``text`` is either the user message of a chat (the
backend applies the model's chat template with the generation prompt on) or raw completion
text. ``completion_prefix`` is glued back in front of the completion before extraction (the
CodeT prompt ends in ``assert``, so the model continues an assert statement).
"""
from __future__ import annotations

import ast
import hashlib
import json
import random
from collections import Counter
from dataclasses import dataclass

from coderm.analysis import DOCUMENTED, has_docstring
from coderm.generate.config import GeneratorConfig

CODERM_INSTRUCTION = (
    "Below is a programming question and one code solution for it. Write unit tests that check "
    "whether the solution is correct.\n"
    "Use Python's unittest library: create one test class deriving from unittest.TestCase, with one "
    "test method per test case, and explain each test case in a comment. Call the function under "
    "test directly; do not redefine it. Do not write tests that expect an exception to be raised.\n"
)


@dataclass(frozen=True)
class PromptRequest:
    """One prompt for one problem; ``key`` identifies it in caches and provenance."""

    task_id: str
    text: str
    chat: bool
    completion_prefix: str = ""

    @property
    def key(self) -> str:
        payload = json.dumps([self.text, self.chat, self.completion_prefix])
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def normalized_ast(code: str) -> str | None:
    """A formatting- and comment-insensitive fingerprint of ``code`` (None if it does not parse)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, DOCUMENTED) and has_docstring(node.body):
            node.body = node.body[1:] or [ast.Pass()]
    return ast.dump(tree, annotate_fields=False)


def choose_candidate(problem: dict, how: str, seed: int = 0) -> str | None:
    """The candidate shown to the generator: first, most common by normalized AST, seeded random, or none."""
    candidates = [c for c in problem.get("candidates") or [] if isinstance(c, str) and c.strip()]
    if how == "none" or not candidates:
        return None
    if how == "first":
        return candidates[0]
    if how == "random":
        return random.Random(f"{seed}:{problem['task_id']}").choice(candidates)
    keys = [normalized_ast(c) for c in candidates]
    counts = Counter(k for k in keys if k is not None)
    if not counts:
        return candidates[0]
    best = max(counts.values())
    return next(c for c, k in zip(candidates, keys) if k is not None and counts[k] == best)


def coderm_prompt(question: str, solution: str | None) -> str:
    """CodeRM-style request for a unittest class (the solution section is left out when none is shown)."""
    parts = [CODERM_INSTRUCTION, "### question\n" + question.strip() + "\n"]
    if solution is not None:
        parts.append("### code solution\n```python\n" + solution.strip() + "\n```\n")
    parts.append("### unit tests\nWrite the test class in one ```python code block.")
    return "\n".join(parts)


def codet_prompt(question: str, entry_point: str) -> str:
    """CodeT's completion prompt: the signature and docstring, a stub body, then a started assert."""
    return f"{question.rstrip()}\n    pass\n\n# check the correctness of {entry_point}\nassert"


def build_request(problem: dict, config: GeneratorConfig) -> PromptRequest:
    """The prompt for one contract problem under ``config``."""
    if config.prompt == "codet":
        text, prefix = codet_prompt(problem["prompt"], problem["entry_point"]), "assert"
    else:
        shown = choose_candidate(problem, config.show_candidate, config.seed)
        text, prefix = coderm_prompt(problem["prompt"], shown), ""
    return PromptRequest(problem["task_id"], text, config.use_chat, prefix)


def render(request: PromptRequest, tokenizer) -> str:
    """The exact text a local model sees: chat template with the generation prompt, when the tokenizer has one."""
    if request.chat and getattr(tokenizer, "chat_template", None):
        messages = [{"role": "user", "content": request.text}]
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return request.text


def encode(request: PromptRequest, tokenizer) -> list[int]:
    """Token ids of the rendered prompt; a chat template already carries its special tokens."""
    templated = request.chat and bool(getattr(tokenizer, "chat_template", None))
    return list(tokenizer(render(request, tokenizer), add_special_tokens=not templated)["input_ids"])
