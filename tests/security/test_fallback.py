"""Process containment without namespaces (a kernel that refuses unshare).

The workers then fall back to process groups, a subreaper and (as root) an unprivileged uid per
worker. Files and the network are not contained there (README threat model), but processes must
be: no loop outlives its deadline, no setsid grandchild or fork bomb survives the run, and kill
of the parent, the group or everything (kill -1) leaves pytest and the honest candidate alone.
The fallback is forced with ``ExecutorConfig(namespaces=False)``, the path a kernel that refuses
``unshare`` takes.
"""
from __future__ import annotations

import os
import textwrap
from typing import Iterator

import pytest

from adversary import MARKER, Sandbox, open_sandbox
from executor import Status


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with open_sandbox(namespaces=False) as box:
        assert box.idle_depth == 0, "workers entered namespaces although they were disabled"
        assert box.ex.containment.level == "process-groups", box.ex.containment
        yield box


def test_fallback_loop_catching_everything_times_out(attack):
    hostile = textwrap.dedent("""
        import signal
        for s in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        def add(a, b):
            while True:
                try:
                    while True:
                        pass
                except BaseException:
                    pass
    """)
    m = attack(hostile)
    assert Status.TIMEOUT in {Status(s) for s in m.statuses[1]}


def test_fallback_setsid_grandchild_and_fork_bomb_leave_nothing(attack):
    grandchild = textwrap.dedent(f"""
        import os
        def add(a, b):
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.execv('/bin/sh', ['/bin/sh', '-c', 'sleep 30', {MARKER!r}])
                os._exit(0)
            os.wait()
            return a - b
    """)
    bomb = "import os\ndef add(a, b):\n    while True:\n        try:\n            os.fork()\n        except BaseException:\n" \
           "            pass\n"
    attack([grandchild, bomb])


def test_fallback_killing_parent_group_and_everything(attack):
    pid_before = os.getpid()
    attack([
        "import os\ndef add(a, b):\n    os.kill(os.getppid(), 9)\n    return a - b\n",
        "import os\ndef add(a, b):\n    os.killpg(0, 9)\n    os.killpg(os.getpgid(os.getppid()), 9)\n    return a - b\n",
        "import os\ndef add(a, b):\n    os.kill(-1, 9)\n    return a - b\n",
    ])
    assert os.getpid() == pid_before
