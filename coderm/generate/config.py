"""The `generator:` section of a config, validated once so backends can trust their inputs."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

BACKENDS = ("vllm", "hf", "openai")
PROMPT_STYLES = ("coderm-8b", "unittest", "codet")
RENAMED_STYLES = {"coderm": "unittest"}  # the generic unittest prompt's old name, so existing configs keep working
CANDIDATE_CHOICES = ("first", "common", "random", "none")


class GeneratorError(Exception):
    """A user-facing problem with the generator setup (missing package, bad model path, bad config)."""


@dataclass(frozen=True)
class GeneratorConfig:
    """Everything that decides what the generator is asked and how it samples.

    ``prompt`` is ``coderm-8b`` (the format CodeRM-8B was trained on), ``unittest`` (a generic
    request for a unittest class, for other chat models; ``coderm`` is its old name) or ``codet``
    (an assert completion). ``chat`` is ``"auto"`` (the unittest styles through the chat template,
    the CodeT prompt as raw completion text), ``True`` or ``False``. ``split`` turns a unittest class into one test per
    method and an assert block into one test per assert (finer-grained columns).
    """

    backend: str = "vllm"
    model: str = "KAKA22/CodeRM-8B"
    n: int = 100
    temperature: float = 0.8
    top_p: float = 0.95
    max_tokens: int = 2048
    seed: int = 0
    prompt: str = "coderm-8b"
    show_candidate: str = "first"
    chat: Any = "auto"
    split: bool = False
    # hf
    device: str = "auto"
    dtype: str = "auto"
    batch_size: int = 8
    # vllm
    tensor_parallel_size: int = 1
    enable_prefix_caching: bool = True
    gpu_memory_utilization: float | None = None
    max_model_len: int | None = None
    # openai
    base_url: str = "http://127.0.0.1:8000/v1"
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 8
    timeout: float = 600.0
    max_retries: int = 4
    backoff: float = 1.0

    @classmethod
    def from_dict(cls, data: dict | None) -> "GeneratorConfig":
        """Build from a config section; unknown keys and bad values name the field."""
        data = dict(data or {})
        if data.get("prompt") in RENAMED_STYLES:
            data["prompt"] = RENAMED_STYLES[data["prompt"]]
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise GeneratorError(f"generator: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        for name, value in list(data.items()):
            default = getattr(cls, name)
            if value is None or default is None or isinstance(default, str):
                continue
            try:
                if isinstance(default, bool):
                    if not isinstance(value, bool):
                        raise ValueError
                elif isinstance(default, int):
                    data[name] = int(value)
                elif isinstance(default, float):
                    data[name] = float(value)
            except (TypeError, ValueError):
                raise GeneratorError(f"generator.{name}: expected {type(default).__name__}, got {value!r}") from None
        config = cls(**data)
        config.validate()
        return config

    def validate(self) -> None:
        def check(ok: bool, name: str, why: str) -> None:
            if not ok:
                raise GeneratorError(f"generator.{name}: {why}, got {getattr(self, name)!r}")

        check(self.backend in BACKENDS, "backend", f"must be one of {', '.join(BACKENDS)}")
        check(self.prompt in PROMPT_STYLES, "prompt", f"must be one of {', '.join(PROMPT_STYLES)}")
        check(self.show_candidate in CANDIDATE_CHOICES, "show_candidate", f"must be one of {', '.join(CANDIDATE_CHOICES)}")
        check(self.chat in ("auto", True, False), "chat", "must be auto, true or false")
        check(isinstance(self.model, str) and bool(self.model), "model", "must be a non-empty string")
        check(self.n >= 1, "n", "must be >= 1")
        check(self.temperature >= 0, "temperature", "must be >= 0")
        check(0 < self.top_p <= 1, "top_p", "must be in (0, 1]")
        check(self.max_tokens >= 1, "max_tokens", "must be >= 1")
        check(self.batch_size >= 1, "batch_size", "must be >= 1")
        check(self.concurrency >= 1, "concurrency", "must be >= 1")
        check(self.max_retries >= 0, "max_retries", "must be >= 0")
        check(self.timeout > 0, "timeout", "must be > 0")

    @property
    def use_chat(self) -> bool:
        return self.prompt != "codet" if self.chat == "auto" else bool(self.chat)

    def sampling(self) -> dict:
        """The sampling parameters every backend passes on (vLLM's ``SamplingParams``, the OpenAI body)."""
        return {"n": self.n, "temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_tokens,
                "seed": self.seed}

    def sampling_key(self) -> dict:
        """What, besides the prompt, decides a cached generation."""
        return {"model": self.model, **self.sampling(), "chat": self.use_chat}
