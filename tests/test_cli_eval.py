import json

import numpy as np
import pytest

from cli import EXAMPLE, coderm


def score_line(task_id: str, scores: list[float]) -> str:
    ranking = sorted(range(len(scores)), key=lambda i: -scores[i])
    return json.dumps({"task_id": task_id, "scores": scores, "ranking": ranking, "best": ranking[0] if scores else None,
                       "n_tests": 1, "stats": {}}) + "\n"


def test_eval_reports_best_of_n_random_pick_and_oracle(tmp_path):
    problems = [json.loads(line) for line in EXAMPLE.read_text().splitlines()]
    # Hand-made scores: clamp picks a correct one; is_palindrome ties a correct and a wrong one at the top;
    # running_max picks a wrong one; count_vowels and sum_pairs have no score line: they count as misses
    # (averaging over the 3 scored problems would overstate a partial scores file).
    scores = tmp_path / "s.jsonl"
    scores.write_text(score_line("example/clamp", [1, 0, 0, 0, 0]) + score_line("example/is_palindrome", [1, 1, 0])
                      + score_line("example/running_max", [0, 0, 0, 1]) + score_line("elsewhere/1", [1]))
    r = coderm("eval", "--problems", EXAMPLE, "--scores", scores, "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    [report] = json.loads(r.stdout)
    assert report["best_of_n"] == pytest.approx(100 * (1 + 0.5 + 0 + 0 + 0) / 5, abs=0.01)
    assert report["random_pick"] == pytest.approx(100 * np.mean([np.mean(p["labels"]) for p in problems]), abs=0.01)
    assert report["oracle"] == 100.0
    assert (report["problems"], report["labelled"], report["scored"], report["unscored"],
            report["unknown_task_ids"]) == (5, 5, 3, 2, 1)
    assert report["candidates"] == 12

    # A second file, out of order and with every correct candidate on top, is shown beside the first.
    perfect = tmp_path / "perfect.jsonl"
    perfect.write_text("".join(score_line(p["task_id"], [float(x) for x in p["labels"]]) for p in reversed(problems)))
    table = coderm("eval", "--problems", EXAMPLE, "--scores", scores, perfect, cwd=tmp_path)
    assert table.returncode == 0
    header, _, best, random_pick, oracle, n_scored, *rest = table.stdout.splitlines()
    assert header.split() == ["s.jsonl", "perfect.jsonl"]
    assert best.split()[-2:] == ["30.00", "100.00"] and best.startswith("best-of-N")
    assert random_pick.split()[-1] == f"{100 * np.mean([np.mean(p['labels']) for p in problems]):.2f}"
    assert n_scored.split()[-2:] == ["3", "5"]
    assert "s.jsonl: 1 score lines have a task_id that is not in the problems file" in rest
    assert "s.jsonl: 2 labelled problems have no score line; best-of-N counts them as misses" in rest


def test_eval_bad_scores_exit_2(tmp_path):
    scores = tmp_path / "s.jsonl"
    scores.write_text(score_line("example/clamp", [1, 0, 0, 0, 0]) + '{"task_id": "x", "scores": [1], "ranking": [3]}\n')
    r = coderm("eval", "--problems", EXAMPLE, "--scores", scores, cwd=tmp_path)
    assert r.returncode == 2 and f"{scores}:2: field 'ranking'" in r.stderr
    scores.write_text(score_line("example/clamp", [1, 0]))
    r = coderm("eval", "--problems", EXAMPLE, "--scores", scores, cwd=tmp_path)
    assert r.returncode == 2 and "2 scores for 5 candidates" in r.stderr
