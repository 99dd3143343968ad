"""A warm worker: receives one candidate with its tests at a time and supervises a sandboxed child.

The worker pre-imports common modules, enters its namespaces once, and per candidate forks a
child that execs the candidate once and runs the tests (``executor.harness``). Per-test
deadlines are enforced from here: a silent child is killed together with everything it spawned,
the cell is TIMEOUT, and a fresh child resumes at the next test.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import gc
import importlib
import json
import os
import select
import selectors
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from executor import harness, landlock, sandbox, wire
from executor.config import ExecutorConfig
from executor.languages import Program, Toolchain
from executor.prepare import Prepared, compile_candidate, prepare
from executor.sandbox import Containment
from executor.specs import TestSpec
from executor.status import Status

PREIMPORTS = (
    "abc", "array", "bisect", "calendar", "cmath", "collections", "copy", "dataclasses", "datetime",
    "decimal", "enum", "fractions", "functools", "hashlib", "heapq", "io", "itertools", "json", "math",
    "numbers", "operator", "queue", "random", "re", "statistics", "string", "struct", "textwrap", "time",
    "typing", "unittest",
)
Cell = tuple  # (status: int, seconds: float, detail: str, output: str | None)
FAIL_FAST_SKIP = "not run: fail_fast stopped the candidate at its first failing test"
_PREPARED_CACHE = 20000
_PROGRAM_CACHE = 64  # built programs (or compiler errors) a worker keeps, by source, toolchain and limits
# While a child's verdicts flow, its channel is read at most this often: a wakeup per verdict cost the
# worker more than many fast tests do. A test's deadline then starts up to this late, never early.
CHANNEL_BATCH = 0.002
CHILD_ENVIRONMENT = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}  # and HOME, TMPDIR: the cell
HEARTBEAT_SECONDS = 1.0  # at most this often a busy worker tells the parent that a cell finished
_DRAIN_READS = 16  # reads of a child's output per wakeup (of 64 KiB)
PROBE_EVERY = 1.0  # seconds between a calibrated worker's CPU probes
_PROBE_LOOPS = 250_000  # about 5 ms of pure Python: long enough to be preempted on a busy core
MAX_SLOWDOWN = 4.0  # a worker stretches calibrated deadlines at most this much for a busy host


@dataclass(frozen=True)
class _Outcome:
    """How one supervised child ended, for the tests it did not finish."""

    kind: str  # finished | failed (fail_fast: the first non-PASS verdict) | load_failed | timeout | died | tampered
    status: int = Status.ERROR
    detail: str = ""


_TAMPERED = _Outcome("tampered", Status.CRASH, "result channel tampered with: verdicts discarded")


def _preimport() -> None:
    for name in PREIMPORTS:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def main() -> None:
    """Entry of a worker interpreter: ``argv`` = socket fd, worker index, owner pid, config JSON, and
    the JSON list of the toolchain directories to expose (found once by the owner)."""
    fd, index, owner = (int(a) for a in sys.argv[1:4])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the owner handles Ctrl-C and stops us
    sandbox.set_parent_death_signal()
    if os.getppid() != owner:  # the owner died before we could ask to die with it
        return
    config = ExecutorConfig.from_dict(json.loads(sys.argv[4]))
    pin(index, config.workers)
    serve(socket.socket(fileno=fd), config, index, tuple(json.loads(sys.argv[5])))


def pin(index: int, workers: int) -> None:
    """A pool with a worker for each CPU it may use keeps worker ``index`` (and the candidates it
    forks) on one of them: a candidate then starts on its worker's warm CPU and wakes its worker
    without a cross-CPU wakeup, where the kernel's placement sent forks to the other CPU
    (``scripts/bench_reward.py``: sequential one-sample calls ~5 % faster, concurrent ones ~10 %).
    A smaller pool leaves placement to the kernel: other pools or programs may own those CPUs."""
    allowed = sorted(os.sched_getaffinity(0))
    if workers >= len(allowed):
        os.sched_setaffinity(0, {allowed[index % len(allowed)]})


def serve(conn: socket.socket, config: ExecutorConfig, index: int, toolchains: tuple[str, ...]) -> None:
    """Enter the namespaces (or fall back) and answer tasks until the owner says stop."""
    _preimport()
    real_root = os.getuid() == 0
    try:
        if not config.namespaces:
            raise OSError("disabled by configuration (namespaces=False)")
        sandbox.enter_namespaces(config.network)
    except OSError as e:
        containment = Containment("process-groups", f"namespaces unavailable: {e}")
        sandbox.become_subreaper()
        Worker(conn, config, containment, sandbox.sandbox_uid() if real_root else None, toolchains).serve()
        return
    inner = os.fork()
    if inner:  # outer: only mirrors the inner worker's life; killing it kills the namespace
        os.waitpid(inner, 0)
        os._exit(0)
    try:
        sandbox.set_parent_death_signal()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            private: frozenset[str] | None = sandbox.build_private_root(512, config.site_packages, toolchains)
            containment = Containment("private-root", "")
        except OSError as e:
            private = None
            containment = Containment("namespaces", f"private root unavailable: {e}")
        Worker(conn, config, containment, sandbox.sandbox_uid() if real_root else None, toolchains, private).serve()
    finally:
        os._exit(0)


class Worker:
    def __init__(self, conn: socket.socket, config: ExecutorConfig, containment: Containment, uid: int | None,
                 toolchains: tuple[str, ...], private_tmp: frozenset[str] | None = None) -> None:
        self.conn = conn
        self.config = config
        # cells live in one directory per worker: the Landlock ruleset (built once) lets candidates write there only
        self.cell_root = tempfile.mkdtemp(prefix="coderm-cells-")
        os.chmod(self.cell_root, 0o711)
        self.ruleset: int | None = None
        if private_tmp is None:
            try:
                built = landlock.build_ruleset(self.cell_root, config.site_packages, toolchains)
            except OSError as e:
                built = None
                containment = dataclasses.replace(containment, reason=f"{containment.reason}; Landlock: {e}")
            if built is not None:
                self.ruleset, abi = built
                containment = dataclasses.replace(containment, landlock=abi)
            print(f"coderm executor: candidates run with {containment}", file=sys.stderr)
        self.containment = containment
        self.uid = uid
        os.environ.clear()  # once here, not in every child: a fresh fork pays a page fault per object it touches
        os.environ.update(CHILD_ENVIRONMENT)
        # /tmp is the sandbox's own tmpfs (but for these entries, exposed paths): emptied after every candidate
        self.private_tmp = private_tmp
        self.state = harness.TrustedState()  # taken before any candidate runs; every child inherits it
        self.devnull = os.open(os.devnull, os.O_RDWR)
        self.prepared: OrderedDict[TestSpec, Prepared] = OrderedDict()
        self.programs: OrderedDict[tuple[str, str], Program | str] = OrderedDict()
        self.task_id: int | None = None  # the parent's task being run, while serving
        self.beat_at = 0.0
        self.fastest_probe = float("inf")
        self.probed_at = -PROBE_EVERY
        self.slowdown = 1.0

    def serve(self) -> None:
        wire.send(self.conn, (None, self.containment))  # first message: what this worker could set up
        try:
            while True:
                try:
                    message = wire.recv(self.conn)
                except (EOFError, OSError):
                    return
                if message is None:
                    return
                self.task_id, candidate, entry_point, tests, deadlines, toolchain = message
                cells = self.run_candidate(candidate, entry_point, tests, deadlines, toolchain)
                wire.send(self.conn, (self.task_id, (cells, self.slowdown)))
                self.task_id = None
        finally:
            shutil.rmtree(self.cell_root, ignore_errors=True)

    def heartbeat(self) -> None:
        """A cell finished: tell the parent the task is alive (see executor.pool), without ever blocking."""
        now = time.monotonic()
        if self.task_id is not None and now - self.beat_at >= HEARTBEAT_SECONDS:
            wire.send_if_room(self.conn, (self.task_id, None))
            self.beat_at = now

    def _prepare(self, spec: TestSpec) -> Prepared:
        prep = self.prepared.get(spec)
        if prep is None:
            prep = self.prepared[spec] = prepare(spec)
            if len(self.prepared) > _PREPARED_CACHE:
                self.prepared.popitem(last=False)
        return prep

    def measure_slowdown(self) -> None:
        """How much slower than its best this worker runs a fixed CPU probe now (1 = as fast as ever),
        measured at most every PROBE_EVERY seconds: calibrated deadlines stretch by it."""
        now = time.monotonic()
        if now - self.probed_at < PROBE_EVERY:
            return
        seconds = probe_seconds()
        self.fastest_probe = min(self.fastest_probe, seconds)
        self.slowdown = min(MAX_SLOWDOWN, seconds / self.fastest_probe)
        self.probed_at = time.monotonic()

    def run_candidate(self, candidate: str, entry_point: str | None, tests: list[TestSpec],
                      deadlines: list[float] | None = None, toolchain: Toolchain | None = None) -> list[Cell]:
        """Verdicts of one candidate on ``tests``, in order. stdio/call tests arrive blinded (no expected
        output) and come back PASS with their output when they ran: the parent judges them.
        ``deadlines``: reference seconds per test (calibrated policy), or None for ``timeout`` each.
        ``toolchain``: the candidate is not Python; it is built once and runs its stdio tests only."""
        cfg = self.config
        ceiling: float | None = None  # calibrated: the wall time a test may take while not computing
        if deadlines is None:
            limits = [cfg.timeout] * len(tests)
        else:
            self.measure_slowdown()
            limits = [d * self.slowdown for d in deadlines]
            ceiling = cfg.timeout * self.slowdown
        preps = [self._prepare(t) for t in tests]
        cells: list[Cell | None] = [None] * len(tests)
        for j, prep in enumerate(preps):
            if prep.kind == "invalid":
                cells[j] = (Status.INVALID, 0.0, prep.error, None)
            elif toolchain is not None and prep.kind != "stdio":
                cells[j] = (Status.INVALID, 0.0, f"a {toolchain.language} candidate runs stdio tests only; "
                                                 f"this {prep.kind} test is Python", None)
        if toolchain is None:
            code, error = compile_candidate(candidate)
        elif any(c is None for c in cells):
            code, error = self._program(candidate, toolchain)
        else:
            code, error = None, ""
        pending = [j for j, c in enumerate(cells) if c is None]
        if code is None:
            for j in pending:
                cells[j] = (Status.ERROR, 0.0, error[: cfg.detail_limit], None)
            pending = []
        timeouts = 0
        while pending:
            outcome = self._supervise(code, entry_point, [(j, preps[j]) for j in pending], cells, limits, ceiling)
            pending = [j for j in pending if cells[j] is None]
            if outcome.kind == "finished" or not pending:
                break
            if outcome.kind == "failed":
                _skip(cells, pending, FAIL_FAST_SKIP)
                break
            if outcome.kind in ("load_failed", "tampered"):
                for j in pending:
                    cells[j] = (outcome.status, 0.0, outcome.detail, None)
                break
            # timeout or death while running pending[0]
            seconds = limits[pending[0]] if outcome.kind == "timeout" else 0.0
            cells[pending.pop(0)] = (outcome.status, seconds, outcome.detail, None)
            timeouts += outcome.status == Status.TIMEOUT
            if cfg.fail_fast:
                _skip(cells, pending, FAIL_FAST_SKIP)
                break
            if timeouts >= cfg.max_timeouts:
                _skip(cells, pending, timed_out_skip(timeouts))
                break
        return cells  # type: ignore[return-value]

    def _program(self, source: str, toolchain: Toolchain) -> tuple[Program | None, str]:
        """The built candidate, or None and the compiler's complaint; built once per source, toolchain
        and limits while the worker keeps it (a compile that timed out is tried again next time)."""
        key = (toolchain.key, source)
        built = self.programs.get(key)
        if built is None:
            built, keep = self._compile(source, toolchain)
            if keep:
                self.programs[key] = built
                if len(self.programs) > _PROGRAM_CACHE:
                    self.programs.popitem(last=False)
        else:
            self.programs.move_to_end(key)
        return (built, "") if isinstance(built, Program) else (None, built)

    def _compile(self, source: str, toolchain: Toolchain) -> tuple[Program | str, bool]:
        """Compile in a sandboxed child (the candidates' namespaces, root and uid; the compile limits).
        Returns the Program or the error, and whether the result may be kept."""
        cfg = self.config
        name = toolchain.source_name(source)
        if not toolchain.compile:  # interpreted: the source is the program
            return Program(toolchain.argv(toolchain.run, name, cfg.memory_mb), ((name, source.encode()),),
                           toolchain.memory_markers), True
        tmpdir = tempfile.mkdtemp(prefix="build-", dir=self.cell_root)
        log_path = os.path.join(tmpdir, ".compiler-output")
        try:
            with open(os.path.join(tmpdir, name), "w", encoding="utf-8", errors="surrogatepass") as f:
                f.write(source)
            log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            if self.uid is not None:
                for path in (tmpdir, log_path, os.path.join(tmpdir, name)):
                    os.chown(path, self.uid, self.uid)
            argv = toolchain.argv(toolchain.compile, name, cfg.memory_mb)
            pid = os.fork()
            if pid == 0:
                try:
                    self._enter_child(tmpdir, self.devnull, log, cfg.compile_timeout, cfg.compile_memory_mb)
                    os.execve(argv[0], argv, os.environ)
                except BaseException as e:
                    os.write(2, f"cannot run the compiler: {e}".encode())
                finally:
                    os._exit(127)
            os.close(log)
            ended = _wait(pid, cfg.compile_timeout)
            sandbox.kill_all_but_self(pid)
            with open(log_path, "rb") as f:  # the first error is the one to read
                said = f.read(cfg.detail_limit).decode("utf-8", "replace").strip()
            if ended is None:
                return f"compilation timed out after {cfg.compile_timeout:g}s\n{said}".strip(), False
            if not os.WIFEXITED(ended) or os.WEXITSTATUS(ended) != 0:
                how = (f"killed by signal {os.WTERMSIG(ended)}" if os.WIFSIGNALED(ended)
                       else f"exit status {os.WEXITSTATUS(ended)}")
                return f"compilation failed ({how}):\n{said}"[: cfg.detail_limit], True
            built = sorted(entry.name for entry in os.scandir(tmpdir) if entry.is_file(follow_symlinks=False)
                           and any(fnmatch.fnmatchcase(entry.name, pattern) for pattern in toolchain.outputs))
            files = tuple((name, Path(tmpdir, name).read_bytes()) for name in built)
            if not files:
                return f"compilation left no program\n{said}".strip(), True
            return Program(toolchain.argv(toolchain.run, name, cfg.memory_mb), files, toolchain.memory_markers), True
        finally:
            self._discard(tmpdir)

    def _discard(self, tmpdir: str) -> None:
        """Remove a child's directory, and empty the private /tmp: nothing a child leaves reaches the next."""
        shutil.rmtree(tmpdir, ignore_errors=True)
        if self.private_tmp is not None:
            sandbox.empty_directory("/tmp", self.private_tmp | {os.path.basename(self.cell_root)})

    def _enter_child(self, tmpdir: str, chan_w: int, out_w: int, cpu_seconds: float, memory_mb: int) -> None:
        cfg = self.config
        if self.ruleset is not None:  # first: the dup2s below may reuse the ruleset's descriptor number
            landlock.restrict(self.ruleset)
        os.setsid()
        sandbox.set_parent_death_signal()
        os.dup2(self.devnull, 0)
        os.dup2(out_w, 1)
        os.dup2(out_w, 2)
        os.dup2(chan_w, harness.CHANNEL_FD)
        os.closerange(harness.CHANNEL_FD + 1, 1 << 16)  # the pipe to our parent must not be reachable
        os.chdir(tmpdir)
        os.environ.update(HOME=tmpdir, TMPDIR=tmpdir)  # the rest is the worker's own (CHILD_ENVIRONMENT)
        sandbox.limit_child(memory_mb, cfg.file_size_mb, cfg.open_files, cfg.processes, int(cpu_seconds) + 1)
        if self.uid is not None:
            sandbox.drop_privileges(self.uid)
        sys.stdin = open(0, closefd=False)
        sys.stdout = open(1, "w", closefd=False, encoding="utf-8", errors="replace")
        sys.stderr = open(2, "w", closefd=False, encoding="utf-8", errors="replace")

    def _supervise(self, code: Any, entry_point: str | None, pending: list[tuple[int, Prepared]],
                   cells: list, limits: list[float], ceiling: float | None) -> _Outcome:
        """Run one child over ``pending``; fill ``cells`` for every verdict it reports."""
        cfg = self.config
        token = os.urandom(16).hex()
        tmpdir = tempfile.mkdtemp(prefix="cell-", dir=self.cell_root)
        if self.uid is not None:
            os.chown(tmpdir, self.uid, self.uid)
        if isinstance(code, Program):  # a fresh copy per child: one that changes its files hurts itself only
            for name, data in code.files:
                with open(os.path.join(tmpdir, name), "wb") as f:
                    f.write(data)
                os.chmod(os.path.join(tmpdir, name), 0o555)
        chan_r, chan_w = os.pipe()
        out_r, out_w = os.pipe()
        modules = harness.executor_modules()
        gc.freeze()
        pid = os.fork()
        if pid == 0:
            try:
                cpu = cfg.load_timeout + sum(limits[j] for j, _ in pending) + cfg.timeout
                self._enter_child(tmpdir, chan_w, out_w, cpu, cfg.memory_mb)
                harness.child_main(token, code, entry_point, pending, cfg.isolation == "test",
                                   cfg.detail_limit, cfg.output_limit, self.state, modules, cfg.fail_fast)
            finally:
                os._exit(70)
        os.close(chan_w)
        os.close(out_w)
        pidfd = os.pidfd_open(pid)
        try:
            return _Supervision(cfg, token.encode(), pending, cells, limits, ceiling, 0.5 / self.slowdown,
                                self.heartbeat).watch(pid, pidfd, chan_r, out_r)
        finally:
            sandbox.kill_all_but_self(pid)
            for fd in (pidfd, chan_r, out_r):
                os.close(fd)
            self._discard(tmpdir)


class _Supervision:
    """The parent side of one child: reads verdicts and output, enforces deadlines."""

    def __init__(self, cfg: ExecutorConfig, token: bytes, pending: list[tuple[int, Prepared]], cells: list,
                 limits: list[float], ceiling: float | None, busy_share: float,
                 on_verdict: Callable[[], None]) -> None:
        self.cfg, self.token, self.pending, self.cells, self.on_verdict = cfg, token, pending, cells, on_verdict
        self.limits = limits  # seconds per test, by test index
        self.ceiling = ceiling  # calibrated deadlines: the wall time a test may take while not computing
        self.busy_share = busy_share  # CPU per wall second above which a test counts as computing
        self.test_started = 0.0
        self.test_cpu: float | None = None  # the child's CPU seconds when the test started (None: unreadable)
        self.cpu_clock = 0  # the child's process CPU clock (set in watch)
        self.cpu_mark: tuple[float, float] | None = None  # (CPU seconds, when) at the first overrun of a test
        self.deadline = 0.0  # when the test running now (or the load) overruns
        self.resume = 0.0  # while verdicts flow, when the channel is watched again (0: it is watched)
        self.next = 0  # index into pending of the next verdict expected
        self.loaded = False
        self.buffer = bytearray()
        # an honest line is at most the output and detail limits, JSON-escaped (<= 12 bytes a character)
        self.line_limit = 12 * (cfg.output_limit + cfg.detail_limit) + 4096
        # a rolling tail, not cleared per test: several verdicts can arrive with one read of the
        # output pipe, so output cannot be split between them reliably
        self.output_tail = bytearray()

    def watch(self, pid: int, pidfd: int, chan_r: int, out_r: int) -> _Outcome:
        cfg = self.cfg
        os.set_blocking(chan_r, False)
        os.set_blocking(out_r, False)
        selector = selectors.DefaultSelector()
        for fd in (chan_r, out_r, pidfd):
            selector.register(fd, selectors.EVENT_READ)
        self.cpu_clock = process_cpu_clock(pid)
        self.deadline = time.monotonic() + cfg.load_timeout
        try:
            while True:
                now = time.monotonic()
                # the channel is read again after CHANNEL_BATCH, and before any deadline passes on an unread verdict
                if self.resume and (now >= self.resume or now >= self.deadline):
                    selector.register(chan_r, selectors.EVENT_READ)
                    self.resume = 0.0
                    outcome = self._take_verdicts(chan_r, out_r, selector)
                    if outcome:
                        return outcome
                remaining = self.deadline - time.monotonic()
                if remaining <= 0:
                    if not self.loaded:
                        return _Outcome("load_failed", Status.TIMEOUT,
                                        f"candidate did not load within {cfg.load_timeout}s")
                    limit = self.limits[self.pending[self.next][0]]
                    more = self._grace(pid, limit)
                    if more is not None:
                        self.deadline = time.monotonic() + more
                        continue
                    return _Outcome("timeout", Status.TIMEOUT, self._with_output(f"timed out after {limit:.3g}s"))
                for key, _ in selector.select(min(remaining, self.resume - now) if self.resume else remaining):
                    if key.fd == out_r:
                        self._drain_output(out_r, selector)
                    elif key.fd == chan_r:
                        outcome = self._take_verdicts(chan_r, out_r, selector)
                        if outcome:
                            return outcome
                    else:
                        _, status = os.waitpid(pid, 0)
                        return self._read_channel(chan_r, out_r, selector) or self._death(status)
        finally:
            selector.close()

    def _take_verdicts(self, chan_r: int, out_r: int, selector: selectors.BaseSelector) -> _Outcome | None:
        """Read what the channel holds; an outcome when the child is done or lied. Only a verdict buys
        more time: it starts the next test's clock (read up to CHANNEL_BATCH late, a test gets that much
        more time, never less) and, unless a message is half read, leaves the channel unwatched for
        CHANNEL_BATCH."""
        before = (self.loaded, self.next)
        outcome = self._read_channel(chan_r, out_r, selector)
        if outcome or (self.loaded, self.next) == before:
            return outcome
        self.test_started = time.monotonic()
        if self.ceiling is not None:  # only calibrated deadlines read it (_grace)
            self.test_cpu = cpu_seconds(self.cpu_clock)
        self.cpu_mark = None
        self.on_verdict()
        self.deadline = self.test_started + self.limits[self.pending[self.next][0]]
        if not self.buffer and chan_r in selector.get_map():
            selector.unregister(chan_r)
            self.resume = self.test_started + CHANNEL_BATCH
        return None

    def _grace(self, pid: int, limit: float) -> float | None:
        """More seconds for a test that overran a calibrated deadline without computing, else None.

        A calibrated deadline is a small multiple of the peers' times, so a stall of the host (the
        child not scheduled) could exceed it: a wall clock alone would turn correct code into TIMEOUT
        on a busy machine. At the first overrun the candidate gets one more ``limit`` while its
        processes' CPU time is measured; it is cut when it computed for at least half of that, or
        when the test reached the ceiling (a sleeper waits as under the fixed policy). "Half" is half of
        what a process gets on this host now: a worker slowed down 3 times counts a sixth as computing.
        A child that computed for that share of the whole test so far (its own CPU clock, in ns) is cut
        at the first overrun: a looper costs one deadline, not two."""
        now = time.monotonic()
        if self.ceiling is None or now - self.test_started >= self.ceiling:
            return None
        if self.cpu_mark is None and self.test_cpu is not None:
            used = cpu_seconds(self.cpu_clock)
            if used is not None and used - self.test_cpu >= self.busy_share * (now - self.test_started):
                return None
        cpu = session_cpu_seconds(pid)
        if cpu is None:  # no /proc to read: the wall clock decides
            return None
        if self.cpu_mark is not None and cpu - self.cpu_mark[0] >= self.busy_share * (now - self.cpu_mark[1]):
            return None
        self.cpu_mark = (cpu, now)
        return max(0.0, min(limit, self.test_started + self.ceiling - now))

    def _drain_output(self, fd: int, selector: selectors.BaseSelector) -> None:
        """Keep a tail of what the child printed. A bounded amount per call: a child that prints without
        end must not keep the worker from its deadlines (the selector calls again)."""
        limit = self.cfg.detail_limit
        for _ in range(_DRAIN_READS):
            try:
                data = os.read(fd, 1 << 16)
            except BlockingIOError:
                return
            if not data:
                _forget(selector, fd)
                return
            self.output_tail += data
            if len(self.output_tail) > limit:
                del self.output_tail[:-limit]

    def _with_output(self, detail: str) -> str:
        if self.output_tail:
            detail += "\n--- output tail ---\n" + self.output_tail.decode("utf-8", "replace")
        return detail[-self.cfg.detail_limit * 2:]

    def _read_channel(self, chan_r: int, out_r: int, selector: selectors.BaseSelector) -> _Outcome | None:
        """Consume every complete message; an outcome when the child is done or lied."""
        while len(self.buffer) <= self.line_limit:  # the selector calls again for the rest
            try:
                data = os.read(chan_r, 1 << 20)
            except BlockingIOError:
                break
            if not data:
                _forget(selector, chan_r)
                break
            self.buffer += data
        *lines, self.buffer = self.buffer.split(b"\n")
        if len(self.buffer) > self.line_limit:  # no newline in sight: a forged line, and memory to bound
            return _TAMPERED
        if lines and out_r in selector.get_map():
            self._drain_output(out_r, selector)
        for line in lines:
            outcome = self._handle(line)
            if outcome:
                return outcome
        return None

    def _handle(self, line: bytes) -> _Outcome | None:
        """One channel line (see harness._message); anything malformed or out of order is tampering."""
        try:
            token, kind, j, status, seconds, *payload = line.split(b" ", 5)
            j, status, seconds = int(j), int(status), float(seconds)
            detail, output = json.loads(payload[0]) if payload else ("", None)
            if token != self.token or kind not in (b"L", b"R") or not isinstance(detail, str) \
                    or not (output is None or isinstance(output, str)):
                return _TAMPERED
        except ValueError:
            return _TAMPERED
        if kind == b"L":
            if self.loaded:
                return _TAMPERED
            self.loaded = True
            if status != harness.LOADED:
                return _Outcome("load_failed", _status(status), self._with_output(detail))
            return None
        if not self.loaded or self.next >= len(self.pending) or j != self.pending[self.next][0]:
            return _TAMPERED
        status = _status(status)
        if status != Status.PASS:
            detail = self._with_output(detail)
        self.cells[j] = (status, seconds, detail, output)
        self.next += 1
        if self.next == len(self.pending):
            return _Outcome("finished")
        return _Outcome("failed") if self.cfg.fail_fast and status != Status.PASS else None

    def _death(self, wait_status: int) -> _Outcome:
        where = "while loading the candidate" if not self.loaded else "during the test"
        if os.WIFSIGNALED(wait_status):
            sig = os.WTERMSIG(wait_status)
            status = Status.TIMEOUT if sig == signal.SIGXCPU else Status.CRASH
            detail = f"killed by {signal.Signals(sig).name} {where}" if sig in signal.valid_signals() else f"signal {sig}"
        else:
            status = Status.ERROR
            detail = f"process exited with status {os.WEXITSTATUS(wait_status)} {where} before any verdict"
        kind = "died" if self.loaded else "load_failed"
        return _Outcome(kind, status, self._with_output(detail))


def _wait(pid: int, seconds: float) -> int | None:
    """The wait status of child ``pid``, or None when it is still running after ``seconds``."""
    pidfd = os.pidfd_open(pid)
    try:
        if not select.select([pidfd], [], [], seconds)[0]:
            return None
        return os.waitpid(pid, 0)[1]
    finally:
        os.close(pidfd)


def process_cpu_clock(pid: int) -> int:
    """The clock id of a process's CPU time (Linux: all its threads, in ns; not its children)."""
    return ((~pid) << 3) | 2  # MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED), what clock_getcpuclockid returns


def cpu_seconds(clock: int) -> float | None:
    """CPU seconds on ``clock``; None once the process is gone."""
    try:
        return time.clock_gettime_ns(clock) / 1e9
    except OSError:
        return None


def session_cpu_seconds(session: int) -> float | None:
    """CPU seconds used so far by the processes of a candidate's session (the child calls setsid),
    reaped children included; None when /proc cannot be read."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    try:
        names = os.listdir("/proc")
    except OSError:
        return None
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[3]) == session:  # fields from state on: session is the 6th of stat
            total += sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    return total / tick


def probe_seconds() -> float:
    """Wall seconds a fixed pure-Python loop takes now: the worker's measure of how busy the host is."""
    start = time.perf_counter()
    total = 0
    for i in range(_PROBE_LOOPS):
        total += i
    return time.perf_counter() - start


def timed_out_skip(timeouts: int) -> str:
    """Why a candidate's remaining tests did not run once it reached ``max_timeouts``."""
    return f"not run: candidate already timed out {timeouts} times"


def _skip(cells: list, pending: list[int], detail: str) -> None:
    """Mark the tests a candidate will not run as SKIPPED, saying why."""
    for j in pending:
        cells[j] = (Status.SKIPPED, 0.0, detail, None)


def _forget(selector: selectors.BaseSelector, fd: int) -> None:
    """Stop watching a pipe that reached EOF (it may be read again after the child's death)."""
    if fd in selector.get_map():
        selector.unregister(fd)


def _status(value: Any) -> int:
    """A status reported by the child; anything that is not a known status is a CRASH."""
    return int(value) if isinstance(value, int) and value in Status._value2member_map_ else Status.CRASH
