"""The in-child test harness: exec the candidate once, run its tests, report every verdict.

Runs inside the sandboxed child forked by the worker. Verdicts travel over the result channel
(fd ``CHANNEL_FD``), opened by the worker before any untrusted code runs; each message carries
a per-child random token the candidate does not know. Everything the harness relies on is bound
here at import time (before the candidate runs); the state tests rely on (builtins, the harness and
its guards; unittest around the tests that can reach it) is snapshotted and checked after every test
(executor.guards): a candidate that swaps it gets FAIL with a "tampering" detail instead of a PASS.
"""
from __future__ import annotations

import builtins
import json
import os
import sys
import time
import traceback
import unittest
import unittest.case
import unittest.loader
import unittest.result
import unittest.suite
from types import FunctionType
from typing import Any

from executor import guards
from executor.guards import CANDIDATE_MODULE, HELPERS, BuiltinsWatch, Snapshot, Tampering, guard_returns
from executor.languages import Program
from executor.prepare import CANDIDATE_FILENAME, TEST_FILENAME, Prepared, code_names
from executor.status import Status

CHANNEL_FD = 3
LOADED = -1  # status value of a successful "L" (candidate loaded) message
SOLUTION_CLASS = "Solution"  # LeetCode programs define the entry point as a method of this class

# Bound before untrusted code runs: module attributes can be swapped, these references cannot.
_encode = json.encoder.encode_basestring_ascii
_dumps = json.dumps
_loads = json.loads
_write = os.write
_fork = os.fork
_getpid = os.getpid
_waitpid = os.waitpid
_exit = os._exit
_clock = time.perf_counter
_TestCase = unittest.case.TestCase
_TestLoader = unittest.loader.TestLoader
_TestSuite = unittest.suite.TestSuite
_TestResult = unittest.result.TestResult
_isinstance, _issubclass, _type, _len, _any, _getattr = isinstance, issubclass, type, len, any, getattr

_harness_pid = [0]  # set by child_main: the only process allowed to report


def _send(message: str) -> None:
    if _getpid() != _harness_pid[0]:  # a fork of the candidate that returned into the harness loop
        _exit(0)
    data = (message + "\n").encode()
    while data:
        data = data[_write(CHANNEL_FD, data):]


def _flush_std() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def _short(text: str, limit: int) -> str:
    return text if _len(text) <= limit else "..." + text[-limit:]


def _describe(exc: BaseException, limit: int) -> str:
    """Exception type, message and the failing test line (the part of a traceback worth keeping)."""
    line = ""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename in (TEST_FILENAME, CANDIDATE_FILENAME):
            line = f" (line {tb.tb_lineno} of {tb.tb_frame.f_code.co_filename})"
        tb = tb.tb_next
    try:
        text = f"{_type(exc).__name__}: {exc}"
    except BaseException:
        text = _type(exc).__name__
    return _short(text + line, limit)


def _status_of(exc: BaseException) -> int:
    if _isinstance(exc, (AssertionError, Tampering)):
        return Status.FAIL
    if _isinstance(exc, MemoryError):
        return Status.MEMORY
    return Status.ERROR


class _CountingResult(_TestResult):
    """A TestResult owned by the harness: successes are counted, not inferred."""

    def __init__(self) -> None:
        super().__init__()
        self.successes = 0

    def addSuccess(self, test) -> None:  # noqa: N802 - unittest's name
        self.successes += 1


def _run_unittest(env: dict, prep: Prepared, limit: int) -> tuple[int, str]:
    loader, suite, result = _TestLoader(), _TestSuite(), _CountingResult()
    for name in prep.class_names:
        cls = env.get(name)
        if not (_isinstance(cls, _type) and _issubclass(cls, _TestCase)):
            return Status.FAIL, f"tampering: test class {name} is not a unittest.TestCase"
        suite.addTests(loader.loadTestsFromTestCase(cls))
    suite.run(result)
    problems = result.failures + result.errors
    if result.successes == prep.n_methods == result.testsRun and not (
        problems or result.skipped or result.expectedFailures or result.unexpectedSuccesses
    ):
        return Status.PASS, ""
    if problems:
        text = problems[0][1].strip().splitlines()
        if result.failures:
            status = Status.FAIL
        else:  # the runner formats errors; MemoryError is still a memory verdict
            status = Status.MEMORY if text and text[-1].startswith("MemoryError") else Status.ERROR
        return status, _short("\n".join(text[-3:]), limit)
    return Status.FAIL, (
        f"{result.successes} of {prep.n_methods} test methods passed "
        f"(ran {result.testsRun}, skipped {_len(result.skipped)})"
    )


def _test_view(ns: dict) -> dict:
    """The namespace tests run in: the candidate's names, its functions behind return guards, and the
    comparison guard the rewritten test code calls."""
    view = dict(ns)
    for name, value in ns.items():
        if _isinstance(value, FunctionType) and value.__code__.co_filename == CANDIDATE_FILENAME:
            view[name] = guard_returns(value)
    view.update(HELPERS)
    return view


def _run_code(prep: Prepared, view: dict, entry_point: str | None, limit: int) -> tuple[int, str]:
    env = dict(view)
    try:
        exec(prep.code, env)
        if prep.kind == "check":
            if not entry_point or entry_point not in view:
                return Status.ERROR, f"candidate does not define {entry_point!r}"
            env["check"](view[entry_point])
        elif prep.kind == "unittest":
            return _run_unittest(env, prep, limit)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt too: never a PASS
        return _status_of(exc), _describe(exc, limit)
    return Status.PASS, ""


def _jsonable(value: Any) -> Any:
    """Encode values JSON lacks so that call outputs compare structurally in the parent."""
    if _isinstance(value, (set, frozenset)):
        return {"__set__": sorted((_dumps(v, default=_jsonable, sort_keys=True) for v in value))}
    if _isinstance(value, complex):
        return {"__complex__": [value.real, value.imag]}
    if _isinstance(value, bytes):
        return {"__bytes__": value.hex()}
    raise TypeError(f"return value of type {_type(value).__name__} cannot be compared")


def _run_call(prep: Prepared, ns: dict, entry_point: str | None, limit: int,
              output_limit: int) -> tuple[int, str, str | None]:
    """The returned value as JSON, cut (and so unequal to any expectation) past ``output_limit``
    like a stdio output: a huge value must not flood the channel or the parent's memory. The callee
    is the candidate's ``entry_point``, or else that method of a fresh ``Solution()`` (LeetCode)."""
    fn = ns.get(entry_point) if entry_point else None
    solution = ns.get(SOLUTION_CLASS)
    method = not callable(fn) and _isinstance(solution, _type) and callable(_getattr(solution, entry_point or "", None))
    if not callable(fn) and not method:
        return Status.ERROR, f"candidate does not define {entry_point!r}", None
    try:
        if method:  # LeetCode style: Solution().entry_point(...), on a fresh instance per call
            fn = _getattr(solution(), entry_point)
        value = fn(*_loads(prep.spec.args_json), **_loads(prep.spec.kwargs_json))
        return Status.PASS, "", _dumps(value, default=_jsonable, sort_keys=True)[:output_limit + 1]
    except BaseException as exc:
        return _status_of(exc), _describe(exc, limit), None


def _run_stdio(code: Any, prep: Prepared, j: int, output_limit: int, detail_limit: int) -> tuple[int, str, str | None]:
    """Run the program once in a forked child with the test's input; return its stdout. ``code`` is
    the candidate's code object, or a built ``Program`` in another language, exec'd in the child."""
    in_path, out_path, err_path = f".in{j}", f".out{j}", f".err{j}"
    with open(in_path, "w") as f:
        f.write(prep.spec.input)
    if _isinstance(code, Program):
        return _run_program(code, in_path, out_path, err_path, output_limit, detail_limit)
    pid = _fork_or_none()
    if pid is None:
        return Status.CRASH, "fork failed: process limit reached", None
    if pid == 0:
        code_ = 70
        try:
            os.dup2(os.open(in_path, os.O_RDONLY), 0)
            os.dup2(os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
            sys.stdin = open(0, closefd=False)
            sys.stdout = open(1, "w", closefd=False)
            try:
                exec(code, {"__name__": "__main__", "__builtins__": builtins})
                code_ = 0
            except SystemExit as e:
                code_ = 0 if e.code in (None, 0) else 1
                if not _isinstance(e.code, int):
                    print(e.code, file=sys.stderr)
            except MemoryError:
                code_ = 4
            except BaseException:
                traceback.print_exc(limit=-3)
                code_ = 3
            _flush_std()
        finally:
            _exit(code_)
    _, status = _waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return Status.CRASH, f"program killed by signal {os.WTERMSIG(status)}", None
    exit_code = os.WEXITSTATUS(status)
    if exit_code == 4:
        return Status.MEMORY, "MemoryError", None
    if exit_code != 0:
        return Status.ERROR, "uncaught exception" if exit_code == 3 else f"exit status {exit_code}", None
    with open(out_path, "rb") as f:
        out = f.read(output_limit + 1)
    return Status.PASS, "", out.decode("utf-8", "replace")


def _run_program(program: Program, in_path: str, out_path: str, err_path: str, output_limit: int,
                 detail_limit: int) -> tuple[int, str, str | None]:
    """Run a built program (another language) on one input; its stdout, or why it failed. Spawned,
    not forked: copying this interpreter's memory for each test would cost more than the test."""
    try:
        pid = os.posix_spawn(program.argv[0], program.argv, os.environ, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, in_path, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
            (os.POSIX_SPAWN_OPEN, 2, err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
            (os.POSIX_SPAWN_CLOSE, CHANNEL_FD),  # the program never holds the result channel
        ])
    except OSError as e:
        return Status.CRASH, f"the program could not start: {e}", None
    _, status = _waitpid(pid, 0)
    if status != 0:
        return _program_failed(program, status, err_path, detail_limit)
    with open(out_path, "rb") as f:
        out = f.read(output_limit + 1)
    return Status.PASS, "", out.decode("utf-8", "replace")


def _program_failed(program: Program, status: int, err_path: str, limit: int) -> tuple[int, str, None]:
    """The verdict of a built program that did not exit 0: MEMORY when its stderr says it ran out."""
    with open(err_path, "rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - limit))
        said = f.read().decode("utf-8", "replace").strip()
    how = f"program killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else \
        f"exit status {os.WEXITSTATUS(status)}"
    detail = _short(f"{how}\n{said}".strip(), limit)
    if _any(marker in said for marker in program.memory_markers):
        return Status.MEMORY, detail, None
    return (Status.CRASH if os.WIFSIGNALED(status) else Status.ERROR), detail, None


def _message(token: str, kind: str, j: int, status: int, seconds: float = 0.0, detail: str = "",
             output: str | None = None) -> str:
    """One channel line: ``TOKEN KIND J STATUS SECONDS [JSON [detail, output]]``.

    Space-separated fields keep the common case (a PASS with nothing to say) cheap to parse.
    """
    msg = f"{token} {kind} {j} {int(status)} {seconds:.6f}"
    if detail or output is not None:
        msg += f" [{_encode(detail)},{'null' if output is None else _encode(output)}]"
    return msg


def run_one(candidate: Any, prep: Prepared, j: int, ns: dict, view: dict, entry_point: str | None,
            detail_limit: int, output_limit: int) -> tuple[int, str, str | None]:
    """Run test ``j`` in this process; the verdict (status, detail, output)."""
    if prep.kind == "stdio":
        return _run_stdio(candidate, prep, j, output_limit, detail_limit)
    if prep.kind == "call":
        return _run_call(prep, ns, entry_point, detail_limit, output_limit)
    status, detail = _run_code(prep, view, entry_point, detail_limit)
    return status, detail, None


class TrustedState:
    """What tests rely on, captured once in the worker before any candidate runs.

    After the candidate loads, builtins are restored whole. Around each test, the builtins its code
    looks up (and those the harness itself uses) must be untouched; unittest's modules and classes
    are restored before and checked after the tests that can reach them (``Prepared.uses_unittest``).
    The harness modules themselves are removed from sys.modules before the candidate runs.
    """

    def __init__(self) -> None:
        self.loaded = Snapshot(builtins, _CountingResult)
        self.unit = Snapshot(unittest, unittest.case, unittest.loader, unittest.suite, unittest.result,
                             _TestCase, _TestLoader, _TestSuite, _TestResult)
        self.builtins = BuiltinsWatch()
        self.harness_names = frozenset().union(*(
            code_names(f.__code__) for module in (sys.modules[__name__], guards)
            for f in vars(module).values() if _isinstance(f, FunctionType)
        )) & frozenset(vars(builtins))

    def reset(self) -> None:
        """After the candidate loaded. unittest is restored before each test that may use it (``before``),
        not here: touching its many objects in a fresh fork costs more than a dozen fast tests."""
        self.loaded.restore_and_diff()

    def before(self, prep: Prepared) -> None:
        if prep.uses_unittest:
            self.unit.restore_and_diff()

    def checked(self, prep: Prepared, verdict: tuple[int, str, str | None], limit: int) -> tuple[int, str, str | None]:
        """A verdict reached while trusted state was swapped is a FAIL that says so (the state is restored)."""
        changed = self.builtins.changes(self.harness_names | prep.names)
        if prep.uses_unittest:
            changed += self.unit.restore_and_diff()
        if changed:
            return Status.FAIL, _short("tampering: " + ", ".join(changed[:5]), limit), None
        return verdict


def _fork_or_none() -> int | None:
    """fork(), or None when the process limit refuses it (reported as a CRASH of the cell)."""
    try:
        return _fork()
    except OSError:
        return None


def _isolated(token: str, state: TrustedState, limit: int, *args: Any) -> tuple[int, str, str | None]:
    """``run_one`` in a forked grandchild (per-test isolation). Its verdict comes back over a pipe,
    prefixed with the channel token and checked for tampering inside the grandchild itself."""
    r, w = os.pipe()
    pid = _fork_or_none()
    if pid is None:
        os.close(r)
        os.close(w)
        return Status.CRASH, "fork failed: process limit reached", None
    if pid == 0:
        try:
            os.close(r)
            verdict = state.checked(args[1], run_one(*args), limit)
            data = (token + _dumps([int(verdict[0]), verdict[1], verdict[2]])).encode()
            while data:
                data = data[_write(w, data):]
            _flush_std()
        finally:
            _exit(0)
    os.close(w)
    chunks = []
    while chunk := os.read(r, 1 << 16):
        chunks.append(chunk)
    os.close(r)
    _, wstatus = _waitpid(pid, 0)
    data = b"".join(chunks).decode("utf-8", "replace")
    if data.startswith(token):
        try:
            status, detail, output = _loads(data[_len(token):])
            return int(status), str(detail), output if output is None else str(output)
        except (ValueError, TypeError):
            pass
    if data:
        return Status.CRASH, "result pipe tampered with: verdict discarded", None
    if os.WIFSIGNALED(wstatus):
        return Status.CRASH, f"killed by signal {os.WTERMSIG(wstatus)}", None
    return Status.ERROR, f"process exited with status {os.WEXITSTATUS(wstatus)} during the test", None


_listed: tuple[int, list[str]] = (-1, [])


def executor_modules() -> list[str]:
    """The executor's modules in ``sys.modules``: listed by the worker before it forks a child, since in
    a fresh fork every object touched costs a copy-on-write page fault. Listed again only when
    ``sys.modules`` changed size: walking its names touches each one, and so costs the worker a
    page fault per name after every fork (a worker only adds modules, never removes one)."""
    global _listed
    if _listed[0] != len(sys.modules):
        _listed = (len(sys.modules), [name for name in sys.modules if name == "executor" or name.startswith("executor.")])
    return _listed[1]


def child_main(token: str, candidate: Any, entry_point: str | None, pending: list[tuple[int, Prepared]],
               isolate: bool, detail_limit: int, output_limit: int, state: TrustedState,
               own_modules: list[str], fail_fast: bool = False) -> None:
    """Body of the sandboxed child. Never returns: ends in ``os._exit``. ``own_modules``: what
    ``executor_modules`` listed. With ``fail_fast`` it stops after its first verdict that is not a
    PASS (the worker would stop it there anyway, but reads the channel only every
    ``worker.CHANNEL_BATCH`` seconds)."""
    try:
        _harness_pid[0] = _getpid()
        for name in own_modules:
            del sys.modules[name]  # the harness is not importable by name from candidate code
        ns: dict = {"__name__": CANDIDATE_MODULE, "__builtins__": builtins}
        if _any(p.kind != "stdio" for _, p in pending):
            try:
                exec(candidate, ns)
            except BaseException as exc:
                _flush_std()
                _send(_message(token, "L", -1, _status_of(exc), detail=_describe(exc, detail_limit)))
                return
        _flush_std()
        _send(_message(token, "L", -1, LOADED))
        state.reset()  # undo what the candidate changed while loading
        view = _test_view(ns)
        for j, prep in pending:
            start = _clock()
            state.before(prep)
            args = (candidate, prep, j, ns, view, entry_point, detail_limit, output_limit)
            if isolate and prep.kind != "stdio":
                verdict = _isolated(token, state, detail_limit, *args)
            else:
                verdict = state.checked(prep, run_one(*args), detail_limit)
            seconds = _clock() - start
            _flush_std()
            _send(_message(token, "R", j, verdict[0], seconds, verdict[1], verdict[2]))
            if fail_fast and verdict[0] != Status.PASS:
                break
    finally:
        _flush_std()
        _exit(0)
