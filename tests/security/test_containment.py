"""Containment: hostile candidates cannot outlive, outgrow or escape their sandbox.

Each test runs one attack next to an honest candidate (see conftest.Sandbox.attack) and checks:
no false PASS, the run ends within its bound, no process left behind, honest cells still PASS.
On top of that:
- infinite loop / catch-everything loop / ignored SIGALRM: the cell is TIMEOUT (the deadline is
  enforced from outside, so no in-process handler can defer it).
- fork bomb / setsid grandchild: every process the candidate spawned is gone after the run.
- memory bomb: the cell ends as MEMORY (or a crash), not by taking the machine down.
- 100 MB of stdout: kept bounded in details and never turns the honest neighbours into TIMEOUT;
  output without end still meets the deadline; a 50 MB return value is cut at output_limit.
- files: a secret outside the temp dir is not readable (never in details/outputs), files outside
  it are neither written nor deleted.
- sockets: a TCP and an abstract unix listener in the pytest process never see a connection.
- killing the parent, the process group or everything (kill -1): pytest survives, the run completes.
- recursion overflow and a ctypes segfault: the cell is ERROR/CRASH, the worker carries on.
- environment: the executor's environment (secrets in it) does not reach the candidate.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from executor import Executor, Status

from adversary import (ASSERT_TEST, CALL_TEST, CONFIG, LOAD_TIMEOUT, MARKER, TESTS, marked_processes, open_sandbox,
                       tcp_listener)

REPO = Path(__file__).resolve().parents[2]


def _statuses(m, row: int = 1) -> set[Status]:
    return {Status(s) for s in m.statuses[row]}


def _spawn_marked(seconds: int = 30) -> str:
    """Candidate code that replaces the current process by a python sleeping with MARKER in argv."""
    return (f"os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep({seconds})', "
            f"{MARKER!r}])")


def test_workers_have_the_private_root(sandbox):
    """Every promise below about files rests on it: the reason says what the host refused."""
    assert sandbox.ex.containment.level == "private-root", sandbox.ex.containment.reason


def test_a_path_nested_in_site_packages_keeps_the_private_root(monkeypatch):
    """Importing ray puts site-packages/ray/thirdparty_files on sys.path, which the workers inherit;
    that nesting once cost the private root (and only in the full suite, where ray gets imported)."""
    nested = os.path.dirname(pytest.__file__)
    assert "site-packages" in nested or "dist-packages" in nested, nested
    monkeypatch.setattr(sys, "path", [*sys.path, nested])
    with Executor(CONFIG, workers=1) as ex:
        assert ex.containment.level == "private-root", ex.containment.reason
        m = ex.run(["import os\ndef f():\n    return os.path.exists(" + repr(str(REPO)) + ")\n"],
                   [{"type": "call", "args": [], "expected": False}], entry_point="f")
        assert m.passed.all(), m.outputs


def test_infinite_loop_times_out(attack):
    m = attack(["def add(a, b):\n    while True:\n        pass\n",
                "while True:\n    pass\n"])  # at load time
    assert _statuses(m, 1) <= {Status.TIMEOUT, Status.SKIPPED}
    assert Status.TIMEOUT in _statuses(m, 1)
    assert _statuses(m, 2) == {Status.TIMEOUT}


def test_loop_catching_every_exception_times_out(attack):
    hostile = textwrap.dedent("""
        import signal
        for s in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT, signal.SIGXCPU, signal.SIGHUP):
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
    assert Status.TIMEOUT in _statuses(m)
    assert _statuses(m) <= {Status.TIMEOUT, Status.SKIPPED}


def test_ignored_sigalrm_times_out(attack):
    hostile = textwrap.dedent("""
        import signal, time
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        signal.setitimer(signal.ITIMER_REAL, 0)
        def add(a, b):
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM, signal.SIGTERM})
            while True:
                time.sleep(0.01)
    """)
    m = attack(hostile)
    assert Status.TIMEOUT in _statuses(m)


def test_fork_bomb_is_contained(attack):
    hostile = textwrap.dedent("""
        import os
        def add(a, b):
            while True:
                try:
                    os.fork()
                except BaseException:
                    pass
    """)
    m = attack(hostile)
    assert Status.PASS not in _statuses(m)


def test_setsid_grandchild_does_not_outlive_the_run(attack, tmp_path):
    alive = tmp_path / "alive"
    hostile = textwrap.dedent(f"""
        import os, sys
        def add(a, b):
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    try:
                        os.open({str(alive)!r}, os.O_WRONLY | os.O_CREAT)
                    except OSError:
                        pass
                    {_spawn_marked()}
                os._exit(0)
            return a - b
    """)
    attack(hostile)  # checks that no MARKER process and no candidate process is left
    time.sleep(0.3)
    assert not alive.exists(), "the grandchild reached a file outside the sandbox"
    assert not [p for p in os.listdir("/proc") if p.isdigit() and _cmdline_has_marker(p)]


def _cmdline_has_marker(pid: str) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return MARKER.encode() in f.read()
    except OSError:
        return False


def test_setsid_grandchild_spawned_at_load_time_is_gone(attack):
    hostile = textwrap.dedent(f"""
        import os, sys, subprocess
        subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)', {MARKER!r}],
                         start_new_session=True)
        def add(a, b):
            return a - b
    """)
    attack(hostile)


def test_memory_bomb(attack):
    m = attack(["def add(a, b):\n    hog = []\n    while True:\n        hog.append(bytearray(50 << 20))\n",
                "def add(a, b):\n    return len(bytearray(1 << 40))\n",
                "hog = bytearray(8 << 30)\ndef add(a, b):\n    return a + b\n"])
    # touching 512 MB of pages may outlast the 1 s deadline on a loaded machine: TIMEOUT is fine there
    assert _statuses(m, 1) <= {Status.MEMORY, Status.CRASH, Status.TIMEOUT, Status.SKIPPED}, m.status_names()
    for row in (2, 3):  # refused at once by RLIMIT_AS (the unittest runner reports MemoryError as an error)
        assert _statuses(m, row) <= {Status.MEMORY, Status.ERROR}, m.status_names()
        assert Status.MEMORY in _statuses(m, row)


def test_memory_bomb_in_forked_children(attack):
    hostile = textwrap.dedent("""
        import os
        def add(a, b):
            for _ in range(8):
                if os.fork() == 0:
                    hog = []
                    try:
                        while True:
                            hog.append(bytearray(50 << 20))
                    except MemoryError:
                        while True:
                            pass
            while True:
                pass
    """)
    attack(hostile)


def test_100mb_of_stdout_is_bounded_and_does_not_starve_honest_tests(attack):
    chatty = [
        "import sys\ndef add(a, b):\n    sys.stdout.write('x' * (100 << 20))\n    return a - b\n",
        "import sys\nfor _ in range(100):\n    print('y' * (1 << 20))\ndef add(a, b):\n    return a - b\n",
        "import os\ndef add(a, b):\n    for _ in range(100):\n        os.write(2, b'z' * (1 << 20))\n    return a - b\n",
    ]
    m = attack(chatty)
    for row in (1, 2, 3):
        assert _statuses(m, row) <= {Status.FAIL, Status.TIMEOUT, Status.SKIPPED, Status.CRASH}
    assert max(len(d) for d in m.details.values()) < 20_000


def test_100mb_of_stdout_in_a_stdio_program(attack):
    honest = "a, b = map(int, input().split())\nprint(a + b)\n"
    tests = [{"type": "stdio", "input": "1 2\n", "output": "3\n"},
             {"type": "stdio", "input": "5 5\n", "output": "10\n"}]
    m = attack(["import sys\nsys.stdout.write('3\\n' * (50 << 20))\n",
                "import sys\nwhile True:\n    sys.stdout.write('3\\n' * 4096)\n"],
               tests, honest=honest, entry_point=None)
    assert max((len(v) for v in m.outputs.values()), default=0) <= 2 * (1 << 20)


def test_printing_without_end_still_meets_the_deadline(attack):
    """The worker reads a bounded amount of output per wakeup, so a child that never stops writing
    cannot keep it from its deadlines (nor the parent waiting for it)."""
    m = attack(["import os\ndef add(a, b):\n    while True:\n        os.write(1, b'x' * 65536)\n",
                "import os\nwhile True:\n    os.write(2, b'y' * 65536)\n"])
    assert _statuses(m, 1) <= {Status.TIMEOUT, Status.SKIPPED} and _statuses(m, 2) == {Status.TIMEOUT}, m.details


def test_huge_return_values_are_cut_before_they_leave_the_sandbox():
    """A call result is cut at output_limit like printed output: 50 MB returned per call neither
    crosses the channels whole nor lands in the parent's memory. (Fixed deadlines: under calibrated
    ones building 50 MB outlasts the honest peer's deadline and the cell is TIMEOUT before any cut.)"""
    with open_sandbox(timeout_policy="fixed") as sandbox:
        m = sandbox.attack("def add(a, b):\n    return 'x' * (50 << 20)\n",
                           [CALL_TEST, CALL_TEST | {"args": [1, 2], "expected": 3}])
    assert _statuses(m) == {Status.FAIL}, m.details
    assert max(len(v) for v in m.outputs.values()) == CONFIG.output_limit + 1


def test_files_outside_the_temp_dir_are_out_of_reach(attack, tmp_path):
    secret = f"SECRET-{uuid.uuid4().hex}"
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(secret)
    victim = tmp_path / "victim.txt"
    victim.write_text("original")
    doomed = tmp_path / "delete_me.txt"
    doomed.write_text("still here")
    host_tmp = Path("/tmp") / f"{MARKER}-written"
    reader = textwrap.dedent(f"""
        import os, glob
        def add(a, b):
            for path in [{str(secret_file)!r}, '/proc/1/root' + {str(secret_file)!r},
                         '/proc/self/cwd/../../..' + {str(secret_file)!r}]:
                try:
                    with open(path) as f:
                        return f.read()
                except OSError as e:
                    print(path, e)
            return 'not found'
    """)
    printer = reader.replace("return f.read()", "print(f.read())\n                    raise AssertionError(f.read())")
    writer = textwrap.dedent(f"""
        import os, shutil
        def add(a, b):
            for action in (
                lambda: open({str(victim)!r}, 'w').write('overwritten'),
                lambda: open({str(host_tmp)!r}, 'w').write('escaped'),
                lambda: os.remove({str(doomed)!r}),
                lambda: shutil.rmtree({str(tmp_path)!r}),
                lambda: os.rename({str(victim)!r}, {str(host_tmp)!r}),
            ):
                try:
                    action()
                except OSError as e:
                    print(e)
            return a - b
    """)
    m = attack([reader, printer, writer])
    evidence = list(m.details.values()) + list(m.outputs.values())
    assert not [e for e in evidence if secret in e], "the secret leaked into the matrix"
    assert victim.read_text() == "original"
    assert doomed.read_text() == "still here"
    assert secret_file.read_text() == secret
    assert not host_tmp.exists()


def test_repository_and_home_are_not_readable(attack):
    reader = textwrap.dedent(f"""
        import os
        def add(a, b):
            found = []
            for path in [{str(REPO / 'pyproject.toml')!r}, os.path.expanduser('~root/.bash_history'),
                         '/etc/shadow', '/etc/passwd']:
                try:
                    with open(path) as f:
                        found.append(path + f.read(100))
                except OSError:
                    pass
            return found
    """)
    m = attack(reader, [{"type": "call", "args": [1, 2], "expected": 3}])
    leaked = json.loads(m.outputs.get((1, 0), "[]"))
    assert not [p for p in leaked if "pyproject" in p or "shadow" in p], leaked


def test_no_connection_reaches_a_local_listener(attack):
    with tcp_listener() as tcp:
        port = tcp.getsockname()[1]
        abstract = f"\0{MARKER}-listener"
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        unix.bind(abstract)
        unix.listen(8)
        unix.setblocking(False)
        hostile = textwrap.dedent(f"""
            import socket
            def add(a, b):
                for family, address in ((socket.AF_INET, ('127.0.0.1', {port})), (socket.AF_INET6, ('::1', {port})),
                                        (socket.AF_UNIX, {abstract!r})):
                    try:
                        s = socket.socket(family, socket.SOCK_STREAM)
                        s.settimeout(0.3)
                        s.connect(address)
                        s.sendall(b'hello')
                        return a + b
                    except OSError as e:
                        print(e)
                return a - b
        """)
        try:
            attack(hostile)
            for listener in (tcp, unix):
                try:
                    conn, _ = listener.accept()
                    conn.close()
                    raise AssertionError(f"a candidate connected to {listener.getsockname()!r}")
                except BlockingIOError:
                    pass
        finally:
            unix.close()


def test_killing_parent_group_and_everything(attack):
    pid_before = os.getpid()
    hostile = [
        "import os\ndef add(a, b):\n    os.kill(os.getppid(), 9)\n    return a - b\n",
        "import os\ndef add(a, b):\n    os.killpg(0, 9)\n    return a - b\n",
        "import os\ndef add(a, b):\n    os.kill(-1, 9)\n    return a - b\n",
        "import os\nos.kill(-1, 9)\nos.kill(os.getppid(), 9)\ndef add(a, b):\n    return a - b\n",
        "import os, signal\ndef add(a, b):\n    for sig in (9, 15, 2, 19):\n"
        "        for target in (0, -1, os.getppid(), -os.getpgid(os.getppid()), 1):\n"
        "            try:\n                os.kill(target, sig)\n            except OSError:\n                pass\n"
        "    return a - b\n",
    ]
    m = attack(hostile)
    assert os.getpid() == pid_before
    assert m.shape == (6, len(TESTS))


def test_recursion_overflow(attack):
    m = attack(["def add(a, b):\n    return add(a, b)\n",
                "import sys\nsys.setrecursionlimit(10 ** 8)\ndef add(a, b):\n    return add(a, b) + 1\n"])
    assert _statuses(m, 1) <= {Status.ERROR}
    assert _statuses(m, 2) <= {Status.ERROR, Status.CRASH, Status.MEMORY, Status.TIMEOUT, Status.SKIPPED}


def test_segfault_via_ctypes(attack):
    m = attack(["import ctypes\ndef add(a, b):\n    return ctypes.string_at(0)\n",
                "import ctypes\nctypes.memset(0, 0, 1)\ndef add(a, b):\n    return a + b\n"])
    assert _statuses(m, 1) == {Status.CRASH}
    assert _statuses(m, 2) == {Status.CRASH}


def test_executor_environment_does_not_reach_the_candidate():
    """A secret in the environment of the process that runs the executor stays out of the sandbox."""
    secret = f"ENVSECRET-{uuid.uuid4().hex}"
    script = textwrap.dedent("""
        import json, sys
        from executor import Executor, ExecutorConfig
        cand = (
            "import os, posix\\n"
            "def leak():\\n"
            "    found = [repr(dict(os.environ)), repr(posix.environ)]\\n"
            "    try:\\n"
            "        found.append(open('/proc/self/environ', 'rb').read().decode('latin-1'))\\n"
            "    except OSError as e:\\n"
            "        found.append(str(e))\\n"
            "    return found\\n"
        )
        with Executor(ExecutorConfig(workers=1, timeout=2.0)) as ex:
            m = ex.run([cand], [{"type": "call", "args": [], "expected": None}], entry_point="leak")
        print(json.dumps({"outputs": list(m.outputs.values()), "details": list(m.details.values())}))
    """)
    leaks = _leaks_of_a_caller(script, secret, env=dict(os.environ, CODERM_TEST_SECRET=secret))
    assert not leaks, f"executor environment visible to the candidate: {leaks[0][:300]}"


def _leaks_of_a_caller(script: str, secret: str, *args: str, env: dict | None = None) -> list[str]:
    """Run ``script`` (a caller that prints its matrix's outputs and details as JSON) in a fresh
    interpreter; return the outputs and details that contain ``secret``."""
    proc = subprocess.run([sys.executable, "-c", script, *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["outputs"], result
    return [o for o in result["outputs"] + result["details"] if secret in o]


def test_fork_that_returns_in_both_processes(attack, request):
    """A forked copy of the candidate returns into the harness: it must not add or spoil verdicts."""
    forking = "import os\ndef add(a, b):\n    os.fork()\n    return a {op} b\n"
    attack(forking.format(op="-"), honest=forking.format(op="+"))


def test_files_do_not_survive_into_the_next_candidate(sandbox, request):
    """cwd and /tmp are fresh per candidate: what one candidate leaves, the next one cannot see."""
    writer = textwrap.dedent(f"""
        import os
        for path in ('leftover.txt', '/tmp/{MARKER}', os.path.expanduser('~/leftover.txt')):
            try:
                with open(path, 'w') as f:
                    f.write('x')
            except OSError:
                pass
        def add(a, b):
            return a - b
    """)
    sandbox.ex.run([writer + f"_variant = {i}\n" for i in range(4)], [ASSERT_TEST], entry_point="add")
    reader = textwrap.dedent(f"""
        import os
        SEEN = [p for p in ('leftover.txt', '/tmp/{MARKER}', os.path.expanduser('~/leftover.txt'))
                if os.path.exists(p)]
        def add(a, b):
            return a + b if not SEEN else SEEN
    """)
    readers = [reader + f"_variant = {i}\n" for i in range(4)]
    m = sandbox.ex.run(readers, [ASSERT_TEST, CALL_TEST], entry_point="add")
    assert m.passed.all(), (m.status_names(), m.outputs)


def test_filling_the_disk(attack, sandbox, request):
    """A candidate that fills /tmp must not break the candidates that run after it."""
    filler = textwrap.dedent("""
        import os
        def add(a, b):
            for size in (8 << 20, 4096, 1):
                chunk = b'x' * size
                for i in range(400):
                    try:
                        fd = os.open(f'/tmp/fill{size}-{i}', os.O_WRONLY | os.O_CREAT)
                        while True:
                            os.write(fd, chunk)
                    except OSError as e:
                        if e.errno == 28 and i > 0:
                            break
            return a - b
    """)
    attack([filler + f"_variant = {i}\n" for i in range(4)], [ASSERT_TEST])  # variants reach both workers
    program = "a, b = map(int, input().split())\nprint(a + b)\n"
    later = sandbox.ex.run([program + f"_variant = {i}\n" for i in range(4)],
                           [{"type": "stdio", "input": "1 2\n", "output": "3\n"}], entry_point=None)
    assert later.passed.all(), ("a full /tmp spoils later candidates", later.status_names(), later.details)


def test_caller_memory_does_not_reach_the_candidate(request):
    """Secrets the calling process holds in memory (an API key in a module global) stay out of reach."""
    secret = f"sk-{uuid.uuid4().hex}"
    script = textwrap.dedent("""
        import json, sys
        from executor import Executor, ExecutorConfig
        API_KEY = sys.argv[1]  # what a trainer process typically holds
        cand = (
            "import sys\\n"
            "def leak():\\n"
            "    return sorted({v for m in list(sys.modules.values()) for v in list(vars(m).values())\\n"
            "                   if isinstance(v, str) and v.startswith('sk-')})\\n"
        )
        with Executor(ExecutorConfig(workers=1, timeout=2.0)) as ex:
            m = ex.run([cand], [{"type": "call", "args": [], "expected": []}], entry_point="leak")
        print(json.dumps({"outputs": list(m.outputs.values()), "details": list(m.details.values())}))
    """)
    leaks = _leaks_of_a_caller(script, secret, secret)
    assert not leaks, f"caller memory visible to the candidate: {leaks[0][:300]}"


def test_the_leftover_probe_sees_a_marked_process():
    """The 'no process left' checks above are only as good as this probe."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", MARKER])
    try:
        deadline = time.monotonic() + 10
        while not marked_processes() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [p for p in marked_processes() if p.startswith(f"{proc.pid}:")]
    finally:
        proc.kill()
        proc.wait()
    assert not marked_processes()


def test_a_candidate_cannot_buy_time_under_calibrated_deadlines(attack):
    """Calibrated deadlines come from the worker's clock and the peers' measured times: a candidate that
    rewinds every clock it can reach and then loops gets the honest peer's short deadline (a TIMEOUT far
    below the ceiling), not more time, and no PASS."""
    hostile = ("import time\nfor name in ('perf_counter', 'monotonic', 'time', 'process_time'):\n"
               "    setattr(time, name, lambda: 0.0)\n"
               "def add(a, b):\n    while True:\n        pass\n")
    m = attack(hostile, bound=LOAD_TIMEOUT + CONFIG.max_timeouts * 0.5 + 4.0)
    assert CONFIG.timeout_policy == "calibrated"
    assert Status.TIMEOUT in _statuses(m) and _statuses(m) <= {Status.TIMEOUT, Status.SKIPPED}, m.details
    timed_out = m.statuses[1] == Status.TIMEOUT
    assert (m.seconds[1][timed_out] < CONFIG.timeout / 2).all(), m.seconds[1]
