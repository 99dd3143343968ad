"""The model S* asks, through the generator backends, with every prompt answered once.

Identical prompts recur (the same failing program in several candidates, a rerun, two problems that
share a pair of programs), so answers are kept by the generation cache's key (prompt and sampling
settings): in memory for the run, and on disk when a cache directory is given
(``coderm.generate.cache``). Only prompts sent to the backend count as calls; the tally says how many
of each kind there were, and how many were answered from the cache.
"""
from __future__ import annotations

from collections import Counter

from coderm.generate.backends import Backend
from coderm.generate.cache import GenerationCache, cache_key
from coderm.generate.config import GeneratorConfig
from coderm.generate.prompts import PromptRequest


class SelectModel:
    """Asks ``backend`` (built from ``config``, one completion per prompt) and remembers the answers."""

    def __init__(self, backend: Backend, config: GeneratorConfig, cache_dir: str | None = None) -> None:
        self.backend, self.config = backend, config
        self.sampling = config.sampling_key()
        self.disk = GenerationCache(cache_dir) if cache_dir else None
        self.memory: dict[str, str] = {}

    def ask(self, task_id: str, prompts: list[str], kind: str, tally: Counter) -> list[str | None]:
        """The answer to each prompt (None when the backend failed on it), in order; ``tally[kind]``
        grows by the prompts sent, ``tally["cached"]`` by those answered without a call."""
        requests = [PromptRequest(task_id, text, self.config.use_chat) for text in prompts]
        keys = [cache_key(r, self.sampling) for r in requests]
        todo: dict[str, PromptRequest] = {}
        for key, request in zip(keys, requests):
            if key not in self.memory and key not in todo:
                cached = self.disk.get(key) if self.disk else None
                if cached:
                    self.memory[key] = cached[0].text
                else:
                    todo[key] = request
        tally["cached"] += len(prompts) - len(todo)
        if todo:
            tally[kind] += len(todo)
            for key, result in zip(todo, self.backend.generate(list(todo.values()))):
                if result.error is None and result.completions:
                    self.memory[key] = result.completions[0].text
                    if self.disk:
                        self.disk.put(key, result.completions[:1])
        return [self.memory.get(key) for key in keys]

    def close(self) -> None:
        if self.disk:
            self.disk.close()
