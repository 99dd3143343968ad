"""One interface over the generator backends: prompts in, ``n`` completions (or an error) per prompt out.

A backend never raises for one bad prompt (context overflow, a failed request): that prompt gets
an ``error`` and the others keep their completions. Setup problems (package missing, model path
absent) raise ``GeneratorError`` before any work, with a message that says what to do.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from coderm.generate.prompts import PromptRequest


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


def context_overflow(n_prompt_tokens: int, limit: int) -> PromptResult:
    return PromptResult(error=f"context_overflow: prompt has {n_prompt_tokens} tokens, the model takes {limit}")
