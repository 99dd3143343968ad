"""What a newcomer meets first: a version, readable objects."""
from __future__ import annotations

import importlib.metadata

import numpy as np

from cli import coderm
from executor import PassMatrix


def test_version_flag_prints_the_installed_version(tmp_path):
    r = coderm("--version", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == f"coderm {importlib.metadata.version('coderm')}"


def test_a_pass_matrix_reads_as_status_names():
    m = PassMatrix(np.array([[0, 1], [3, 6]], dtype=np.uint8), np.zeros((2, 2), dtype=np.float32))
    assert repr(m) == ("PassMatrix(2 candidates x 2 tests; PASS=1, FAIL=1, TIMEOUT=1, SKIPPED=1; "
                       "rows [['PASS', 'FAIL'], ['TIMEOUT', 'SKIPPED']])")
    assert repr(PassMatrix.empty(7, 1)).endswith("... 2 more rows)")
