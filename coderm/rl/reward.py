"""RewardFunction: completions in, one float per completion out, in order.

Configured once, called every RL step. A batch is grouped by problem (same tests and entry
point) so the executor dedupes identical completions and keeps every worker busy across
problems; the executor is shared per process (started lazily, reused across calls), because
forking a fresh sandbox pool per step is exactly the cost RL loops cannot afford.
"""
from __future__ import annotations

import atexit
import json
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from executor import ExecutorConfig, Status
from coderm.aggregate import NAMES as AGGREGATORS
from coderm.aggregate import aggregate
from coderm.rl.extract import ExtractConfig, extract_code
from coderm.rl.ground_truth import GroundTruthError, parse_tests

TEST_SOURCES = ("given", "generated", "both")

# The executor default for RL: no cache file (rewards of new completions rarely repeat across
# steps, and the in-batch dedupe already covers repeats), 1 s per test like CodeRM.
DEFAULT_EXECUTOR = ExecutorConfig(timeout=1.0, cache_path=None)


@dataclass(frozen=True)
class RewardConfig:
    """What a reward means: where tests come from, how the matrix becomes a number, how code is found.

    ``tests``: "given" (ground-truth tests carried by each sample), "generated" (from the
    ``test_generator`` of the RewardFunction, once per distinct prompt per run), or "both".
    ``aggregator``: a coderm.aggregate name. "passrate" (default) = fraction of the sample's tests
    passed, each completion on its own; the voting aggregators ("codet", "coderm", ...) score a
    completion against the other completions of the same problem in the batch (a GRPO group).
    """

    tests: str = "given"
    aggregator: str = "passrate"
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    executor: ExecutorConfig = DEFAULT_EXECUTOR

    def __post_init__(self) -> None:
        if self.tests not in TEST_SOURCES:
            raise ValueError(f"tests must be one of {TEST_SOURCES}, got {self.tests!r}")
        if self.aggregator not in AGGREGATORS:
            raise ValueError(f"aggregator must be one of {', '.join(AGGREGATORS)}, got {self.aggregator!r}")


@dataclass
class RewardResult:
    """One completion's reward and why: the code that ran and each test's status name."""

    reward: float
    code: str
    statuses: list[str]
    error: str | None = None  # set when nothing ran: no code extracted, no tests

    def to_json(self) -> dict[str, Any]:
        return {"reward": self.reward, "passed": self.statuses.count("PASS"), "n_tests": len(self.statuses),
                "statuses": self.statuses, "error": self.error}


# Keyed by (pid, config): a process forked after the pool started (a DataLoader worker, a Ray
# actor) must start its own pool rather than talk to its parent's pipes.
_EXECUTORS: dict[tuple[int, ExecutorConfig], Any] = {}
_EXECUTOR_LOCKS: dict[tuple[int, ExecutorConfig], threading.Lock] = {}
_REGISTRY_LOCK = threading.Lock()


def shared_executor(config: ExecutorConfig) -> tuple[Any, threading.Lock]:
    """The process-wide executor for ``config`` and the lock that serialises its use (its
    run_many drives one worker pool and is not re-entrant)."""
    from executor import Executor

    key = (os.getpid(), config)
    with _REGISTRY_LOCK:
        if key not in _EXECUTORS:
            ex = Executor(config)
            ex.start()
            _EXECUTORS[key] = ex
            _EXECUTOR_LOCKS[key] = threading.Lock()
        return _EXECUTORS[key], _EXECUTOR_LOCKS[key]


@atexit.register
def close_shared_executors() -> None:
    """Stop this process's shared worker pools (also called by the server on shutdown)."""
    with _REGISTRY_LOCK:
        for key in [k for k in _EXECUTORS if k[0] == os.getpid()]:
            _EXECUTORS.pop(key).close()
            _EXECUTOR_LOCKS.pop(key)


class RewardFunction:
    """``rf(completions, tests=..., prompts=..., entry_points=...) -> list[float]``.

    ``completions``: strings or conversational message lists. ``tests``: per sample, any shape
    :func:`parse_tests` accepts. ``prompts``: per sample (for prompt joining and generated
    tests). ``entry_points``: per sample, the function under test (None for stdin/stdout).
    ``test_generator``: prompt -> list of tests, called once per distinct prompt per run.
    ``executor``: anything with the Executor's ``run_many`` (e.g. a RayExecutor); by default the
    process-wide executor for ``config.executor``.
    """

    def __init__(self, config: RewardConfig | None = None,
                 test_generator: Callable[[str], list[Any]] | None = None, executor: Any = None) -> None:
        self.config = config or RewardConfig()
        self.executor = executor
        self._executor_lock = threading.Lock()
        if self.config.tests != "given" and test_generator is None:
            raise ValueError(f"tests={self.config.tests!r} needs a test_generator")
        self.test_generator = test_generator
        self._generated: dict[str, list[Any]] = {}

    def __getstate__(self) -> dict[str, Any]:  # picklable for Ray / verl reward workers
        state = dict(self.__dict__)
        del state["_executor_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._executor_lock = threading.Lock()

    def __call__(self, completions: Sequence[Any], tests: Sequence[Any] | None = None,
                 prompts: Sequence[Any] | None = None, entry_points: Sequence[str | None] | None = None) -> list[float]:
        return [r.reward for r in self.score(completions, tests, prompts, entry_points)]

    def score(self, completions: Sequence[Any], tests: Sequence[Any] | None = None,
              prompts: Sequence[Any] | None = None, entry_points: Sequence[str | None] | None = None) -> list[RewardResult]:
        """Rewards with details, in input order. Raises GroundTruthError naming the bad sample."""
        n = len(completions)
        for name, column in (("tests", tests), ("prompts", prompts), ("entry_points", entry_points)):
            if column is not None and len(column) != n:
                raise ValueError(f"{name} has {len(column)} items for {n} completions")
        if self.config.tests != "generated" and tests is None:
            raise ValueError("tests are required (one entry per completion) when tests='given' or 'both'")
        results: list[RewardResult | None] = [None] * n
        groups: dict[tuple[str, str | None], tuple[list[Any], str | None, list[tuple[int, str]]]] = {}
        for i, completion in enumerate(completions):
            prompt = prompts[i] if prompts is not None else None
            prompt_text = prompt if isinstance(prompt, str) else None
            sample_tests, entry_point = self._tests_for(i, tests[i] if tests is not None else None, prompt_text)
            if entry_points is not None and entry_points[i] is not None:
                entry_point = entry_points[i]
            try:
                code = extract_code(completion, prompt_text, entry_point, self.config.extract)
            except TypeError as e:
                raise GroundTruthError(f"completion {i}: {e}") from None
            if not code:
                results[i] = RewardResult(0.0, "", [], "no code found in the completion")
            elif not sample_tests:
                results[i] = RewardResult(0.0, code, [], "no tests")
            else:
                key = (json.dumps(sample_tests, sort_keys=True, default=str), entry_point)
                groups.setdefault(key, (sample_tests, entry_point, []))[2].append((i, code))
        if groups:
            self._run(groups, results)
        return results  # type: ignore[return-value]

    def _tests_for(self, i: int, ground_truth: Any, prompt: str | None) -> tuple[list[Any], str | None]:
        given: list[Any] = []
        entry_point = None
        if self.config.tests in ("given", "both"):
            try:
                given, entry_point = parse_tests(ground_truth)
            except GroundTruthError as e:
                raise GroundTruthError(f"sample {i}: {e}") from None
        if self.config.tests == "given":
            return given, entry_point
        if prompt is None:
            raise GroundTruthError(f"sample {i}: generated tests need a string prompt")
        if prompt not in self._generated:
            self._generated[prompt] = list(self.test_generator(prompt))  # type: ignore[misc]
        return given + self._generated[prompt], entry_point

    def _run(self, groups: dict, results: list[RewardResult | None]) -> None:
        from executor import Job

        if self.executor is not None:
            executor, lock = self.executor, self._executor_lock
        else:
            executor, lock = shared_executor(self.config.executor)
        jobs = [Job(key, [code for _, code in members], sample_tests, entry_point)
                for key, (sample_tests, entry_point, members) in groups.items()]
        with lock:
            for key, matrix in executor.run_many(jobs):
                rewards = aggregate(self.config.aggregator, matrix.passed, matrix=matrix)
                for row, (i, code) in enumerate(groups[key][2]):
                    statuses = [Status(int(s)).name for s in matrix.statuses[row]]
                    results[i] = RewardResult(float(rewards[row]), code, statuses)
