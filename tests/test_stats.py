"""One vocabulary for what a run cost: the same keys, meaning the same, in `coderm score`'s stats,
`coderm execute`'s lines and rewards."""
from __future__ import annotations

import gzip
import json

import numpy as np

import coderm
from cli import coderm as run_coderm
from executor import PassMatrix
from executor.matrix import RunCounts

KEYS = {"executed_pairs", "seconds", "unique_cells", "executed_cells", "cached_cells", "wall_seconds"}


def _pool_of_copies(shared_data, path, copies: int = 20) -> dict:
    """A CodeT HumanEval problem whose candidates are 3 distinct programs, each ``copies`` times, with 3 tests."""
    with gzip.open(shared_data / "codet" / "humaneval_codegen16b.problems.jsonl.gz", "rt") as f:
        problem = json.loads(next(f))
    distinct = list(dict.fromkeys(problem["candidates"]))[:3]
    problem["candidates"] = [c for c in distinct for _ in range(copies)]
    problem["tests"] = problem["tests"][:3]
    del problem["labels"]
    path.write_text(json.dumps(problem) + "\n")
    return problem


def test_score_and_execute_count_pairs_unique_cells_and_cache_the_same_way(shared_data, tmp_path):
    _pool_of_copies(shared_data, tmp_path / "p.jsonl")
    config = ["--config", "default", "--mined-tests", "never", "--aggregator", "passrate"]
    r = run_coderm("score", "--problems", "p.jsonl", "--out", "s.jsonl", "--cache", "c.sqlite", *config, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    stats = json.loads((tmp_path / "s.jsonl").read_text())["stats"]
    assert KEYS <= set(stats)
    assert (stats["executed_pairs"], stats["unique_cells"], stats["executed_cells"], stats["cached_cells"]) == (180, 9, 9, 0)
    assert stats["wall_seconds"] > 0 and "executed_cells 9, cached_cells 0" in r.stderr  # the summary, same words
    r = run_coderm("execute", "--problems", "p.jsonl", "--out", "m.jsonl", "--cache", "c.sqlite", cwd=tmp_path)
    line = json.loads((tmp_path / "m.jsonl").read_text())
    assert KEYS <= set(line)
    assert (line["executed_pairs"], line["unique_cells"], line["executed_cells"], line["cached_cells"]) == (180, 9, 0, 9)
    assert "executed_cells 0, cached_cells 9" in r.stderr


def test_a_reward_says_seconds_as_the_score_stats_do():
    reward, = coderm.RewardFunction().score(["def f(x):\n    return x\n"], tests=[["assert f(1) == 1"]])
    details = reward.details()
    assert "seconds" in details and "exec_seconds" not in details and details["seconds"] >= 0


def test_rounds_of_one_problem_add_up_and_a_subset_keeps_its_run():
    parts = [PassMatrix(np.zeros((2, k), dtype=np.uint8), np.ones((2, k), dtype=np.float32), run=RunCounts(2 * k, 2 * k, 0, 0.5))
             for k in (1, 2)]
    joined = PassMatrix.hstack(parts, 2)
    assert joined.run == RunCounts(6, 6, 0, 1.0)
    assert joined.take_rows(np.array([1])).run == joined.run
    assert joined.run_stats() == {"executed_pairs": 6, "seconds": 6.0, "unique_cells": 6, "executed_cells": 6,
                                  "cached_cells": 0, "wall_seconds": 1.0}
