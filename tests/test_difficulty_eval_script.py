"""scripts/eval_difficulty.py end to end on tiny inputs: the executor path and the --matrix path."""
import gzip
import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import eval_difficulty  # noqa: E402


def tiny_problems(n: int) -> list[dict]:
    out = []
    for i in range(n):
        good = f"def f(x):\n    return x + {i}\n"
        bad = "def f(x):\n    return x\n"
        cands = [good] * (i % 4) + [bad] * (4 - i % 4)
        out.append({"task_id": f"T/{i}", "prompt": f"def f(x):\n    '''Add {i}.'''\n" + " word" * i,
                    "entry_point": "f", "candidates": cands, "labels": [c == good for c in cands],
                    "tests": [f"assert f(1) == {1 + i}", f"assert f(2) == {2 + i}", "assert f(0) == 0"]})
    return out


def write(path: Path, problems: list[dict]) -> Path:
    with gzip.open(path, "wt") as f:
        f.writelines(json.dumps(p) + "\n" for p in problems)
    return path


@pytest.mark.slow  # runs the sandboxed executor: ~20 s on a shared 2-core machine
def test_matrix_from_executor_then_reused(tmp_path):
    probs = write(tmp_path / "p.jsonl.gz", tiny_problems(6))
    npz = tmp_path / "m.npz"
    args = ["--problems", str(probs), "--cache", str(tmp_path / "cache.sqlite"), "--write-matrix", str(npz),
            "--repeats", "2", "--folds", "2", "--budgets", "1,2", "--out-dir", str(tmp_path / "a")]
    assert eval_difficulty.main(args) == 0
    data = np.load(npz)
    st = data["T_1__statuses"]  # candidate 0 is right (x + 1), the rest return x
    assert st.shape == (4, 3)
    assert st.tolist() == [[0, 0, 1]] + [[1, 1, 0]] * 3  # PASS=0, FAIL=1: f(0) == 0 only holds for x
    assert (tmp_path / "a/difficulty_eval.png").stat().st_size > 0


def test_table_from_matrix_file(tmp_path):
    probs = tiny_problems(12)
    rng = np.random.default_rng(0)
    arrays = {}
    for p in probs:
        y = np.asarray(p["labels"], bool)[:, None]
        noise = rng.random((len(y), len(p["tests"]))) < 0.3
        arrays[eval_difficulty.matrix_key(p["task_id"])] = np.where(y | noise, 0, 1).astype(np.uint8)
    np.savez(tmp_path / "m.npz", **arrays)
    out = tmp_path / "out"
    assert eval_difficulty.main(["--problems", str(write(tmp_path / "p.jsonl.gz", probs)), "--matrix",
                                 str(tmp_path / "m.npz"), "--repeats", "2", "--folds", "3", "--budgets", "1,2",
                                 "--out-dir", str(out)]) == 0
    table = (out / "difficulty_eval.md").read_text()
    assert "| equal |" in table and "| curves-λ̂ |" in table and "Spearman" in table
    assert "| adaptive |" in table and "Cells executed" in table
    cells, runs = table.split("Cells executed")[1].split("Runs per problem")
    for row in cells.strip().splitlines()[3:]:  # executed / budget per B: never over it
        for cell in row.strip("| ").split(" | ")[1:]:
            done, budget = (int(x.replace(",", "")) for x in cell.split(" / "))
            assert done <= budget, row
    runs = {r.split(" | ")[0].strip("| "): r for r in runs.split("LLM-free")[0].strip().splitlines()[3:]}
    assert runs["equal"] == "| equal | 1.00 | 1.00 |" and "| adaptive | 1.00 |" in runs["adaptive"]  # B=1: one round
    assert (out / "difficulty_eval.png").stat().st_size > 0
