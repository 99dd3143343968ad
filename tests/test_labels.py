"""Labelling model samples from the CLI: `coderm convert --label` runs each candidate on its
problem's official tests, and both convert and eval say when labels are missing or meaningless."""
from __future__ import annotations

import gzip
import json

from cli import coderm


def _codet(shared_data, problems: int, candidates: int) -> list[dict]:
    with gzip.open(shared_data / "codet" / "humaneval_codegen16b.problems.jsonl.gz", "rt") as f:
        rows = [json.loads(line) for _, line in zip(range(problems), f)]
    for row in rows:
        row["candidates"], row["labels"] = row["candidates"][:candidates], row["labels"][:candidates]
    return rows


def test_label_reproduces_codets_labels_from_the_official_humaneval_tests(shared_data, tmp_path):
    """CodeGen-16B samples as a samples file without 'passed': --label recomputes CodeT's labels."""
    codet = _codet(shared_data, problems=4, candidates=8)
    samples = tmp_path / "samples.jsonl"
    samples.write_text("".join(json.dumps({"task_id": p["task_id"], "solution": c}) + "\n"
                               for p in codet for c in p["candidates"]))
    humaneval = shared_data / "humaneval" / "HumanEval.jsonl.gz"
    plain = coderm("convert", "--from", "humaneval", "--input", humaneval, "--samples", samples, "--limit", "4",
                   "--out", "plain.jsonl", "--quiet", cwd=tmp_path)
    assert plain.returncode == 0 and "note: 4 of 4 problems have no labels" in plain.stderr
    r = coderm("convert", "--from", "humaneval", "--input", humaneval, "--samples", samples, "--limit", "4",
               "--label", "--workers", "2", "--out", "he.jsonl", "--quiet", cwd=tmp_path)
    assert r.returncode == 0 and "note" not in r.stderr, r.stderr
    labelled = [json.loads(line) for line in (tmp_path / "he.jsonl").read_text().splitlines()]
    assert [p["labels"] for p in labelled] == [p["labels"] for p in codet]
    assert any(not ok for p in codet for ok in p["labels"]) and any(ok for p in codet for ok in p["labels"])
    (tmp_path / "s.jsonl").write_text("".join(json.dumps(
        {"task_id": p["task_id"], "scores": [0.0] * 8, "ranking": list(range(8)), "best": 0, "n_tests": 1, "stats": {}})
        + "\n" for p in codet))
    r = coderm("eval", "--problems", "plain.jsonl", "--scores", "s.jsonl", cwd=tmp_path)
    assert "4 problems have no labels and are left out" in r.stdout and "--label" in r.stdout


def test_canonical_solutions_alone_are_called_out(shared_data, tmp_path):
    r = coderm("convert", "--from", "humaneval", "--input", shared_data / "humaneval" / "HumanEval.jsonl.gz",
               "--limit", "3", "--out", "he.jsonl", "--quiet", cwd=tmp_path)
    assert r.returncode == 0 and "every problem has one candidate, labelled correct" in r.stderr
    assert "shows 100%" in r.stderr
