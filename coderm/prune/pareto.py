"""Accuracy-throughput frontier of verification pipelines: each pipeline is prune stages, then
execution of the survivors on all or the first k tests, then aggregation.

Pipelines run interleaved problem by problem on one executor so machine load hits all of them alike;
programs/s counts every candidate of the pool over the wall time of every stage, execution included.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coderm.prune import PruneConfigError, Stage, build_stages, check_pools, run_stages


@dataclass
class Pipeline:
    """``tests``: None runs every test, k the first k unique ones, 0 none (rank by the ORM alone)."""

    name: str
    stages: list[Stage]
    tests: int | None = None
    config: list[dict] = field(default_factory=list)

    def describe(self) -> str:
        parts = [", ".join(f"{k}={v}" for k, v in c.items() if k not in ("stage", "path", "backend")) for c in self.config]
        text = " → ".join(c["stage"] + (f"({p})" if p else "") for c, p in zip(self.config, parts))
        run = "no execution" if self.tests == 0 else ("all tests" if self.tests is None else f"first {self.tests} tests")
        return f"{text} → {run}" if text else run


@dataclass
class Outcome:
    name: str
    description: str
    accuracy: float  # mean best-of-N over problems, in [0, 1]
    programs: int
    seconds: float
    executed_pairs: int
    stage_seconds: dict[str, float]
    pruned: dict[str, int]

    @property
    def programs_per_second(self) -> float:
        return self.programs / self.seconds if self.seconds > 0 else float("inf")


def build_pipelines(config: list[dict], orm_path: str | None = None) -> list[Pipeline]:
    """Pipelines from the ``pipelines`` list of the YAML; ``{orm}`` in an ORM path is ``orm_path``."""
    out = []
    for pos, entry in enumerate(config):
        if not isinstance(entry, dict) or "name" not in entry:
            raise PruneConfigError(f"pipeline #{pos}: expected a mapping with 'name', got {entry!r}")
        stages_cfg = [dict(s) for s in entry.get("stages") or []]
        for s in stages_cfg:
            if s.get("path") == "{orm}":
                if not orm_path:
                    raise PruneConfigError(f"pipeline {entry['name']!r} uses an ORM: pass --orm MODEL "
                                           "(train one with `coderm orm train`)")
                s["path"] = orm_path
        tests = entry.get("tests")
        if tests is not None and (not isinstance(tests, int) or tests < 0):
            raise PruneConfigError(f"pipeline {entry['name']!r}: tests must be null or an integer >= 0, got {tests!r}")
        try:
            stages = build_stages(stages_cfg)
        except PruneConfigError as e:
            raise PruneConfigError(f"pipeline {entry['name']!r}: {e}") from None
        if tests == 0 and not any(s.name == "orm" for s in stages):
            raise PruneConfigError(f"pipeline {entry['name']!r}: tests: 0 ranks by the ORM, so it needs an orm stage")
        out.append(Pipeline(entry["name"], stages, tests, stages_cfg))
    names = [p.name for p in out]
    if len(set(names)) != len(names):
        raise PruneConfigError(f"pipeline names must be unique: {names}")
    return out


def _unique_tests(tests: list[Any]) -> list[Any]:
    import json

    seen: dict[str, Any] = {}
    for t in tests:
        seen.setdefault(json.dumps(t, sort_keys=True), t)
    return list(seen.values())


def score_problem(pipeline: Pipeline, problem: dict, executor: Any, aggregator: str) -> tuple[np.ndarray, Any, int]:
    """Scores for every candidate, the PruneResult, and the executed (candidate, test) pairs."""
    from coderm.aggregate import aggregate

    result = run_stages(problem, pipeline.stages, executor)
    tests = problem.get("tests") or []
    if pipeline.tests is not None:
        tests = _unique_tests(tests)[: pipeline.tests]
    kept, rows = result.kept, result.rows
    if pipeline.tests == 0:
        # merged candidates take their representative's ORM score
        kept_scores = result.orm_scores[result.representative[kept]] if result.orm_scores is not None \
            else np.zeros(len(kept))
        return result.final_scores(kept_scores), result, 0
    survivors = [problem["candidates"][i] for i in result.survivors]
    if not survivors or not tests:
        return result.final_scores(np.zeros(len(kept))), result, 0
    start = time.perf_counter()
    matrix = executor.run(survivors, tests, problem.get("entry_point"))
    result.stage_seconds["execute"] = time.perf_counter() - start
    kept_scores = aggregate(aggregator, matrix.passed[rows])
    return result.final_scores(kept_scores), result, len(set(survivors)) * len(tests)


def evaluate(pipelines: list[Pipeline], problems: list[dict], executor: Any, aggregator: str,
             progress: Any = None) -> list[Outcome]:
    """Run every pipeline on every problem (interleaved) and collect accuracy and throughput."""
    from coderm.metrics import best_of_n

    for p in pipelines:
        check_pools(p.stages, problems)
    acc = {p.name: [] for p in pipelines}
    secs = {p.name: 0.0 for p in pipelines}
    pairs = {p.name: 0 for p in pipelines}
    stage_secs: dict[str, dict[str, float]] = {p.name: {} for p in pipelines}
    pruned: dict[str, dict[str, int]] = {p.name: {} for p in pipelines}
    for problem in problems:
        labels = np.asarray(problem["labels"], dtype=bool)
        for p in pipelines:
            start = time.perf_counter()
            scores, result, n_pairs = score_problem(p, problem, executor, aggregator)
            secs[p.name] += time.perf_counter() - start
            acc[p.name].append(best_of_n(scores, labels))
            pairs[p.name] += n_pairs
            for stage, s in result.stage_seconds.items():
                stage_secs[p.name][stage] = stage_secs[p.name].get(stage, 0.0) + s
            for stage in result.pruned.values():
                pruned[p.name][stage] = pruned[p.name].get(stage, 0) + 1
        if progress:
            progress(1)
    n_programs = sum(len(p["candidates"]) for p in problems)
    return [Outcome(p.name, p.describe(), float(np.mean(acc[p.name])), n_programs, secs[p.name], pairs[p.name],
                    stage_secs[p.name], pruned[p.name]) for p in pipelines]


def frontier(outcomes: list[Outcome]) -> list[Outcome]:
    """Outcomes no other one beats on both accuracy and programs/s, fastest first."""
    return sorted([o for o in outcomes if not any(
        q.accuracy >= o.accuracy and q.programs_per_second >= o.programs_per_second and
        (q.accuracy > o.accuracy or q.programs_per_second > o.programs_per_second) for q in outcomes)],
        key=lambda o: -o.programs_per_second)


def fastest_within(outcomes: list[Outcome], baseline: str, max_loss: float) -> Outcome:
    """The fastest pipeline whose accuracy is at most ``max_loss`` (fraction) below the baseline's."""
    base = next(o for o in outcomes if o.name == baseline)
    return max((o for o in outcomes if o.accuracy >= base.accuracy - max_loss - 1e-12),
               key=lambda o: o.programs_per_second)


def markdown_table(outcomes: list[Outcome], baseline: str) -> str:
    base = next(o for o in outcomes if o.name == baseline)
    on_front = {o.name for o in frontier(outcomes)}
    lines = ["| pipeline | stages | best-of-N % | Δ pt | programs/s | speed-up | executed pairs | pruned | seconds by stage | frontier |",
             "|---|---|---:|---:|---:|---:|---:|---|---|:-:|"]
    for o in outcomes:
        stages = ", ".join(f"{k} {v:.1f}" for k, v in o.stage_seconds.items())
        pruned = ", ".join(f"{k} {v}" for k, v in o.pruned.items()) or "-"
        lines.append(f"| {o.name} | {o.description} | {100 * o.accuracy:.1f} | {100 * (o.accuracy - base.accuracy):+.1f} "
                     f"| {o.programs_per_second:.1f} | {o.programs_per_second / base.programs_per_second:.1f}× "
                     f"| {o.executed_pairs} | {pruned} | {stages} | {'✓' if o.name in on_front else ''} |")
    return "\n".join(lines)


def plot(outcomes: list[Outcome], path: str, title: str) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.scatter([o.programs_per_second for o in outcomes], [100 * o.accuracy for o in outcomes], color="tab:blue")
    for o in outcomes:
        ax.annotate(o.name, (o.programs_per_second, 100 * o.accuracy), fontsize=8, xytext=(4, 4),
                    textcoords="offset points")
    front = frontier(outcomes)
    ax.plot([o.programs_per_second for o in front], [100 * o.accuracy for o in front], color="tab:red",
            label="Pareto frontier")
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1, 2, 5)))
    ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("programs / s (all stages, execution included)")
    ax.set_ylabel("best-of-N accuracy (%)")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
