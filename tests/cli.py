"""Running the `coderm` command the way a user does, for the CLI tests."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "coderm" / "examples" / "example.problems.jsonl"


def coderm(*args, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "coderm", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=240)
