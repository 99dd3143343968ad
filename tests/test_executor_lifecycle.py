"""Ctrl-C, SIGTERM and kill -9 of the process that owns an Executor leave no process behind,
and cells finished before a kill -9 are served from the cache afterwards."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from executor import Executor, ExecutorConfig

from cli import interruptible

ROOT = Path(__file__).resolve().parents[1]


def processes_of(owner: int) -> list[int]:
    """The owner and its workers (their command line names the owner's pid), and the candidate
    processes, which are forks of a worker and so share its command line."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if int(entry) == owner or (b"executor.worker" in b" ".join(argv) and str(owner).encode() in argv):
                found.append(int(entry))
    return found


def start_owner(tmp_path: Path, n_fast: int) -> subprocess.Popen:
    """A Python process that runs fast candidates (cached) and then one that sleeps forever."""
    script = textwrap.dedent(f"""
        import sys
        from executor import Executor, ExecutorConfig
        fast = [f"def f(x):\\n    return x + {{k}}\\n" for k in range({n_fast})]
        slow = "import os, time\\nif os.fork() == 0:\\n    os.setsid()\\n    time.sleep(600)\\ndef f(x):\\n    time.sleep(600)\\n"
        cfg = ExecutorConfig(workers=2, timeout=300, cache_path={str(tmp_path / 'c.sqlite')!r})
        with Executor(cfg) as ex:
            ex.run(fast, ["assert f(1) == 2"], entry_point="f")
            print("fast done", flush=True)
            ex.run([slow], ["assert f(1) == 2"], entry_point="f")
    """)
    return subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, preexec_fn=interruptible)


def wait_gone(pred, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not pred():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_stopping_the_owner_leaves_no_process(tmp_path, sig):
    owner = start_owner(tmp_path, n_fast=6)
    assert owner.stdout.readline().strip() == "fast done"
    time.sleep(1.0)  # the slow candidate and its setsid grandchild are running now
    # owner, 2 x (worker + its namespace init), the slow candidate and its setsid grandchild
    assert len(processes_of(owner.pid)) >= 7
    owner.send_signal(sig)
    owner.wait(timeout=60)  # generous: a loaded 2-core machine starves the shutdown, a hang still fails
    assert wait_gone(lambda: processes_of(owner.pid)), "workers or candidates outlived their owner"
    if sig == signal.SIGKILL:  # cells finished before the kill are cached and not recomputed
        fast = [f"def f(x):\n    return x + {k}\n" for k in range(6)]
        cfg = ExecutorConfig(workers=1, timeout=300, cache_path=str(tmp_path / "c.sqlite"))
        with Executor(cfg) as ex:
            m = ex.run(fast, ["assert f(1) == 2"], entry_point="f")
            assert ex.stats == {"executed_cells": 0, "cached_cells": 6}
            assert m.passed[:, 0].tolist() == [False, True, False, False, False, False]
