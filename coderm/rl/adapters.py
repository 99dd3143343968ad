"""Adapters that give a RewardFunction each RL framework's own calling convention.

Each adapter is a class (its instances pickle, for Ray workers and multiprocessing) holding one
RewardFunction; the rewards and their details come from ``Pipeline.rewards`` (``Reward.details``:
pass counts, status counts, the outcome, no_code / no_tests flags, execution seconds).

- TRL ``GRPOTrainer(reward_funcs=[TrlReward()])``: called as ``f(prompts=..., completions=...,
  completion_ids=..., trainer_state=..., log_extra=..., log_metric=..., **dataset_columns)`` ->
  one float per completion, None for a sample without tests (TRL leaves it out). The details go to
  ``log_metric`` (batch means, ``coderm/<key>``) and ``log_extra`` (per-completion columns) when
  TRL passes them (TRL >= 1.0). ``TrlReward().coderm_reward_async`` is the ``async def`` form.
- verl ``custom_reward_function``: ``compute_score(data_source, solution_str, ground_truth,
  extra_info, **kwargs)`` -> ``{"score": reward, **details}``: verl's reward managers read
  ``score`` and append every key to ``reward_extra_info``, which it logs (the keys are the same
  for every sample; ``acc`` is verl's validation accuracy key). ``compute_score_batch`` is the
  ``reward_model.reward_manager=batch`` form; ``compute_score_async`` the reward loop's ``async``
  form, which scores the samples arriving together as one batch.
- OpenRLHF ``--remote_rm_url``: POST ``{"query": [...], "prompts": [...], "labels": [...]}`` ->
  ``{"rewards", "scores", "extra_logs"}`` (served by ``coderm serve``; the payload logic lives
  here), or in process ``OpenRLHFReward()(queries, prompts, labels)`` with the same as tensors.
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable, Sequence

from coderm.pipeline import Reward
from coderm.rl.ground_truth import GroundTruthError, parse_tests, per_sample
from coderm.rl.reward import RewardFunction


class RequestError(ValueError):
    """A request or batch the adapter cannot read; the server answers it with a 4xx."""


def _no_number(framework: str, which: str) -> GroundTruthError:
    return GroundTruthError(f"{which} has no usable tests and {framework} needs a number for every sample; "
                            "fix the data or set reward.no_tests in the config")


def _numbers(results: Sequence[Reward], framework: str) -> list[float]:
    """The rewards, for frameworks that need a number for every sample."""
    for k, result in enumerate(results):
        if result.reward is None:
            raise _no_number(framework, f"sample {k}")
    return [float(r.reward) for r in results]  # type: ignore[arg-type]


def _logged(results: Sequence[Reward]) -> dict[str, list[float]]:
    """The numeric details, one list per key."""
    rows = [r.details() for r in results]
    keys = [k for k, v in rows[0].items() if not isinstance(v, str)] if rows else []
    return {k: [float(row[k]) for row in rows] for k in keys}


class TrlReward:
    """A TRL reward function reading each sample's tests from the dataset column ``tests_column``.

    TRL passes every dataset column except ``prompt`` as a keyword list aligned with
    ``completions``; conversational completions are lists of message dicts. TRL logs the reward
    as ``rewards/<__name__>``.
    """

    def __init__(self, reward_fn: RewardFunction | None = None, tests_column: str = "tests",
                 entry_point_column: str | None = "entry_point", name: str = "coderm_reward",
                 language_column: str | None = "language") -> None:
        self.reward_fn = reward_fn or RewardFunction()
        self.tests_column = tests_column
        self.entry_point_column = entry_point_column
        self.language_column = language_column
        self.__name__ = name

    def __call__(self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] | None = None,
                 **kwargs: Any) -> list[float | None]:
        if completions is None:
            raise RequestError("TRL reward function called without completions")
        needs_tests = self.reward_fn.tests_from != "generated"
        if needs_tests and self.tests_column not in kwargs:
            raise RequestError(f"dataset column {self.tests_column!r} not found; columns passed: {sorted(kwargs)}")
        entry_points = kwargs.get(self.entry_point_column) if self.entry_point_column else None
        languages = kwargs.get(self.language_column) if self.language_column else None
        if prompts is not None:  # conversational prompts are not code prefixes: only plain text joins
            prompts = [p if isinstance(p, str) else None for p in prompts]
        results = self.reward_fn.score(completions, tests=kwargs.get(self.tests_column) if needs_tests else None,
                                       prompts=prompts, entry_points=entry_points, languages=languages)
        _log_to_trl(results, kwargs.get("log_metric"), kwargs.get("log_extra"))
        return [r.reward for r in results]

    async def coderm_reward_async(self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] | None = None,
                                  **kwargs: Any) -> list[float | None]:
        """The coroutine form (TRL awaits async reward functions together, in parallel)."""
        return await asyncio.to_thread(self, prompts, completions, **kwargs)


def _log_to_trl(results: Sequence[Reward], log_metric: Callable[[str, float], Any] | None,
                log_extra: Callable[[str, list], Any] | None) -> None:
    """TRL's logging hooks (``log_metric(name, value)``, ``log_extra(column, values)``), when given."""
    if log_metric is not None and results:
        for key, values in _logged(results).items():
            log_metric(f"coderm/{key}", sum(values) / len(values))
    if log_extra is not None:
        log_extra("coderm_outcome", [r.outcome for r in results])
        log_extra("coderm_failure", [r.failure for r in results])
        log_extra("coderm_statuses", [" ".join(r.statuses) for r in results])


class VerlReward:
    """verl's custom reward function (single, batch and async forms) over one RewardFunction.

    ``extra_info`` may carry ``entry_point``, ``language`` and ``prompt`` (for completion-style prompt
    joining); the ground truth may carry ``language`` too.
    ``batch_window``: seconds the async form waits for more samples before scoring them together.
    """

    def __init__(self, reward_fn: RewardFunction | None = None, batch_window: float = 0.02) -> None:
        self.reward_fn = reward_fn or RewardFunction()
        self.batch_window = batch_window
        self._batcher: _Batcher | None = None  # bound to one event loop; rebuilt after unpickling

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_batcher": None}

    def compute_score(self, data_source: Any, solution_str: str, ground_truth: Any, extra_info: dict | None = None,
                      **kwargs: Any) -> dict[str, Any]:
        return self.compute_score_batch([data_source], [solution_str], [ground_truth], [extra_info])[0]

    def compute_score_batch(self, data_sources: Sequence[Any], solution_strs: Sequence[str],
                            ground_truths: Sequence[Any], extra_infos: Sequence[dict | None] | None = None,
                            **kwargs: Any) -> list[dict[str, Any]]:
        results = self._results(solution_strs, ground_truths, extra_infos)
        return [{"score": score, **r.details()} for score, r in zip(_numbers(results, "verl"), results)]

    async def compute_score_async(self, data_source: Any, solution_str: str, ground_truth: Any,
                                  extra_info: dict | None = None, **kwargs: Any) -> dict[str, Any]:
        """verl's reward loop form: one sample per call; the calls that arrive within
        ``batch_window`` of each other run as one executor batch."""
        parse_tests(ground_truth)  # a sample with bad tests fails its own call, not the batch it would join
        loop = asyncio.get_running_loop()
        if self._batcher is None or self._batcher.loop is not loop:
            self._batcher = _Batcher(loop, self.batch_window, self._score_items)
        return await self._batcher.submit((solution_str, ground_truth, extra_info))

    def _results(self, solution_strs: Sequence[str], ground_truths: Sequence[Any],
                 extra_infos: Sequence[dict | None] | None) -> list[Reward]:
        infos = list(extra_infos) if extra_infos is not None else [None] * len(solution_strs)
        infos = [info if isinstance(info, dict) else {} for info in infos]
        return self.reward_fn.score(list(solution_strs), tests=list(ground_truths),
                                    prompts=[info.get("prompt") for info in infos],
                                    entry_points=[info.get("entry_point") for info in infos],
                                    languages=[info.get("language") for info in infos])

    def _score_items(self, items: list[tuple]) -> list[dict[str, Any] | Exception]:
        """Each sample's dict, or the error that belongs to that sample alone."""
        results = self._results(*(list(column) for column in zip(*items)))
        return [{"score": r.reward, **r.details()} if r.reward is not None else _no_number("verl", "the sample")
                for r in results]


class _Batcher:
    """Gathers the single-sample calls that arrive together on one event loop into one batch."""

    def __init__(self, loop: asyncio.AbstractEventLoop, window: float, run: Callable[[list], list]) -> None:
        self.loop, self.window, self.run = loop, window, run
        self.pending: list[tuple[Any, asyncio.Future]] = []

    async def submit(self, item: Any) -> Any:
        future = self.loop.create_future()
        self.pending.append((item, future))
        if len(self.pending) == 1:
            self.loop.call_later(self.window, lambda: self.loop.create_task(self._flush()))
        return await future

    async def _flush(self) -> None:
        batch, self.pending = self.pending, []
        try:
            results = await asyncio.to_thread(self.run, [item for item, _ in batch])
        except Exception as e:  # noqa: BLE001 - every caller of the batch learns why
            for _, future in batch:
                if not future.done():
                    future.set_exception(e)
            return
        for (_, future), result in zip(batch, results):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)


def openrlhf_reward(reward_fn: RewardFunction, payload: Any) -> dict[str, Any]:
    """Answer an OpenRLHF remote-RM HTTP request ``{"query", "prompts"?, "labels"}``."""
    if not isinstance(payload, dict):
        raise RequestError("request body must be a JSON object")
    queries = _str_list(payload, "query", required=True)
    prompts = _str_list(payload, "prompts", required=False, n=len(queries))
    return _openrlhf_scores(reward_fn, queries, prompts, payload.get("labels"))


def _openrlhf_scores(reward_fn: RewardFunction, queries: list[str], prompts: list[str] | None,
                     labels: Any) -> dict[str, Any]:
    """``query`` holds prompt + response as OpenRLHF rendered them; when ``prompts`` are sent the
    prompt prefix is cut off so only the policy's response is scored. ``labels`` carry each
    sample's tests (the dataset's ``--label_key`` column). ``scores`` (OpenRLHF's dynamic
    filtering) are the rewards too; ``extra_logs`` holds the details, one value per sample."""
    if not isinstance(labels, (list, tuple)) or len(labels) != len(queries):
        raise RequestError("'labels' must be a list with one entry (the sample's tests) per query; "
                           "start OpenRLHF with --label_key naming the tests column")
    responses = [q[len(p):] if p is not None and q.startswith(p) else q
                 for q, p in zip(queries, prompts or [None] * len(queries))]
    results = reward_fn.score(responses, tests=list(labels))
    rewards = _numbers(results, "OpenRLHF")
    return {"rewards": rewards, "scores": rewards, "extra_logs": _logged(results)}


class OpenRLHFReward:
    """OpenRLHF's in-process form (``--remote_rm_url /path/to/file.py``, whose ``reward_func``
    calls this): ``(queries, prompts, labels, **kwargs)`` -> {"rewards", "scores", "extra_logs"}
    as tensors, one value per sample."""

    def __init__(self, reward_fn: RewardFunction | None = None) -> None:
        self.reward_fn = reward_fn or RewardFunction()

    def __call__(self, queries: Sequence[str], prompts: Sequence[str] | None, labels: Sequence[Any],
                 **kwargs: Any) -> dict[str, Any]:
        import torch

        out = _openrlhf_scores(self.reward_fn, list(queries), list(prompts) if prompts is not None else None, labels)
        rewards = torch.tensor(out["rewards"], dtype=torch.float32)
        return {"rewards": rewards, "scores": rewards.clone(),
                "extra_logs": {k: torch.tensor(v, dtype=torch.float32) for k, v in out["extra_logs"].items()}}


def native_reward(reward_fn: RewardFunction, payload: Any) -> dict[str, Any]:
    """coderm's own request: ``{"completions", "tests", "prompts"?, "entry_points"?, "languages"?, "details"?}``;
    ``tests`` is one list shared by every completion or one per completion, as in ``score_batch``.
    A reward is null for a completion without tests (``reward.no_tests``)."""
    if not isinstance(payload, dict):
        raise RequestError("request body must be a JSON object")
    completions = payload.get("completions")
    if not isinstance(completions, list):
        raise RequestError("'completions' must be a list")
    n = len(completions)
    columns = {}
    for name in ("prompts", "entry_points", "languages"):
        value = payload.get(name)
        if value is not None and (not isinstance(value, list) or len(value) != n):
            raise RequestError(f"{name!r} must be a list with one entry per completion ({n})")
        columns[name] = value
    tests = payload.get("tests")
    if tests is None and reward_fn.tests_from != "generated":
        raise RequestError("'tests' is required: one list shared by every completion, or one per completion")
    results = reward_fn.score(completions, tests=per_sample(tests, n) if tests is not None else None, **columns)
    body: dict[str, Any] = {"rewards": [r.reward for r in results]}
    if payload.get("details"):
        body["details"] = [r.to_json() for r in results]
    return body


def _str_list(payload: dict, key: str, required: bool, n: int | None = None) -> list[str] | None:
    value = payload.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RequestError(f"{key!r} must be a list of strings")
    if n is not None and len(value) != n:
        raise RequestError(f"{key!r} has {len(value)} entries, 'query' has {n}")
    return value
