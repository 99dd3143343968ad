"""Accuracy-throughput frontier of verification pipelines: each variant is the engine's Pipeline with
its own prune stages and test budget (all tests, the first k, or none: rank by the ORM).

Variants run interleaved problem by problem on one executor so machine load hits all of them alike;
programs/s counts every candidate of the pool over the wall time of every stage, execution included.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from coderm.config import Config, ConfigError
from coderm.evaluate.metrics import best_of_n
from coderm.model import Problem
from coderm.pipeline import Pipeline
from coderm.prune import PruneConfigError, check_pools
from executor import Executor


@dataclass
class Variant:
    """One pipeline of the grid. ``tests``: None runs every test, k the first k, 0 none (rank by the ORM)."""

    name: str
    pipeline: Pipeline
    tests: int | None
    stages: list[dict]

    def describe(self) -> str:
        parts = [", ".join(f"{k}={v}" for k, v in c.items() if k not in ("stage", "path", "backend")) for c in self.stages]
        text = " → ".join(c["stage"] + (f"({p})" if p else "") for c, p in zip(self.stages, parts))
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


def build_variants(entries: Any, base: Config, orm_path: str | None = None) -> list[Variant]:
    """Variants from the ``pipelines`` list of a pareto config over the ``base`` config; ``{orm}`` in
    an ORM path is ``orm_path``. ConfigError before any work on a bad entry."""
    if not isinstance(entries, list) or not entries:
        raise ConfigError("a pareto config needs a non-empty 'pipelines' list")
    out = []
    for pos, entry in enumerate(entries):
        if not isinstance(entry, dict) or "name" not in entry:
            raise ConfigError(f"pipeline #{pos}: expected a mapping with 'name', got {entry!r}")
        name, tests = entry["name"], entry.get("tests")
        stages = [dict(s) if isinstance(s, dict) else s for s in entry.get("stages") or []]
        for s in stages:
            if isinstance(s, dict) and s.get("path") == "{orm}":
                if not orm_path:
                    raise ConfigError(f"pipeline {name!r} uses an ORM: pass --orm MODEL (train one with `coderm orm train`)")
                s["path"] = orm_path
        if tests is not None and (isinstance(tests, bool) or not isinstance(tests, int) or tests < 0):
            raise ConfigError(f"pipeline {name!r}: tests must be null or an integer >= 0, got {tests!r}")
        if tests == 0 and not any(isinstance(s, dict) and s.get("stage") == "orm" for s in stages):
            raise ConfigError(f"pipeline {name!r}: tests: 0 ranks by the ORM, so it needs an orm stage")
        try:
            pipeline = Pipeline(base.with_overrides(prune=stages or None, budget=tests))
        except ConfigError as e:
            raise ConfigError(f"pipeline {name!r}: {e}") from None
        out.append(Variant(name, pipeline, tests, stages))
    names = [v.name for v in out]
    if len(set(names)) != len(names):
        raise ConfigError(f"pipeline names must be unique: {names}")
    return out


def evaluate(variants: list[Variant], problems: list[Problem], executor: Executor,
             progress: Callable[[int], Any] | None = None) -> list[Outcome]:
    """Run every variant on every problem (interleaved) and collect accuracy and throughput."""
    for v in variants:
        try:
            check_pools(v.pipeline.stages, [p.to_json() for p in problems])
        except PruneConfigError as e:
            raise ConfigError(str(e)) from None
    n_programs = sum(len(p.candidates) for p in problems)
    outcomes = [Outcome(v.name, v.describe(), 0.0, n_programs, 0.0, 0, Counter(), Counter()) for v in variants]
    accuracies: list[list[float]] = [[] for _ in variants]
    for problem in problems:
        labels = np.asarray(problem.labels, dtype=bool)
        for v, outcome, accuracy in zip(variants, outcomes, accuracies):
            start = time.perf_counter()
            (scored,) = v.pipeline.score([problem], executor)
            elapsed = time.perf_counter() - start
            accuracy.append(best_of_n(np.array(scored.result.scores), labels))
            outcome.seconds += elapsed
            outcome.executed_pairs += scored.result.stats["executed_pairs"]
            stages = scored.pruned.stage_seconds if scored.pruned else {}
            outcome.stage_seconds.update({**stages, "execute": elapsed - sum(stages.values())})  # Counters add
            outcome.pruned.update(scored.pruned.pruned.values() if scored.pruned else ())
        if progress:
            progress(1)
    for outcome, accuracy in zip(outcomes, accuracies):
        outcome.accuracy = float(np.mean(accuracy))
    return outcomes


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
    import matplotlib  # the optional plotting extra
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # only after the Agg backend is chosen

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
