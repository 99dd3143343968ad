"""Reproduction and benchmark scripts find their data through scripts/shared_data.py and, when a
file is absent, stop with exit 2 and one line naming it (no traceback)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from cli import ROOT


@pytest.mark.parametrize("script, extra", [("eval_difficulty.py", []), ("pareto.py", []),
                                           ("compare_score.py", ["--baseline", "."])])
def test_a_missing_data_file_is_one_line_and_exit_2(script, extra, tmp_path):
    missing = tmp_path / "absent.problems.jsonl.gz"
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / script), "--problems", str(missing), *extra],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr.startswith(f"error: data file not found: {missing} ") and r.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # nothing written (pareto's report folder included)

