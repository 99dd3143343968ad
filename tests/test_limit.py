"""`--limit N`: the first N problems of a big file, on every command that reads problems."""
from __future__ import annotations

import json

import pytest

from cli import codet_slice, coderm


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_score_execute_and_eval_take_the_first_n_problems(shared_data, tmp_path):
    problems = codet_slice(shared_data, tmp_path / "p.jsonl", problems=4, candidates=5)
    ids = [p["task_id"] for p in _lines(problems)]
    r = coderm("score", "--problems", problems, "--out", "s.jsonl", "--no-cache", "--limit", "2", cwd=tmp_path)
    assert r.returncode == 0 and "scored 2 problems" in r.stderr
    assert [s["task_id"] for s in _lines(tmp_path / "s.jsonl")] == ids[:2]
    r = coderm("execute", "--problems", problems, "--out", "m.jsonl", "--no-cache", "--limit", "1", cwd=tmp_path)
    assert r.returncode == 0 and [m["task_id"] for m in _lines(tmp_path / "m.jsonl")] == ids[:1]
    assert coderm("score", "--problems", problems, "--out", "all.jsonl", "--no-cache", cwd=tmp_path).returncode == 0
    r = coderm("eval", "--problems", problems, "--scores", "all.jsonl", "--limit", "2", "--json", cwd=tmp_path)
    report, = json.loads(r.stdout)
    assert (report["problems"], report["scored"], report["unscored"], report["unknown_task_ids"]) == (2, 2, 0, 0)
    r = coderm("eval", "--problems", problems, "--scores", "s.jsonl", "--json", cwd=tmp_path)
    assert json.loads(r.stdout)[0]["unscored"] == 2  # the limited scores file, judged on every problem


@pytest.mark.parametrize("command, limit", [
    (["score", "--out", "s.jsonl"], "0"), (["execute", "--out", "s.jsonl"], "-3"), (["eval", "--scores", "x.jsonl"], "two"),
    (["orm", "train", "--out", "m.pkl"], "0"), (["difficulty", "train", "--out", "d.pkl"], "-1"), (["pareto"], "1.5"),
    (["generate-tests", "--config", "coderm-8b", "--out", "s.jsonl"], "0")])
def test_a_limit_that_is_not_a_positive_count_is_bad_input(command, limit, tmp_path):
    (tmp_path / "p.jsonl").write_text('{"task_id": "a", "prompt": "", "candidates": []}\n')
    r = coderm(*command, "--problems", "p.jsonl", f"--limit={limit}", cwd=tmp_path)
    assert r.returncode == 2 and "--limit" in r.stderr and "whole number >= 1" in r.stderr
    assert sorted(f.name for f in tmp_path.iterdir()) == ["p.jsonl"]
