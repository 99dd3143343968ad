"""Progress of long runs: it counts test cells (so one big problem moves the bar), shows rate and
ETA on a terminal, and stays out of logs."""
from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import sys
import termios

from cli import ROOT, codet_slice, coderm
from coderm.cli._progress import CellProgress
from executor import Executor, Job

ADD = "def add(a, b):\n    return a + b\n"


def test_the_executor_plans_as_many_cells_as_it_settles_duplicates_once():
    planned, settled = [], []
    jobs = [Job(0, [ADD, ADD, "def add(a, b):\n    return a - b\n"], ["assert add(1, 2) == 3"] * 2 + ["assert add(0, 0) == 0"],
                "add"), Job(1, [ADD], ["assert add(2, 2) == 4"], "add")]
    with Executor(workers=2, cache_path=None) as ex:
        list(ex.run_many(jobs, progress=settled.append, planned=planned.append))
    assert planned == [4, 1]  # unique candidates x unique tests, per job as it opens
    assert sum(settled) == 5


def test_the_total_counts_problems_not_opened_yet_at_the_cells_per_candidate_so_far():
    progress = CellProgress([2, 4, 10], quiet=False, file=io.StringIO())  # not a terminal: no bar drawn
    progress.planned(6)  # 3 cells per candidate on the first problem
    assert progress.bar.total == 6 + 14 * 3
    progress.planned(4)  # 10 cells over 6 candidates
    assert progress.bar.total == 10 + round(10 * 10 / 6)
    progress.planned(100)
    assert progress.bar.total == 110
    progress.close()


def _stderr_on_a_terminal(args: list[str], cwd) -> str:
    """Run coderm with stderr on a pseudo-terminal of 120 columns; what it drew there."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "coderm", *args], cwd=cwd, stdout=subprocess.DEVNULL, stderr=slave,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    os.close(slave)
    drawn = b""
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        drawn += chunk
    os.close(master)
    assert proc.wait(timeout=240) == 0
    return drawn.decode()


def test_score_shows_cells_rate_and_eta_on_a_terminal_and_nothing_in_a_log(shared_data, tmp_path):
    problems = codet_slice(shared_data, tmp_path / "p.jsonl", problems=2, candidates=12)
    drawn = _stderr_on_a_terminal(["score", "--problems", str(problems), "--out", "s.jsonl", "--no-cache"], tmp_path)
    executed = int(re.search(r"executed_cells (\d+)", drawn).group(1))
    final = [frame for frame in drawn.split("\r") if "cell/s" in frame][-1]  # the bar as it closed
    assert f"{executed}/{executed} [" in final and "problems 2/2" in final
    assert re.search(r"\[\d\d:\d\d<\d\d:\d\d", drawn)  # elapsed < remaining
    logged = coderm("score", "--problems", problems, "--out", "t.jsonl", "--no-cache", cwd=tmp_path)
    assert logged.returncode == 0 and logged.stderr.startswith("coderm: scored 2 problems in ")
    assert "cell/s" not in logged.stderr
