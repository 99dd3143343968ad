"""Adapters that give a RewardFunction each RL framework's own calling convention.

- TRL ``GRPOTrainer(reward_funcs=[trl_reward_func()])``: called as
  ``f(prompts=..., completions=..., **dataset_columns)`` -> list of floats; TRL logs it under
  ``__name__``.
- verl ``custom_reward_function``: ``compute_score(data_source, solution_str, ground_truth,
  extra_info)`` -> float per sample, or with ``reward_model.reward_manager=batch`` the batch form
  ``compute_score(data_sources=, solution_strs=, ground_truths=, extra_infos=)`` -> list.
- OpenRLHF ``--remote_rm_url``: POST ``{"query": [...], "prompts": [...], "labels": [...]}`` ->
  ``{"rewards": [...]}`` (served by ``coderm serve``; the payload logic lives here), or a local
  file whose ``reward_func(queries, prompts, labels)`` returns tensors.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from coderm.rl.ground_truth import per_sample
from coderm.rl.reward import RewardFunction


class RequestError(ValueError):
    """A request or batch the adapter cannot read; the server answers it with a 4xx."""


def trl_reward_func(reward_fn: RewardFunction | None = None, tests_column: str = "tests",
                    entry_point_column: str | None = "entry_point", name: str = "coderm_reward") -> Callable[..., list[float]]:
    """A TRL reward function reading each sample's tests from the dataset column ``tests_column``.

    TRL passes every dataset column except ``prompt``/``completion`` as a keyword list aligned
    with ``completions``; conversational completions are lists of message dicts.
    """
    rf = reward_fn or RewardFunction()

    def reward(prompts: Sequence[Any] | None = None, completions: Sequence[Any] | None = None, **kwargs: Any) -> list[float]:
        if completions is None:
            raise RequestError("TRL reward function called without completions")
        needs_tests = rf.tests_from != "generated"
        if needs_tests and tests_column not in kwargs:
            raise RequestError(f"dataset column {tests_column!r} not found; columns passed: {sorted(kwargs)}")
        entry_points = kwargs.get(entry_point_column) if entry_point_column else None
        return rf(completions, tests=kwargs.get(tests_column) if needs_tests else None,
                  prompts=_text_prompts(prompts), entry_points=entry_points)

    reward.__name__ = name
    reward.__qualname__ = name
    return reward


def _text_prompts(prompts: Sequence[Any] | None) -> list[str | None] | None:
    """Plain-text prompts (completion-style); conversational prompts are not code prefixes."""
    if prompts is None:
        return None
    return [p if isinstance(p, str) else None for p in prompts]


class VerlReward:
    """verl's custom reward function, single and batch form, over one RewardFunction.

    ``extra_info`` may carry ``entry_point`` and ``prompt`` (for completion-style prompt joining).
    """

    def __init__(self, reward_fn: RewardFunction | None = None) -> None:
        self.reward_fn = reward_fn or RewardFunction()

    def compute_score(self, data_source: Any, solution_str: str, ground_truth: Any,
                      extra_info: dict | None = None, **kwargs: Any) -> float:
        return self.compute_score_batch([data_source], [solution_str], [ground_truth], [extra_info])[0]

    def compute_score_batch(self, data_sources: Sequence[Any], solution_strs: Sequence[str],
                            ground_truths: Sequence[Any], extra_infos: Sequence[dict | None] | None = None,
                            **kwargs: Any) -> list[float]:
        infos = list(extra_infos) if extra_infos is not None else [None] * len(solution_strs)
        infos = [info if isinstance(info, dict) else {} for info in infos]
        return self.reward_fn(list(solution_strs), tests=list(ground_truths),
                              prompts=[info.get("prompt") for info in infos],
                              entry_points=[info.get("entry_point") for info in infos])


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
    sample's tests (the dataset's ``--label_key`` column)."""
    if not isinstance(labels, (list, tuple)) or len(labels) != len(queries):
        raise RequestError("'labels' must be a list with one entry (the sample's tests) per query; "
                           "start OpenRLHF with --label_key naming the tests column")
    responses = [q[len(p):] if p is not None and q.startswith(p) else q
                 for q, p in zip(queries, prompts or [None] * len(queries))]
    rewards = reward_fn(responses, tests=list(labels))
    return {"rewards": rewards, "scores": rewards, "extra_logs": {"coderm_passrate": rewards}}


def openrlhf_reward_func(reward_fn: RewardFunction | None = None) -> Callable[..., dict[str, Any]]:
    """OpenRLHF's in-process form (``--remote_rm_url /path/to/file.py`` with ``reward_func``):
    ``reward_func(queries, prompts, labels)`` -> {"rewards", "scores", "extra_logs"} as tensors."""
    rf = reward_fn or RewardFunction()

    def reward_func(queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any], **kwargs: Any) -> dict[str, Any]:
        import torch

        out = _openrlhf_scores(rf, list(queries), list(prompts) if prompts is not None else None, labels)
        rewards = torch.tensor(out["rewards"], dtype=torch.float32)
        return {"rewards": rewards, "scores": rewards.clone(), "extra_logs": {"coderm_passrate": rewards.clone()}}

    return reward_func


def native_reward(reward_fn: RewardFunction, payload: Any) -> dict[str, Any]:
    """coderm's own request: ``{"completions", "tests", "prompts"?, "entry_points"?, "details"?}``;
    ``tests`` is one list shared by every completion or one per completion, as in ``score_batch``."""
    if not isinstance(payload, dict):
        raise RequestError("request body must be a JSON object")
    completions = payload.get("completions")
    if not isinstance(completions, list):
        raise RequestError("'completions' must be a list")
    n = len(completions)
    columns = {}
    for name in ("prompts", "entry_points"):
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
