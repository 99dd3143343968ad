"""RewardFunction: completions in, one reward in [0, 1] per completion out, in order (None for a
sample without tests unless ``reward.no_tests`` gives it a number).

Configured once, called every RL step: a thin shell that reads each framework's ground truth
(``parse_tests``) and hands the batch to the pipeline (``Pipeline.rewards``), which extracts the
code, groups completions by problem and runs them on the process-wide shared executor.
"""
from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any, Callable, Sequence

from coderm.config import Config, load_config
from coderm.model import ValidationError
from coderm.pipeline import Pipeline, Reward, Sample, pipeline_for
from coderm.rl.ground_truth import GroundTruthError, read_ground_truth
from executor import Executor
from executor.languages import PYTHON

TEST_SOURCES = ("given", "generated", "both")


class RewardFunction:
    """``rf(completions, tests=..., prompts=..., entry_points=...) -> list[float | None]``.

    ``config``: a Config, a preset name or a YAML path (default: the ``reward`` preset); its
    ``reward`` section sets the mode (passrate, binary, fail_fast) and the rewards of replies
    without code and samples without tests. ``score`` returns the ``Reward`` details too.
    ``completions``: strings or conversational message lists. ``tests``: per sample, any shape
    :func:`parse_tests` accepts. ``prompts``: per sample (for prompt joining and generated
    tests). ``entry_points``: per sample, the function under test (None for stdin/stdout).
    ``languages``: per sample, the completion's language (None: the ground truth's ``"language"``
    key, else Python; see ``executor.languages``).
    ``tests_from``: "given" (ground truth carried by each sample), "generated" (from
    ``test_generator``: prompt -> tests, called once per distinct prompt) or "both".
    ``executor``: an Executor to run on instead of the shared one for ``config.executor``.
    """

    def __init__(self, config: Config | str | Path | None = None, test_generator: Callable[[str], list[Any]] | None = None,
                 tests_from: str = "given", executor: Executor | None = None) -> None:
        self.config = config if isinstance(config, Config) else load_config(config or "reward")
        if tests_from not in TEST_SOURCES:
            raise ValueError(f"tests_from must be one of {TEST_SOURCES}, got {tests_from!r}")
        if tests_from != "given" and test_generator is None:
            raise ValueError(f"tests_from={tests_from!r} needs a test_generator")
        self.tests_from = tests_from
        self.test_generator = test_generator
        self.executor = executor
        self._pipeline: Pipeline | None = None
        self._pipeline_lock = threading.Lock()  # threads racing on the first call build one pipeline
        self._generated: dict[str, list[Any]] = {}

    @property
    def pipeline(self) -> Pipeline:
        """Built on first use, so a RewardFunction pickles (Ray, verl reward workers) as its settings."""
        with self._pipeline_lock:
            if self._pipeline is None:
                self._pipeline = Pipeline(self.config, self.executor) if self.executor else pipeline_for(self.config)
            return self._pipeline

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_pipeline": None, "_pipeline_lock": None, "executor": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _pipeline_lock=threading.Lock())

    def __call__(self, completions: Sequence[Any], tests: Sequence[Any] | None = None,
                 prompts: Sequence[Any] | None = None, entry_points: Sequence[str | None] | None = None,
                 languages: Sequence[str | None] | None = None) -> list[float | None]:
        return [r.reward for r in self.score(completions, tests, prompts, entry_points, languages)]

    async def acall(self, completions: Sequence[Any], tests: Sequence[Any] | None = None,
                    prompts: Sequence[Any] | None = None,
                    entry_points: Sequence[str | None] | None = None,
                    languages: Sequence[str | None] | None = None) -> list[float | None]:
        """The awaitable form of a call, for async trainers: concurrent awaits run concurrently."""
        return [r.reward for r in await self.ascore(completions, tests, prompts, entry_points, languages)]

    async def ascore(self, completions: Sequence[Any], tests: Sequence[Any] | None = None,
                     prompts: Sequence[Any] | None = None,
                     entry_points: Sequence[str | None] | None = None,
                     languages: Sequence[str | None] | None = None) -> list[Reward]:
        """The awaitable form of ``score``: a thread on the shared executor, which serves concurrent
        calls round robin, so the event loop never waits on a batch."""
        return await asyncio.to_thread(self.score, completions, tests, prompts, entry_points, languages)

    def score(self, completions: Sequence[Any], tests: Sequence[Any] | None = None,
              prompts: Sequence[Any] | None = None, entry_points: Sequence[str | None] | None = None,
              languages: Sequence[str | None] | None = None) -> list[Reward]:
        """Rewards with details, in input order; safe to call from many threads at once (one shared
        executor serves them round robin). Raises GroundTruthError naming the bad sample."""
        n = len(completions)
        for name, column in (("tests", tests), ("prompts", prompts), ("entry_points", entry_points),
                             ("languages", languages)):
            if column is not None and len(column) != n:
                raise ValueError(f"{name} has {len(column)} items for {n} completions")
        if self.tests_from != "generated" and tests is None:
            raise ValueError("tests are required (one entry per completion) when tests_from is 'given' or 'both'")
        samples = []
        for i, completion in enumerate(completions):
            prompt = prompts[i] if prompts is not None and isinstance(prompts[i], str) else None
            sample_tests, entry_point, language = self._tests_for(i, tests[i] if tests is not None else None, prompt)
            if entry_points is not None and entry_points[i] is not None:
                entry_point = entry_points[i]
            if languages is not None and languages[i] is not None:
                language = languages[i]
            samples.append(Sample(completion, sample_tests, prompt, entry_point, language))
        try:
            return self.pipeline.rewards(samples)
        except ValidationError as e:
            raise GroundTruthError(str(e)) from None

    def _tests_for(self, i: int, ground_truth: Any, prompt: str | None) -> tuple[list[Any], str | None, str]:
        given: list[Any] = []
        entry_point, language = None, PYTHON
        if self.tests_from in ("given", "both"):
            try:
                given, entry_point, language = read_ground_truth(ground_truth)
            except GroundTruthError as e:
                raise GroundTruthError(f"sample {i}: {e}") from None
        if self.tests_from == "given":
            return given, entry_point, language
        if prompt is None:
            raise GroundTruthError(f"sample {i}: generated tests need a string prompt")
        if prompt not in self._generated:
            self._generated[prompt] = list(self.test_generator(prompt))  # type: ignore[misc]
        return given + self._generated[prompt], entry_point, language
