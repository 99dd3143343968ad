"""What the test generator is asked: CodeRM-8B's own format, a generic unittest prompt, or CodeT's assert prompt.

A ``PromptRequest`` is backend-neutral: ``text`` is either the user message of a chat (every
backend sends ``messages()``, one user turn and no system turn, through the model's chat template
with the generation prompt on) or raw completion text. ``completion_prefix`` is glued back in
front of the completion before extraction (the CodeT prompt ends in ``assert``, so the model
continues an assert statement).

The ``coderm-8b`` style is the interface CodeRM-8B was trained and evaluated with, read from the
authors' repository RUCKBReasoning/CodeRM (commit 3be634c): ``README.md`` ("Prompt Format"),
``data/benchmark/input_humaneval+_ut.jsonl`` and ``data/benchmark/input_mbpp+_ut.jsonl`` (one user
message per problem), ``preprocess/extract_unit_test.py`` (what is taken from a reply), and the
inference script as carried by zb1439/coderm_reproduce_code ``inference/inference_mp.py`` and
``inference/config.json`` (``tokenizer.apply_chat_template(messages)`` on that one user message, no
system message; n=100, temperature 0.8, top_p 0.95, max_tokens 2048). Two quirks of the authors'
run are not reproduced: their script leaves ``add_generation_prompt`` off, so the model writes the
assistant header itself (here the template adds it, as in training), and their question text for
docstrings quoted with ``'''`` is garbled (HumanEval/71 starts "iangle_area(a, b, c): '''").
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
from executor import astparse

# The coderm-8b format, sentence for sentence as in the authors' benchmark inputs.
CODERM_8B_INSTRUCTION = (
    "Below is a question and it's corresponding code answer. Please write test cases to check the correctness "
    "of the code answer. You need to use the unittest library in Python and create a test class for testing."
)
CODERM_8B_QUESTION = "### question"
CODERM_8B_CODE = "### code solution"
CODERM_8B_CLOSING = ("Please add detailed comments to the test cases you write. "
                     "You do not need to test the function's ability to throw exceptions.")
EXAMPLE_START = (">>>", "assert ")  # a docstring line that starts the examples (HumanEval doctest, MBPP assert)

# The generic style: a paraphrase of the same request for models not trained on CodeRM's wording.
UNITTEST_INSTRUCTION = (
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

    def messages(self) -> list[dict]:
        """The chat every backend sends: one user turn, no system turn (as CodeRM-8B was run)."""
        return [{"role": "user", "content": self.text}]


def normalized_ast(code: str) -> str | None:
    """A formatting- and comment-insensitive fingerprint of ``code`` (None if it does not parse)."""
    try:
        tree = astparse.parse(code)
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


def _statement(text: str) -> str:
    """A problem statement as CodeRM renders it: the description on one line, then the examples
    (from the first ``>>>`` or ``assert`` line on) one per line, as the docstring has them."""
    lines = [line.strip() for line in text.strip().splitlines()]
    start = next((i for i, line in enumerate(lines) if line.startswith(EXAMPLE_START)), len(lines))
    description = " ".join(line for line in lines[:start] if line)
    examples = "\n".join(lines[start:]).strip()
    return "\n".join(part for part in (description, examples) if part)


def coderm_8b_question(prompt: str, entry_point: str | None) -> str:
    """The ``### question`` of a HumanEval/MBPP-style prompt.

    A prompt that defines the entry point becomes "Write a function named `f`." and its docstring;
    a bare docstring (MBPP+) or prose is the statement alone.
    """
    try:
        tree = astparse.parse(prompt)
    except (SyntaxError, ValueError):
        return _statement(prompt)
    function = next((node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and node.name == entry_point), None)
    if function is None:
        return _statement(ast.get_docstring(tree) or prompt)
    statement = _statement(ast.get_docstring(function) or "")
    named = f"Write a function named `{entry_point}`."
    if not statement or statement.startswith(EXAMPLE_START):
        return "\n".join(part for part in (named, statement) if part)
    return f"{named} {statement}"


def coderm_8b_prompt(question: str, code: str) -> str:
    """CodeRM-8B's user message: instruction, question, the code unfenced, closing sentence."""
    return (f"{CODERM_8B_INSTRUCTION}\n\n{CODERM_8B_QUESTION}\n{question}\n\n"
            f"{CODERM_8B_CODE}\n{code.strip()}\n\n{CODERM_8B_CLOSING}\n")


def unittest_prompt(question: str, solution: str | None) -> str:
    """The generic request for a unittest class (the solution section is left out when none is shown)."""
    parts = [UNITTEST_INSTRUCTION, "### question\n" + question.strip() + "\n"]
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
        return PromptRequest(problem["task_id"], codet_prompt(problem["prompt"], problem["entry_point"]),
                             config.use_chat, "assert")
    shown = choose_candidate(problem, config.show_candidate, config.seed)
    if config.prompt == "coderm-8b":  # the format always has a code section: the prompt stands in for a candidate
        text = coderm_8b_prompt(coderm_8b_question(problem["prompt"], problem.get("entry_point")),
                                problem["prompt"] if shown is None else shown)
    else:
        text = unittest_prompt(problem["prompt"], shown)
    return PromptRequest(problem["task_id"], text, config.use_chat)


def render(request: PromptRequest, tokenizer) -> str:
    """The exact text a local model sees: chat template with the generation prompt, when the tokenizer has one."""
    if request.chat and getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(request.messages(), tokenize=False, add_generation_prompt=True)
    return request.text


def encode(request: PromptRequest, tokenizer) -> list[int]:
    """Token ids of the rendered prompt; a chat template already carries its special tokens."""
    templated = request.chat and bool(getattr(tokenizer, "chat_template", None))
    return list(tokenizer(render(request, tokenizer), add_special_tokens=not templated)["input_ids"])
