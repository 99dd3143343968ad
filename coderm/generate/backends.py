"""One interface over the generator backends: prompts in, ``n`` completions (or an error) per prompt out.

A backend never raises for one bad prompt (context overflow, a failed request): that prompt gets
an ``error`` and the others keep their completions. Setup problems (package missing, model path
absent) raise ``GeneratorError`` before any work, with a message that says what to do.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from coderm.generate.prompts import PromptRequest, encode


@dataclass(frozen=True)
class Completion:
    text: str
    n_tokens: int
    finish_reason: str = "stop"  # "length" when the token limit cut it

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"


@dataclass
class PromptResult:
    """The completions of one prompt; ``error`` is ``"<kind>: <message>"`` when the prompt failed."""

    completions: list[Completion] = field(default_factory=list)
    error: str | None = None

    @property
    def error_kind(self) -> str | None:
        return None if self.error is None else self.error.split(":", 1)[0]


class Backend(Protocol):
    def generate(self, requests: list[PromptRequest]) -> list[PromptResult]:
        """One result per request, in order."""


def encode_fitting(requests: list[PromptRequest], tokenizer, limit: int | None
                   ) -> tuple[list[PromptResult | None], list[tuple[int, list[int]]]]:
    """For a local model: ``(results, todo)``, a context_overflow result for each prompt as long as the
    context ``limit`` (None elsewhere) and ``(index, token ids)`` of the prompts left to generate."""
    results: list[PromptResult | None] = [None] * len(requests)
    todo: list[tuple[int, list[int]]] = []
    for i, request in enumerate(requests):
        ids = encode(request, tokenizer)
        if limit and len(ids) >= limit:
            results[i] = PromptResult(error=f"context_overflow: prompt has {len(ids)} tokens, the model takes {limit}")
        else:
            todo.append((i, ids))
    return results, todo
