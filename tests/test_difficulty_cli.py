"""`coderm difficulty train|predict` end to end on a slice of the CodeT file."""
import gzip
import json
import pickle

import pytest

from coderm.cli import main


@pytest.fixture(scope="module")
def problems_file(shared_data, tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "problems.jsonl"
    with gzip.open(shared_data / "codet/humaneval_codegen16b.problems.jsonl.gz", "rt") as f:
        path.write_text("".join(line for _, line in zip(range(30), f)))
    return path


def test_train_then_predict(problems_file, tmp_path):
    model, out = tmp_path / "m.pkl", tmp_path / "lam.jsonl"
    assert main(["difficulty", "train", "--problems", str(problems_file), "--out", str(model)]) == 0
    assert main(["difficulty", "predict", "--model", str(model), "--problems", str(problems_file),
                 "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["task_id"] for r in rows] == [json.loads(line)["task_id"] for line in problems_file.read_text().splitlines()]
    assert all(0.0 <= r["lambda_hat"] <= 1.0 for r in rows)


def test_first_round_matrices(problems_file, tmp_path):
    probs = [json.loads(line) for line in problems_file.read_text().splitlines()]
    mats = tmp_path / "mats.jsonl"  # `coderm execute` format; statuses made up from the labels
    mats.write_text("".join(json.dumps({"task_id": p["task_id"], "statuses": [
        ["PASS" if ok else "FAIL", "ERROR"] for ok in p["labels"]]}) + "\n" for p in probs))
    model = tmp_path / "m.pkl"
    assert main(["difficulty", "train", "--problems", str(problems_file), "--matrices", str(mats),
                 "--out", str(model)]) == 0
    assert main(["difficulty", "predict", "--model", str(model), "--problems", str(problems_file),
                 "--matrices", str(mats), "--out", str(tmp_path / "o.jsonl")]) == 0


def test_bad_inputs_exit_2_with_location(problems_file, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(problems_file.read_text().splitlines()[0] + "\n{not json\n")
    assert main(["difficulty", "train", "--problems", str(bad), "--out", str(tmp_path / "m.pkl")]) == 2
    assert f"{bad}:2: malformed JSON" in capsys.readouterr().err

    nolabels = tmp_path / "nolabels.jsonl"
    nolabels.write_text(json.dumps({"task_id": "x/1", "prompt": "def f(): pass", "candidates": ["pass"]}) + "\n")
    assert main(["difficulty", "train", "--problems", str(nolabels), "--out", str(tmp_path / "m.pkl")]) == 2
    assert "x/1" in capsys.readouterr().err

    model = tmp_path / "m.pkl"
    assert main(["difficulty", "train", "--problems", str(problems_file), "--out", str(model)]) == 0
    blob = pickle.loads(model.read_bytes())
    blob["version"] = 0
    model.write_bytes(pickle.dumps(blob))
    assert main(["difficulty", "predict", "--model", str(model), "--problems", str(problems_file),
                 "--out", str(tmp_path / "o.jsonl")]) == 2
    assert "version 0" in capsys.readouterr().err
