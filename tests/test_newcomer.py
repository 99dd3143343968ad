"""What a newcomer meets first: a version, readable objects."""
from __future__ import annotations

import importlib.metadata
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np

from cli import ROOT, EXAMPLE, coderm
from coderm.config import Config
from executor import PassMatrix


def test_version_flag_prints_the_installed_version(tmp_path):
    r = coderm("--version", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == f"coderm {importlib.metadata.version('coderm')}"


def test_a_pass_matrix_reads_as_status_names():
    m = PassMatrix(np.array([[0, 1], [3, 6]], dtype=np.uint8), np.zeros((2, 2), dtype=np.float32))
    assert repr(m) == ("PassMatrix(2 candidates x 2 tests; PASS=1, FAIL=1, TIMEOUT=1, SKIPPED=1; "
                       "rows [['PASS', 'FAIL'], ['TIMEOUT', 'SKIPPED']])")
    assert repr(PassMatrix.empty(7, 1)).endswith("... 2 more rows)")


def test_sigterm_keeps_finished_lines_and_says_how_to_continue(tmp_path):
    """Schedulers stop jobs with SIGTERM: the run ends as on Ctrl-C (exit 130, the partial file kept)
    and says where the finished lines are and how to go on."""
    fast = {"task_id": "a", "prompt": "", "entry_point": "f", "candidates": ["def f(): return 1"], "tests": ["assert f() == 1"]}
    slow = {"task_id": "slow", "prompt": "", "entry_point": "f", "candidates": ["import time\ntime.sleep(60)"],
            "tests": ["assert f() == 1"]}
    (tmp_path / "p.jsonl").write_text(json.dumps(fast) + "\n" + json.dumps(slow) + "\n")
    (tmp_path / "c.yaml").write_text("executor: {load_timeout: 30, workers: 1}\n")
    proc = subprocess.Popen([sys.executable, "-m", "coderm", "score", "--problems", "p.jsonl", "--out", "s.jsonl",
                             "--no-cache", "--config", "c.yaml", "--quiet"], cwd=tmp_path, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    partial = tmp_path / "s.jsonl.partial"
    deadline = time.monotonic() + 60
    while not (partial.exists() and partial.read_text().count("\n") >= 1) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 130
    assert "s.jsonl.partial; run the same command again to continue" in proc.stderr.read()
    assert partial.read_text().count("\n") == 1 and not (tmp_path / "s.jsonl").exists()


def test_refuses_to_write_over_its_input_or_score_nothing(tmp_path):
    problems = tmp_path / "p.jsonl"
    problems.write_text(open(EXAMPLE).read())
    r = coderm("score", "--problems", problems, "--out", "p.jsonl", "--no-cache", cwd=tmp_path)
    assert r.returncode == 2 and "destroy the input" in r.stderr
    assert problems.read_text() == open(EXAMPLE).read()
    (tmp_path / "empty.jsonl").write_text("")
    r = coderm("score", "--problems", "empty.jsonl", "--out", "s.jsonl", "--no-cache", cwd=tmp_path)
    assert r.returncode == 2 and "no problems to score" in r.stderr and not (tmp_path / "s.jsonl").exists()


def test_a_truncated_line_is_called_truncated(tmp_path):
    """A line cut short (a killed writer) says so, instead of the parser's "Expecting value"."""
    whole = json.dumps({"task_id": "a", "prompt": "", "entry_point": "f", "candidates": ["def f(): return 1"]})
    (tmp_path / "p.jsonl").write_text(whole + "\n" + whole[:25] + "\n")
    r = coderm("score", "--problems", "p.jsonl", "--out", "s.jsonl", "--no-cache", cwd=tmp_path)
    assert r.returncode == 2 and "p.jsonl:2: malformed JSON: the line ends after 25 characters" in r.stderr
    assert "(truncated?)" in r.stderr and not (tmp_path / "s.jsonl").exists()
    (tmp_path / "p.jsonl").write_text(whole + "\n" + whole.replace(":", ":,", 1) + "\n")
    r = coderm("score", "--problems", "p.jsonl", "--out", "s.jsonl", "--no-cache", cwd=tmp_path)
    assert r.returncode == 2 and "Expecting value at column 12" in r.stderr and "truncated" not in r.stderr


def test_a_refused_resume_names_the_settings_that_differ(tmp_path):
    (tmp_path / "p.jsonl").write_text(open(EXAMPLE).read())
    (tmp_path / "s.jsonl.partial").write_text('{"task_id": "example/clamp"}\n')
    (tmp_path / "s.jsonl.partial.config").write_text(
        Config().with_overrides(aggregator="codet", timeout=3.0).fingerprint())
    r = coderm("score", "--problems", "p.jsonl", "--out", "s.jsonl", "--aggregator", "passrate", cwd=tmp_path)
    assert r.returncode == 2 and "different configuration (aggregator: \"codet\" -> \"passrate\"; " in r.stderr
    assert "executor.timeout: 3.0 -> 1.0)" in r.stderr and not (tmp_path / "s.jsonl").exists()


def test_an_unreachable_hub_fails_at_once_with_what_to_do(tmp_path):
    """Without network, `convert --from humaneval` used to retry the Hub for about 25 s."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_") and "proxy" not in k.lower()}
    start = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "coderm", "convert", "--from", "humaneval", "--out", "he.jsonl"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120,
                       env={**env, "PYTHONPATH": str(ROOT), "HF_ENDPOINT": "http://127.0.0.1:1"})  # nothing listens
    assert r.returncode == 2 and time.monotonic() - start < 15
    assert "the Hugging Face Hub cannot be reached (127.0.0.1:1: Connection refused)" in r.stderr
    assert "--input FILE" in r.stderr and "Retrying" not in r.stderr and list(tmp_path.iterdir()) == []
