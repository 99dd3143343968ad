"""The one engine: problems (or RL completions) in, scores (or rewards) out, in the design's order.

    pipeline = Pipeline.from_config("default", workers=8)
    for scored in pipeline.score(problems): ...        # coderm score, rerank, coderm pareto
    rewards = pipeline.rewards(samples)                # score_batch, RewardFunction, its adapters, serve

Stages, per batch of problems: prune (cheap stages cut the candidate pool) -> plan (the test budget
split by difficulty) -> generate (a model's tests for problems without given ones, plus tests mined
from the prompt) -> execute (the sandboxed executor, streamed across problems) -> aggregate (scores in
[0, 1]) -> select (optional: S*, ``coderm.select``, picks among the candidates that pass the public
tests; scores say its pick; with ``select.debug_rounds`` a model first revises the candidates that fail the
visible tests, ``Pipeline.debug``). Everything a config names (aggregator, allocator and difficulty model, generator, prune
stages and their ORM) is built and checked in the constructor, before any output exists, and reused
for every problem. Semantics written down once, here:

- A test that is INVALID on every candidate of a problem (it cannot run at all) carries no evidence
  and is left out; a problem with no usable test scores every candidate 0 (``stats.uniform`` says why).
- An aggregator that reads outputs (``coderm.aggregate.WITH_OUTPUTS``, the default among them) gets a
  record-only call test appended per assert ``f(<literals>) == <literal>`` (``coderm.select.synth.
  recording``): its cells are INVALID like every record-only test, their outputs go to the aggregator.
- A candidate pruned by staged verification scores below every kept one (negative scores). When no
  test runs (a budget of 0 tests), the kept candidates are ranked by the ORM's score if an ORM stage ran.
- Candidates and completions alike go through ``coderm.extract`` (a fenced chat reply runs its code
  block; a plain program runs as it is), so a batch scores the same from every surface.
- A reward follows ``config.reward``: the candidate's score clipped to [0, 1] (passrate mode) or
  1 when every usable test passes (binary modes); a reply with no code has the outcome ``no_code``
  and a sample without usable tests ``no_tests``, each with its configured reward (None by default
  for no tests: never a silent 0).
"""
from __future__ import annotations

import atexit
import dataclasses
import json
import os
import threading
from collections import deque
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Protocol, Sequence

import numpy as np

from coderm import sources
from coderm.aggregate import WITH_OUTPUTS, aggregate
from coderm.config import Config, ConfigError, load_config
from coderm.extract import callable_entry, extract_code
from coderm.generate import GeneratorConfig, GeneratorError, generate_tests
from coderm.generate.backends import Backend
from coderm.generate.run import make_backend
from coderm.model import Problem, ScoreResult, ValidationError
from coderm.prune import PruneConfigError, PruneResult, Stage, build_stages, run_stages
from coderm.select import recordings, rescore, select
from coderm.select.debug import debug
from coderm.select.llm import SelectModel
from difficulty import allocate_adaptive, plan_budget
from difficulty.allocate import BudgetError, total_tests
from difficulty.estimators import Estimator, EstimatorError
from difficulty.registry import load_estimator
from executor import Executor, ExecutorConfig, Job, PassMatrix, Status, as_test
from executor.checker import settle_checkers
from executor.compare import is_record_only
from executor.languages import PYTHON, canonical
from executor.specs import canonical_json

PLAN_BATCH = 256  # problems per budget allocation and per generator call: batched, yet streamed
RECORD_ONLY = "record-only test (no expected output): not a verdict"
NO_CODE = "no code in the reply"
NO_TESTS = "no usable test for this sample"
FAILURE_CHARS = 300  # the longest failure line a reward carries


@dataclass
class Scored:
    """One finished problem: the tests it ran, its pass matrix (over the kept candidates when
    pruned), its score line and the prune outcome."""

    problem: Problem
    tests: list[Any]
    matrix: PassMatrix
    result: ScoreResult
    pruned: PruneResult | None = None

    def candidate_statuses(self) -> list[list[str]]:
        """Each candidate's status names, in input order; [] for a candidate pruned before execution."""
        return self._by_candidate(self.matrix.status_names(), [])

    def candidate_details(self) -> list[dict[int, str]]:
        """Each candidate's messages by test column (errors, output tails), in input order; {} for a pruned one."""
        rows: list[dict[int, str]] = [{} for _ in range(self.matrix.shape[0])]
        for (i, j), detail in self.matrix.details.items():
            rows[i][j] = detail
        return self._by_candidate(rows, {})

    def candidate_seconds(self) -> list[float]:
        """Each candidate's execution time over its tests, in input order; 0 for a pruned one."""
        return self._by_candidate([float(s) for s in self.matrix.seconds.sum(axis=1)], 0.0)

    def _by_candidate(self, rows: list, pruned: Any) -> list:
        if self.pruned is None:
            return rows
        row = {s: k for k, s in enumerate(self.pruned.survivors)}
        return [rows[row[int(r)]] if int(r) in row else pruned for r in self.pruned.representative]


class Progress(Protocol):
    """Where a long run reports its test cells (the CLI's progress bar)."""

    def planned(self, cells: int) -> None: ...

    def settled(self, cells: int) -> None: ...


@dataclass
class Sample:
    """One RL completion to reward: the reply, its tests (contract form), and for prompt joining
    and the tests' calls its prompt and entry point."""

    completion: Any
    tests: list[Any] | None
    prompt: str | None = None
    entry_point: str | None = None
    language: str = PYTHON  # of the completion's code (executor.languages; any alias)


_FAILURES = tuple(status.name for status in Status if status != Status.PASS)


@dataclass
class Reward:
    """One completion's reward and why: the code that ran, each test's status, and the outcome:
    ``passed`` (every usable test), ``failed``, ``no_code`` (nothing to run in the reply) or
    ``no_tests`` (the sample has no usable test). ``reward`` is None only for ``no_tests`` with
    ``reward.no_tests: null``. ``failure``: why it did not pass, in one line a person can read (the
    first failing test's status and message); "" when it passed."""

    reward: float | None
    code: str
    statuses: list[str]
    outcome: str
    seconds: float = 0.0
    failure: str = ""

    def details(self) -> dict[str, float | int | str]:
        """What a trainer logs: the same keys for every completion, numbers but for ``outcome`` and ``failure``."""
        counts = {name: self.statuses.count(name) for name in ("PASS", *_FAILURES)}
        n_tests = len(self.statuses) - counts["INVALID"]
        return {"passed": counts["PASS"], "n_tests": n_tests, "pass_rate": counts["PASS"] / n_tests if n_tests else 0.0,
                "acc": float(self.outcome == "passed"), "no_code": float(self.outcome == "no_code"),
                "no_tests": float(self.outcome == "no_tests"), **{name.lower(): counts[name] for name in _FAILURES},
                "seconds": round(self.seconds, 4), "outcome": self.outcome, "failure": self.failure}

    def to_json(self) -> dict[str, Any]:
        return {"reward": self.reward, "statuses": self.statuses, **self.details()}


class Pipeline:
    """prune -> plan -> generate -> execute -> aggregate over one validated ``Config``.

    ``executor``: an Executor the caller owns (the CLI's, with its cache); by default the
    process-wide shared one for the config's executor settings (``shared_executor``).
    """

    def __init__(self, config: Config | None = None, executor: Executor | None = None) -> None:
        self.config = config or Config()
        self._executor = executor
        try:
            self.stages: list[Stage] = build_stages(self.config.prune) if self.config.prune else []
        except PruneConfigError as e:
            raise ConfigError(f"prune: {e}") from None
        self.estimator: Estimator | None = None
        if self.config.budget.difficulty_model is not None:
            try:
                self.estimator = load_estimator(self.config.budget.difficulty_model)
            except (EstimatorError, OSError) as e:
                raise ConfigError(f"budget.difficulty_model: {e}") from None
        self.generator: GeneratorConfig | None = None
        if self.config.generator is not None:
            try:
                self.generator = GeneratorConfig.from_dict(self.config.generator)
            except GeneratorError as e:
                raise ConfigError(f"generator: {e}") from None
        self._backend = _LazyBackend(self.generator) if self.generator else None  # one model per pipeline
        model = self.config.select.model_config() if self.config.select.model is not None else None
        self.select_model = SelectModel(_LazyBackend(model), model, self.config.generation_cache()) if model else None

    @classmethod
    def from_config(cls, config: Config | str | Path | None = None, executor: Executor | None = None,
                    **overrides: Any) -> "Pipeline":
        """A pipeline from a Config, a preset name or a YAML path, with flat ``overrides`` (workers=4)."""
        base = config if isinstance(config, Config) else load_config(config)
        return cls(base.with_overrides(**overrides), executor)

    @property
    def executor(self) -> Executor:
        return self._executor if self._executor is not None else shared_executor(self.config.executor_config())

    # -- problems -> scores ---------------------------------------------------------------------

    def score(self, problems: Iterable[Problem], executor: Executor | None = None, selection: bool = True,
              progress: Progress | None = None) -> Iterator[Scored]:
        """Score problems in input order while the executor keeps every worker busy across problems;
        then ``config.select`` picks among the best (``selection=False``: rewards neither debug nor select).
        ``progress``: told of the test cells as the executor opens and settles them (``Executor.run_many``)."""
        executor = executor or self.executor
        lineages: deque[dict] = deque()
        if selection and self.config.select.debug_rounds:  # rewards score completions as they came
            problems = _noting(self.debug(problems, executor), lineages)
        adaptive = self.config.budget.allocator == "adaptive" and self.config.budget.tests is not None
        runs = (self._adaptive(problems, executor, progress) if adaptive else
                executor.run_many(self._jobs(problems, executor), *_callbacks(progress)))
        for (problem, tests, pruned, chosen), matrix in runs:
            if chosen is None:
                settle_checkers(executor, tests, matrix)
                _unjudged(tests, matrix)
            scored = Scored(problem, tests, matrix, self.score_matrix(problem, matrix, pruned), pruned)
            if chosen is not None:
                scored.result.stats["tests_run"] = chosen
            if lineages:
                scored.result.stats["debug"] = lineages.popleft()
            if selection and self.config.select.method == "sstar":
                picked = select(problem, scored.candidate_statuses(), scored.result, executor, self.config.select,
                                self.select_model)
                if picked is not None:
                    scored.result = rescore(scored.result, picked)
            yield scored

    def debug(self, problems: Iterable[Problem], executor: Executor | None = None) -> Iterator[tuple[Problem, dict]]:
        """Each problem with its candidates that fail the visible tests (given, or mined from the prompt)
        revised by the select model, up to ``select.debug_rounds`` times, and the lineage
        (``coderm.select.debug``); the revisions are what ``score`` then scores."""
        if self.select_model is None:
            raise ConfigError("debugging needs select.model, the settings of the model that revises candidates")
        executor = executor or self.executor
        problems = (self._as_programs(p) for p in problems)
        while batch := list(islice(problems, PLAN_BATCH)):
            yield from debug(batch, [self._known_tests(p) for p in batch], executor, self.select_model,
                             self.config.select.debug_rounds, self.config.extract)

    def _jobs(self, problems: Iterable[Problem], executor: Executor) -> Iterator[Job]:
        problems = (self._as_programs(p) for p in problems)
        while batch := list(islice(problems, PLAN_BATCH)):
            known = [self._known_tests(p) for p in batch]
            pruned = [self._prune(p, tests, executor) for p, tests in zip(batch, known)]
            keep = self._plan(batch, known)
            generated = self._generate(batch, pruned, keep)
            for problem, tests, result in zip(batch, known, pruned):
                if problem.task_id in generated:
                    tests = generated[problem.task_id] + tests
                tests = tests[:keep[problem.task_id]] if keep is not None else tests
                if self.config.aggregator in WITH_OUTPUTS:  # outputs on the asserts' inputs, one more value a cell
                    tests = tests + recordings(tests, problem.entry_point)
                survivors, languages = _survivors(problem, result)
                yield Job((problem, tests, result, None), survivors, tests, problem.entry_point, language=languages)

    def _adaptive(self, problems: Iterable[Problem], executor: Executor, progress: Progress | None
                  ) -> Iterator[tuple[tuple[Problem, list[Any], PruneResult | None, list[int]], PassMatrix]]:
        """The ``adaptive`` budget: per batch, tests run in rounds (``difficulty.allocate_adaptive``),
        every problem of a round in flight together through ``run_many``; each problem's rounds are
        joined into one matrix of the tests it got, in the order they ran (their indices: ``chosen``).
        An aggregator that reads outputs gets the recordings of each round's asserts in that round
        (each call once), as the one-shot budget does; the allocator sees the judged columns only."""
        problems = (self._as_programs(p) for p in problems)
        while batch := list(islice(problems, PLAN_BATCH)):
            known = [self._known_tests(p) for p in batch]
            pruned = [self._prune(p, tests, executor) for p, tests in zip(batch, known)]
            generated = self._generate(batch, pruned, None)
            pools = [generated.get(p.task_id, []) + tests for p, tests in zip(batch, known)]
            survivors, languages = zip(*(_survivors(p, r) for p, r in zip(batch, pruned))) if batch else ((), ())
            parts: list[list[PassMatrix]] = [[] for _ in batch]
            ran: list[list[Any]] = [[] for _ in batch]  # every test each problem ran, recordings included

            def with_recordings(i: int, tests: list[Any]) -> list[Any]:
                if self.config.aggregator not in WITH_OUTPUTS:
                    return tests
                done = {canonical_json(t) for t in ran[i] if isinstance(t, dict)}
                return tests + [r for r in recordings(tests, batch[i].entry_point) if canonical_json(r) not in done]

            def run(req: Mapping[int, Sequence[int]]) -> dict[int, np.ndarray]:
                asked = {i: with_recordings(i, [pools[i][t] for t in idx]) for i, idx in req.items()}
                jobs = (Job(i, survivors[i], asked[i], batch[i].entry_point, language=languages[i]) for i in asked)
                out = {}
                for i, matrix in executor.run_many(jobs, *_callbacks(progress)):
                    settle_checkers(executor, asked[i], matrix)
                    _unjudged(asked[i], matrix)
                    parts[i].append(matrix)
                    ran[i] += asked[i]
                    out[i] = matrix.passed[:, :len(req[i])]
                return out

            def score(passed: np.ndarray) -> np.ndarray:
                return np.asarray(aggregate(self.config.aggregator, passed), dtype=float)

            try:
                total = total_tests(len(batch), self.config.budget.tests)
                got = allocate_adaptive(run, [[_test_text(t) for t in pool] for pool in pools],
                                        [len(c) for c in survivors], total, score,
                                        lam=self.estimator.predict(self._budget_rows(batch, known))
                                        if self.estimator is not None else None)
            except BudgetError as e:
                raise ConfigError(f"budget: {e}") from None
            for i, problem in enumerate(batch):
                yield ((problem, ran[i], pruned[i], got.tests[i]), PassMatrix.hstack(parts[i], len(survivors[i])))

    def _prune(self, problem: Problem, tests: list[Any], executor: Executor) -> PruneResult | None:
        """The prune stages' verdict; None (all survive) without stages or when a candidate is not Python
        (the stages parse, lint and score Python)."""
        if not self.stages or not problem.all_python:
            return None
        return run_stages({**problem.to_json(), "tests": tests}, self.stages, executor)

    def _as_programs(self, problem: Problem) -> Problem:
        """The problem with each candidate's code pulled out of chat fences (``config.extract``); a
        candidate with nothing to extract runs as it is (it fails like any broken program)."""
        programs = [extract_code(c, None, problem.entry_point, self.config.extract, lang) or c
                    for c, lang in zip(problem.candidates, problem.languages())]
        return problem if programs == problem.candidates else dataclasses.replace(problem, candidates=programs)

    def _known_tests(self, problem: Problem) -> list[Any]:
        """Given tests, and the LLM-free ones mined from the prompt (when none are given, or always)."""
        tests = list(problem.tests or [])
        mode = self.config.mined_tests
        if mode == "always" or (mode == "absent" and not problem.tests):
            tests += sources.mined_tests(problem.to_json())
        return tests

    def _needs_generation(self, problem: Problem) -> bool:
        return self.generator is not None and not problem.tests

    def _plan(self, batch: list[Problem], known: list[list[Any]]) -> dict[str, int] | None:
        """Tests to keep per problem under the budget; problems still to generate are not capped."""
        budget = self.config.budget
        if budget.tests is None:
            return None
        try:
            return plan_budget(self._budget_rows(batch, known), budget.tests, self.estimator, allocator=budget.allocator, min_tests=0)
        except BudgetError as e:
            raise ConfigError(f"budget: {e}") from None

    def _budget_rows(self, batch: list[Problem], known: list[list[Any]]) -> list[dict[str, Any]]:
        """What the difficulty estimator and plan_budget see of a problem; one still to generate has no tests."""
        return [{"task_id": p.task_id, "prompt": p.prompt, "entry_point": p.entry_point, "candidates": p.candidates,
                 **({} if self._needs_generation(p) else {"tests": tests})} for p, tests in zip(batch, known)]

    def _generate(self, batch: list[Problem], pruned: list[PruneResult | None],
                  keep: dict[str, int] | None) -> dict[str, list[Any]]:
        """The model's tests for problems without given tests that the budget gives any; the
        generator sees only candidates that survived pruning."""
        todo = [(p, r) for p, r in zip(batch, pruned)
                if self._needs_generation(p) and (keep is None or keep[p.task_id] > 0)]
        if not todo:
            return {}
        rows = [{**p.to_json(), "candidates": [p.candidates[i] for i in r.survivors] if r else p.candidates}
                for p, r in todo]
        assert self.generator is not None
        return dict(generate_tests(rows, self.generator, self.config.generation_cache(), backend=self._backend))

    def score_matrix(self, problem: Problem, matrix: PassMatrix, pruned: PruneResult | None = None) -> ScoreResult:
        """Scores and ranking of one problem from its pass matrix (see the module docstring)."""
        if pruned is not None:
            kept = self.score_matrix(problem, matrix.take_rows(pruned.rows))
            kept_scores = np.array(kept.scores)
            if kept.stats.get("uniform") and pruned.orm_scores is not None:
                kept_scores = pruned.orm_scores[pruned.representative[pruned.kept]]
            scores = pruned.final_scores(kept_scores)
            ranking = np.argsort(-scores, kind="stable").tolist()
            stats = {**kept.stats, "pruned": len(pruned.pruned),
                     "stage_seconds": {k: round(v, 4) for k, v in pruned.stage_seconds.items()}}
            return ScoreResult(problem.task_id, scores.tolist(), ranking, ranking[0] if ranking else None,
                               kept.n_tests, stats)
        statuses = matrix.statuses
        n, t = statuses.shape
        usable = np.flatnonzero(~(statuses == Status.INVALID).all(axis=0)) if n else np.arange(0)
        stats: dict[str, Any] = matrix.run_stats()
        if n and t - len(usable):
            stats["invalid_tests"] = t - len(usable)
        if n == 0 or len(usable) == 0:
            stats["uniform"] = "no candidates" if n == 0 else "no usable tests"
            scores = np.zeros(n, dtype=float)
        else:
            used = matrix if len(usable) == t else matrix.take_columns(usable)
            outputs = _recorded(matrix) if self.config.aggregator in WITH_OUTPUTS else None
            scores = np.asarray(aggregate(self.config.aggregator, used.passed, matrix=used, outputs=outputs), dtype=float)
            if scores.shape != (n,) or not np.isfinite(scores).all():
                raise RuntimeError(f"aggregator {self.config.aggregator!r} returned {scores!r} for {problem.task_id!r}")
        ranking = np.argsort(-scores, kind="stable").tolist()
        return ScoreResult(problem.task_id, [float(s) for s in scores], ranking, ranking[0] if n else None,
                           int(len(usable)), stats)

    # -- completions -> rewards -----------------------------------------------------------------

    def rewards(self, samples: Sequence[Sample]) -> list[Reward]:
        """One reward per sample, in order (``config.reward``). Samples with the same tests and entry
        point form one problem (a GRPO group), so voting aggregators compare them; ``passrate``
        scores each alone. Raises ValidationError naming the first sample whose completion or
        tests cannot be read."""
        settings = self.config.reward
        results: list[Reward | None] = [None] * len(samples)
        groups: dict[tuple[str, str | None], list[tuple[int, str]]] = {}  # (tests, entry point) -> [(sample, code)]
        for i, sample in enumerate(samples):
            try:
                code = extract_code(sample.completion, sample.prompt, sample.entry_point, self.config.extract,
                                    canonical(sample.language))
            except (TypeError, ValueError) as e:
                raise ValidationError(f"completion {i}: {e}") from None
            if not code:
                results[i] = Reward(settings.no_code, "", [], "no_code", failure=NO_CODE)
            elif not sample.tests:
                results[i] = Reward(settings.no_tests, code, [], "no_tests", failure=NO_TESTS)
            else:
                key = (json.dumps(sample.tests, sort_keys=True, default=str), sample.entry_point)
                groups.setdefault(key, []).append((i, code))
        problems = []
        for g, (key, members) in enumerate(groups.items()):
            fields = {"task_id": str(g), "prompt": "", "entry_point": key[1],
                      "candidates": [code for _, code in members], "tests": samples[members[0][0]].tests,
                      "language": [samples[i].language for i, _ in members]}
            try:
                problems.append(Problem.from_json(fields))
            except ValidationError as e:
                raise ValidationError(f"sample {members[0][0]}: {e}") from None
        for scored, members in zip(self.score(problems, selection=False), groups.values()):
            statuses, seconds, details = scored.candidate_statuses(), scored.candidate_seconds(), scored.candidate_details()
            for row, (i, code) in enumerate(members):
                results[i] = self._reward(scored, row, code, statuses[row], seconds[row], details[row])
        return results  # type: ignore[return-value]

    def _reward(self, scored: Scored, row: int, code: str, statuses: list[str], seconds: float,
                details: dict[int, str]) -> Reward:
        """One candidate's reward from its row of the matrix, by ``config.reward.mode``."""
        settings = self.config.reward
        if scored.result.n_tests == 0:  # every test is INVALID: nothing can judge this sample
            return Reward(settings.no_tests, code, statuses, "no_tests", seconds, NO_TESTS)
        if settings.mode == "fail_fast":
            statuses = _stopped_at_first_failure(statuses)
        usable = [s for s in statuses if s != "INVALID"]
        outcome = "passed" if usable and all(s == "PASS" for s in usable) else "failed"
        if settings.mode == "passrate":
            reward = min(1.0, max(0.0, scored.result.scores[row]))
        elif outcome == "passed":
            reward = 1.0
        else:
            failures = [s for s in usable if s != "PASS"]
            slow = "TIMEOUT" in failures and all(s in ("TIMEOUT", "SKIPPED") for s in failures)
            reward = settings.timeout if slow and settings.timeout is not None else settings.wrong
        return Reward(reward, code, statuses, outcome, seconds, _first_failure(statuses, details))


def _first_failure(statuses: list[str], details: dict[int, str]) -> str:
    """The first failing test as a person reads it: ``test 2 ERROR: ZeroDivisionError: division by zero
    (line 3 of <candidate>)``; the first line of the message, at most FAILURE_CHARS characters."""
    for k, status in enumerate(statuses):
        if status not in ("PASS", "INVALID", "SKIPPED"):
            message = details.get(k, "").strip().split("\n", 1)[0]
            line = f"test {k} {status}: {message}" if message else f"test {k} {status}"
            return line if len(line) <= FAILURE_CHARS else line[:FAILURE_CHARS - 3] + "..."
    return ""


def run_given_tests(problems: Iterable[Problem], executor: Executor, progress: Progress | None = None
                    ) -> Iterator[tuple[Problem, PassMatrix]]:
    """Each problem's candidates on its given tests alone, judged (checkers settled), in input order:
    nothing mined, generated or pruned. What `coderm execute` writes and what labels from a
    dataset's official tests are read from."""
    jobs = (Job(p, [callable_entry(c, p.entry_point) if lang == PYTHON else c for c, lang in zip(p.candidates, p.languages())],
                p.tests or [], p.entry_point, language=p.languages()) for p in problems)
    for problem, matrix in executor.run_many(jobs, *_callbacks(progress)):
        settle_checkers(executor, problem.tests or [], matrix)
        yield problem, matrix


def _callbacks(progress: Progress | None) -> tuple[Callable[[int], None] | None, Callable[[int], None] | None]:
    """``Executor.run_many``'s progress and planned callbacks from a Progress."""
    return (progress.settled, progress.planned) if progress is not None else (None, None)


def _survivors(problem: Problem, pruned: PruneResult | None) -> tuple[list[str], list[str]]:
    """The candidates pruning left (all without pruning) and their languages."""
    keep = pruned.survivors if pruned else range(len(problem.candidates))
    languages = problem.languages()
    return [problem.candidates[i] for i in keep], [languages[i] for i in keep]


def _test_text(test: Any) -> str:
    """What the adaptive allocator compares tests by: the code, or the stdio/call test's JSON."""
    return test if isinstance(test, str) else json.dumps(test, sort_keys=True, default=str)


def _unjudged(tests: Sequence[Any], matrix: PassMatrix) -> None:
    """A record-only test (no expected output) says nothing of correctness: its cells are INVALID for
    scoring, so a program that merely ran earns nothing from it (S* runs its own recordings)."""
    for j, test in enumerate(tests):
        if is_record_only(as_test(test)):
            matrix.statuses[:, j] = Status.INVALID
            for i in range(matrix.shape[0]):
                matrix.details[(i, j)] = RECORD_ONLY


def _noting(pairs: Iterable[tuple[Problem, dict]], notes: deque[dict]) -> Iterator[Problem]:
    """The problems of ``(problem, note)`` pairs; each note goes to ``notes`` as its problem is taken, so
    a consumer of results in input order finds a result's note first in the queue."""
    for problem, note in pairs:
        notes.append(note)
        yield problem


def _recorded(matrix: PassMatrix) -> np.ndarray:
    """Outputs of the record-only columns (``_unjudged`` marked them), None where a program produced none:
    what the output-using aggregators cluster candidates by."""
    n, t = matrix.shape
    cols = [j for j in range(t) if n and matrix.details.get((0, j)) == RECORD_ONLY]
    outputs = np.empty((n, len(cols)), dtype=object)
    for k, j in enumerate(cols):
        for i in range(n):
            outputs[i, k] = matrix.outputs.get((i, j))
    return outputs


def _stopped_at_first_failure(statuses: list[str]) -> list[str]:
    """The statuses an executor stopping at the first failing test would leave: one failure, every other
    failure SKIPPED. From a full run that is the first failure in test order; a fail_fast executor
    (which runs the tests that failed most peers first) already left just the one it stopped at."""
    failures = [k for k, s in enumerate(statuses) if s not in ("PASS", "INVALID", "SKIPPED")]
    if not failures:
        return statuses
    return [s if s in ("PASS", "INVALID") or k == failures[0] else "SKIPPED" for k, s in enumerate(statuses)]


class _LazyBackend:
    """The generator's model, loaded on the first prompt that misses the generation cache, then reused."""

    def __init__(self, config: GeneratorConfig) -> None:
        self.config = config
        self.model: Backend | None = None

    def generate(self, requests: list) -> list:
        if self.model is None:
            self.model = make_backend(self.config)
        return self.model.generate(requests)


# -- the one executor registry ---------------------------------------------------------------------
# Keyed by (pid, settings): a process forked after a pool started (a DataLoader worker, a Ray actor)
# starts its own rather than talk to its parent's pipes. Threads share an executor freely: its driver
# serves their calls round robin (executor.scheduler), so there is no lock around a batch.

_EXECUTORS: dict[tuple[int, ExecutorConfig], Executor] = {}
_REGISTRY_LOCK = threading.Lock()


def shared_executor(config: ExecutorConfig) -> Executor:
    """The process-wide started Executor for ``config`` (reused by every pipeline with these settings)."""
    key = (os.getpid(), config)
    with _REGISTRY_LOCK:
        if key not in _EXECUTORS:
            executor = Executor(config)
            executor.start()
            _EXECUTORS[key] = executor
        return _EXECUTORS[key]


_PIPELINES: dict[str, Pipeline] = {}


def pipeline_for(config: Config) -> Pipeline:
    """The process-wide pipeline for ``config``, built once (its ORM or model loads once)."""
    key = config.key()
    with _REGISTRY_LOCK:
        if key not in _PIPELINES:
            _PIPELINES[key] = Pipeline(config)
        return _PIPELINES[key]


@atexit.register
def close_shared() -> None:
    """Stop this process's shared worker pools (also at interpreter exit and on server shutdown)."""
    with _REGISTRY_LOCK:
        for key in [k for k in _EXECUTORS if k[0] == os.getpid()]:
            _EXECUTORS.pop(key).close()
