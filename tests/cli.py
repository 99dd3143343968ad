"""Running the `coderm` command the way a user does, for the CLI tests."""
from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "coderm" / "examples" / "example.problems.jsonl"


def interruptible() -> None:
    """``preexec_fn`` of a process a test interrupts: Ctrl-C raises in it even when the suite itself was
    started in the background of a shell, which leaves SIGINT ignored for every process it starts."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def coderm(*args, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "coderm", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=240)


def codet_slice(shared_data: Path, path: Path, problems: int, candidates: int) -> Path:
    """The first ``problems`` problems of CodeT's CodeGen-16B HumanEval file, ``candidates`` each, at ``path``."""
    with gzip.open(shared_data / "codet" / "humaneval_codegen16b.problems.jsonl.gz", "rt") as f, open(path, "w") as g:
        for _, line in zip(range(problems), f):
            p = json.loads(line)
            p["candidates"], p["labels"] = p["candidates"][:candidates], p["labels"][:candidates]
            g.write(json.dumps(p) + "\n")
    return path
