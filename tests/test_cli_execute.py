import json

from cli import EXAMPLE, coderm


def test_execute_writes_the_raw_matrices(tmp_path):
    r = coderm("execute", "--problems", EXAMPLE, "--out", "m.jsonl", "--no-cache", "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    problems = [json.loads(line) for line in EXAMPLE.read_text().splitlines()]
    rows = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert [m["task_id"] for m in rows] == [p["task_id"] for p in problems]
    for p, m in zip(problems, rows):
        assert len(m["statuses"]) == len(p["candidates"])
        assert all(len(row) == len(p.get("tests") or []) for row in m["statuses"])
        assert m["seconds"] >= 0
    by_id = {m["task_id"]: m["statuses"] for m in rows}
    assert by_id["example/clamp"][1] == ["FAIL", "PASS", "FAIL", "FAIL"]  # min(lo, max(x, hi)) always returns lo
    assert by_id["example/clamp"][0] == by_id["example/clamp"][3] == ["PASS"] * 4  # duplicates filled in
    assert by_id["example/sum_pairs"][2] == ["FAIL"] * 3  # concatenates strings
    assert by_id["example/count_vowels"] == [[], [], []]  # no given tests: execute mines nothing


def test_execute_help_and_bad_input(tmp_path):
    r = coderm("execute", "--help", cwd=tmp_path)
    assert r.returncode == 0 and "coderm execute --problems" in r.stdout
    bad = tmp_path / "p.jsonl"
    bad.write_text('{"task_id": "a", "prompt": "", "candidates": ["x"], "tests": [{"type": "stdio"}]}\n')
    r = coderm("execute", "--problems", bad, "--out", "m.jsonl", cwd=tmp_path)
    assert r.returncode == 2 and f"{bad}:1: field 'tests[0]'" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.jsonl"]
