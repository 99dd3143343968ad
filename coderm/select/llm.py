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
        self.cache_dir = cache_dir
        self.disk: GenerationCache | None = None  # opened on the first question: a run that asks nothing writes nothing
        self.memory: dict[str, str] = {}
        self.total: Counter = Counter()  # over every question asked of this model

    def ask(self, task_id: str, prompts: list[str], kind: str, tally: Counter) -> list[str | None]:
        """The answer to each prompt (None when the backend failed on it: no answer is kept, so it is asked
        again next time), in order; ``tally[kind]`` grows by the prompts sent, ``tally["cached"]`` by those
        answered without a call, ``tally["failed"]`` by those sent that got no answer."""
        if self.cache_dir and self.disk is None:
            self.disk = GenerationCache(self.cache_dir)
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
        failed = 0
        if todo:
            for key, result in zip(todo, self.backend.generate(list(todo.values()))):
                if result.error is None and result.completions:
                    self.memory[key] = result.completions[0].text
                    if self.disk:
                        self.disk.put(key, result.completions[:1])
                else:
                    failed += 1
        sent = {"cached": len(prompts) - len(todo), kind: len(todo), "failed": failed}
        for counter in (tally, self.total):
            counter.update({name: n for name, n in sent.items() if n})
        return [self.memory.get(key) for key in keys]

    def summary(self) -> str:
        """The calls made, by kind, for a run's last words."""
        sent = {kind: n for kind, n in sorted(self.total.items()) if kind not in ("cached", "failed")}
        kinds = ", ".join(f"{kind} {n}" for kind, n in sent.items()) or "none"
        failed = f", {self.total['failed']} failed" if self.total["failed"] else ""
        return f"{sum(sent.values())} ({kinds}; answered from the cache {self.total['cached']}{failed})"
