"""Ctrl-C, SIGTERM and kill -9 of the process that owns an Executor leave no process behind,
and cells finished before a kill -9 are served from the cache afterwards."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from executor import Executor, ExecutorConfig

ROOT = Path(__file__).resolve().parents[1]


def processes_with(marker: str) -> list[int]:
    """Pids whose command line carries ``marker``: workers and candidate processes are forks of the
    owner, so they all share its command line."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if marker.encode() in f.read():
                        found.append(int(entry))
            except OSError:
                pass
    return found


def start_owner(tmp_path: Path, marker: str, n_fast: int) -> subprocess.Popen:
    """A Python process that runs fast candidates (cached) and then one that sleeps forever."""
    script = textwrap.dedent(f"""
        import sys
        from executor import Executor, ExecutorConfig
        # {marker}
        fast = [f"def f(x):\\n    return x + {{k}}\\n" for k in range({n_fast})]
        slow = "import os, time\\nif os.fork() == 0:\\n    os.setsid()\\n    time.sleep(600)\\ndef f(x):\\n    time.sleep(600)\\n"
        cfg = ExecutorConfig(workers=2, timeout=300, cache_path={str(tmp_path / 'c.sqlite')!r})
        with Executor(cfg) as ex:
            ex.run(fast, ["assert f(1) == 2"], entry_point="f")
            print("fast done", flush=True)
            ex.run([slow], ["assert f(1) == 2"], entry_point="f")
    """)
    return subprocess.Popen([sys.executable, "-c", script, marker], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def wait_gone(pred, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not pred():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_stopping_the_owner_leaves_no_process(tmp_path, sig):
    marker = f"coderm-lifecycle-{uuid.uuid4().hex}"
    owner = start_owner(tmp_path, marker, n_fast=6)
    assert owner.stdout.readline().strip() == "fast done"
    time.sleep(1.0)  # the slow candidate and its setsid grandchild are running now
    # owner, 2 x (worker + its namespace init), the slow candidate and its setsid grandchild
    assert len(processes_with(marker)) >= 7
    owner.send_signal(sig)
    owner.wait(timeout=20)
    assert wait_gone(lambda: processes_with(marker)), "workers or candidates outlived their owner"
    if sig == signal.SIGKILL:  # cells finished before the kill are cached and not recomputed
        fast = [f"def f(x):\n    return x + {k}\n" for k in range(6)]
        cfg = ExecutorConfig(workers=1, timeout=300, cache_path=str(tmp_path / "c.sqlite"))
        with Executor(cfg) as ex:
            m = ex.run(fast, ["assert f(1) == 2"], entry_point="f")
            assert ex.stats == {"executed_cells": 0, "cached_cells": 6}
            assert m.passed[:, 0].tolist() == [False, True, False, False, False, False]
