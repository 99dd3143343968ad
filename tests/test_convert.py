"""`coderm convert` end to end: contract output, atomic writes, exit codes."""
import gzip
import json
import os
import subprocess
import sys

from coderm.cli import main


def read_jsonl(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_convert_humaneval_gz_with_limit(shared_data, tmp_path, capsys):
    out = tmp_path / "he.jsonl.gz"
    rc = main(["convert", "--from", "humaneval", "--input", str(shared_data / "humaneval/HumanEval.jsonl.gz"),
               "--out", str(out), "--limit", "2", "--quiet"])
    assert rc == 0
    problems = read_jsonl(out)
    assert [p["task_id"] for p in problems] == ["HumanEval/0", "HumanEval/1"]
    assert problems[0]["entry_point"] == "has_close_elements" and problems[0]["labels"] == [True]
    assert capsys.readouterr().err.startswith("note: every problem has one candidate")  # --quiet keeps warnings
    assert sorted(os.listdir(tmp_path)) == ["he.jsonl.gz"]


def test_convert_codet_named_inputs_match_ready_file(shared_data, tmp_path):
    d = shared_data / "codet"
    out = tmp_path / "codet.jsonl"
    rc = main(["convert", "--from", "codet", "--quiet", "--out", str(out),
               "--input", f"solutions={d}/HumanEval_codegen16B_temp0.8_topp0.95_num100_max300_code_solution.jsonl.gz",
               "--input", f"test_cases={d}/HumanEval_codegen16B_temp0.8_topp0.95_num100_max300_test_case.jsonl.gz",
               "--input", f"problems={d}/HumanEval_for_code_generation.jsonl.gz",
               "--labels", str(d / "humaneval_codegen16b_labels.json"), "--limit", "5"])
    assert rc == 0
    mine = read_jsonl(out)
    for p in mine:
        p.pop("meta")
    assert mine == read_jsonl(d / "humaneval_codegen16b.problems.jsonl.gz")[:5]  # all 164: test_loaders


def test_convert_stdio_progress_on_stderr(shared_data, tmp_path, capsys):
    d = shared_data / "stdio"
    out = tmp_path / "cc.jsonl"
    rc = main(["convert", "--from", "stdio", "--input", str(d / "codecontests31_problems.jsonl.gz"),
               "--samples", str(d / "codecontests31_candidates_qwen.jsonl.gz"), "--out", str(out), "--limit", "3"])
    assert rc == 0
    assert len(read_jsonl(out)) == 3
    err = capsys.readouterr().err
    assert "convert stdio" in err and "wrote 3 problems" in err


def test_bad_input_fails_with_exit_2_and_leaves_old_output(tmp_path, capsys):
    src = tmp_path / "he.jsonl"
    good = {"task_id": "T/0", "prompt": "def f():\n", "entry_point": "f", "canonical_solution": "    return 1\n",
            "test": "assert f() == 1"}
    src.write_text(json.dumps(good) + "\n" + json.dumps(good)[:-5] + "\n")
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")
    rc = main(["convert", "--from", "humaneval", "--input", str(src), "--out", str(out), "--quiet"])
    assert rc == 2
    assert "he.jsonl:2: malformed JSON" in capsys.readouterr().err
    assert out.read_text() == "previous\n"
    assert sorted(os.listdir(tmp_path)) == ["he.jsonl", "out.jsonl"]  # no temp file left behind


def test_usage_errors_exit_2(tmp_path, capsys):
    out = str(tmp_path / "x.jsonl")
    assert main(["convert", "--from", "nope", "--out", out]) == 2
    assert "unknown dataset 'nope'" in capsys.readouterr().err
    assert main(["convert", "--from", "humaneval", "--input", str(tmp_path / "missing.jsonl"), "--out", out]) == 2
    assert "missing.jsonl: no such file" in capsys.readouterr().err
    existing = tmp_path / "in.jsonl"
    existing.write_text("{}\n")
    assert main(["convert", "--from", "ldb", "--input", str(existing), "--base-only", "--out", out]) == 2
    assert "no option(s) plus" in capsys.readouterr().err
    assert main(["convert", "--from", "codet", "--input", f"solutions={out}", "--out", out]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["convert", "--from", "humaneval", "--out", str(tmp_path / "nodir" / "x.jsonl")]) == 2
    assert not os.path.exists(out)


def test_unknown_hub_name_is_a_clear_error(tmp_path):
    # a name that is not a local file goes to the Hugging Face Hub; offline, that must fail cleanly
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    proc = subprocess.run(
        [sys.executable, "-m", "coderm", "convert", "--from", "humaneval", "--input", "no-such-org/no-such-dataset",
         "--out", str(tmp_path / "x.jsonl"), "--quiet"],
        capture_output=True, text=True, env=env, timeout=120, cwd=os.path.dirname(os.path.dirname(__file__)),
    )
    assert proc.returncode == 2, proc.stderr
    assert "no-such-org/no-such-dataset: not a local file and not loadable from the Hugging Face Hub" in proc.stderr
    assert os.listdir(tmp_path) == []
