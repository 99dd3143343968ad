"""generate_tests: problems in, extracted and deduplicated tests per task out, with a report.

Cached prompts never reach the backend (the model is not even loaded when everything is
cached); a prompt that fails is counted and logged, and every other problem keeps its tests.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field

from coderm.generate.backends import Backend, PromptResult
from coderm.generate.cache import GenerationCache, cache_key
from coderm.generate.config import GeneratorConfig
from coderm.generate.extract import DROP_REASONS, extract_tests
from coderm.generate.hf_backend import HFBackend
from coderm.generate.openai_backend import OpenAIBackend
from coderm.generate.prompts import build_request, normalized_ast
from coderm.generate.vllm_backend import VLLMBackend

log = logging.getLogger("coderm.generate")


@dataclass(frozen=True)
class Provenance:
    """Where one generated test came from."""

    model: str
    sample_index: int
    prompt_hash: str


@dataclass
class GenerationReport:
    """Throughput and yield of one run; ``drops`` counts by reason the replies that gave no test
    (``DROP_REASONS``) and the prompts that failed or problems that got none (the other reasons)."""

    problems: int = 0
    prompts_generated: int = 0
    prompts_cached: int = 0
    prompts_failed: int = 0
    completions: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    completions_with_tests: int = 0
    tests: int = 0
    duplicates: int = 0
    drops: Counter = field(default_factory=Counter)

    @property
    def prompts_per_s(self) -> float:
        return self.prompts_generated / self.seconds if self.seconds else 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.completion_tokens / self.seconds if self.seconds else 0.0

    @property
    def extraction_yield(self) -> float:
        """Share of completions that gave at least one valid test."""
        return self.completions_with_tests / self.completions if self.completions else 0.0

    @property
    def replies_dropped(self) -> int:
        return sum(self.drops[reason] for reason in DROP_REASONS)

    def summary(self) -> str:
        def counts(reasons: list[str]) -> str:
            return ", ".join(f"{k}={self.drops[k]}" for k in sorted(reasons)) or "none"

        other = [k for k in self.drops if k not in DROP_REASONS and self.drops[k]]
        return (f"{self.problems} problems: {self.prompts_generated} prompts generated, {self.prompts_cached} cached, {self.prompts_failed} failed; "
                f"{self.completions} completions, {self.tests} tests kept ({self.duplicates} duplicates), "
                f"yield {self.extraction_yield:.1%}; {self.prompts_per_s:.2f} prompts/s, "
                f"{self.tokens_per_s:.1f} tokens/s; replies dropped {self.replies_dropped}/{self.completions} "
                f"({counts([k for k in DROP_REASONS if self.drops[k]])}); prompts/problems without tests: {counts(other)}")


class GeneratedTests(dict):
    """``task_id -> [test code]``, plus ``provenance`` (parallel lists) and the run's ``report``."""

    def __init__(self, report: GenerationReport):
        super().__init__()
        self.report = report
        self.provenance: dict[str, list[Provenance]] = {}


def _check_problems(problems: list[dict]) -> None:
    seen = set()
    for k, problem in enumerate(problems):
        for name in ("task_id", "prompt"):
            if not isinstance(problem.get(name), str):
                raise ValueError(f"problem {k}: field {name!r} must be a string")
        if problem["task_id"] in seen:
            raise ValueError(f"problem {k}: duplicate task_id {problem['task_id']!r}")
        seen.add(problem["task_id"])


def make_backend(config: GeneratorConfig) -> Backend:
    """The backend named by ``config.backend``; it loads its heavy packages (torch, vllm) when built."""
    return {"hf": HFBackend, "vllm": VLLMBackend, "openai": OpenAIBackend}[config.backend](config)


def generate_tests(problems: list[dict], generator_config: dict | GeneratorConfig, cache_dir: str | None = None,
                   backend: Backend | None = None) -> GeneratedTests:
    """Generated tests for every problem (``[]`` where none survived).

    ``generator_config`` is the ``generator:`` section of a config. ``backend`` lets a caller
    reuse a loaded model across calls (an RL loop); by default one is built from the config,
    and only when some prompt is not cached.
    """
    config = generator_config if isinstance(generator_config, GeneratorConfig) else GeneratorConfig.from_dict(generator_config)
    _check_problems(problems)
    report = GenerationReport(problems=len(problems))
    out = GeneratedTests(report)
    runnable = []
    for problem in problems:
        out[problem["task_id"]], out.provenance[problem["task_id"]] = [], []
        if isinstance(problem.get("entry_point"), str) and problem["entry_point"]:
            runnable.append(problem)
        else:
            report.drops["no_entry_point_problem"] += 1
            log.warning("%s: no entry_point (stdin/stdout problem); no tests generated", problem["task_id"])
    requests = [build_request(p, config) for p in runnable]
    sampling = config.sampling_key()
    keys = [cache_key(r, sampling) for r in requests]
    cache = GenerationCache(cache_dir) if cache_dir else None
    try:
        results: list[PromptResult | None] = [None] * len(requests)
        if cache:
            for i, key in enumerate(keys):
                cached = cache.get(key)
                if cached is not None:
                    results[i] = PromptResult(cached)
        pending = [i for i, r in enumerate(results) if r is None]
        report.prompts_cached = len(requests) - len(pending)
        if pending:
            backend = backend or make_backend(config)
            start = time.perf_counter()
            fresh = backend.generate([requests[i] for i in pending])
            report.seconds = time.perf_counter() - start
            report.prompts_generated = len(pending)
            for i, result in zip(pending, fresh):
                results[i] = result
                report.completion_tokens += sum(c.n_tokens for c in result.completions)
                if cache and result.error is None:
                    cache.put(keys[i], result.completions)
    finally:
        if cache:
            cache.close()
    for problem, request, result in zip(runnable, requests, results):
        _collect(problem, request, result, config, out)
    return out


def _collect(problem: dict, request, result: PromptResult, config: GeneratorConfig, out: GeneratedTests) -> None:
    """Extract, validate and deduplicate the tests of one problem's completions into ``out``."""
    report, task_id = out.report, problem["task_id"]
    if result.error is not None:
        report.prompts_failed += 1
        report.drops[result.error_kind] += 1
        log.warning("%s: generation failed: %s", task_id, result.error)
        return
    seen: set[str] = set()
    for index, completion in enumerate(result.completions):
        report.completions += 1
        found = extract_tests(completion.text, problem["entry_point"], prefix=request.completion_prefix,
                              truncated=completion.truncated, split=config.split)
        if found.drop:
            report.drops[found.drop] += 1
            continue
        report.completions_with_tests += 1
        for test in found.tests:
            key = normalized_ast(test)
            if key in seen:
                report.duplicates += 1
                continue
            seen.add(key)
            out[task_id].append(test)
            out.provenance[task_id].append(Provenance(config.model, index, request.key))
            report.tests += 1
