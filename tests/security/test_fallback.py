"""Containment without namespaces (a kernel or container that refuses unshare).

The workers then fall back to process groups, a subreaper and (as root) an unprivileged uid per
worker, and fence candidates with Landlock where the kernel has it. Processes must stay contained:
no loop outlives its deadline, no setsid grandchild or fork bomb survives the run, and kill of the
parent, the group or everything (kill -1) leaves pytest and the honest candidate alone. With
Landlock (ABI >= 6) the file, socket and /tmp attacks of ``test_containment`` must fail here too;
a C++ fork bomb and a C++ program reading and writing outside its cell as well (``test_compiled``).
The fallback is forced with ``ExecutorConfig(namespaces=False)``, the path a kernel that refuses
``unshare`` takes.
"""
from __future__ import annotations

import inspect
import os
import subprocess
from typing import Iterator

import pytest

import test_compiled as compiled
import test_containment as contained
from adversary import Sandbox, open_sandbox
from executor import landlock

LANDLOCK = landlock.abi_version()
needs_landlock = pytest.mark.skipif(LANDLOCK < 6, reason=f"the kernel's Landlock ABI is {LANDLOCK}; "
                                                          "files, TCP and signals need 6")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with open_sandbox(namespaces=False) as box:
        assert box.idle_depth == 0, "workers entered namespaces although they were disabled"
        assert box.ex.containment.level == "process-groups", box.ex.containment
        yield box


PROCESS_ATTACKS = [  # contained by process groups, a subreaper and deadlines alone
    contained.test_loop_catching_every_exception_times_out,
    contained.test_fork_bomb_is_contained,
    contained.test_setsid_grandchild_does_not_outlive_the_run,
    contained.test_killing_parent_group_and_everything,
    compiled.test_cpp_fork_bomb_and_setsid_grandchild_are_contained,
]
FENCED_ATTACKS = [  # contained by the private root with namespaces, by Landlock without
    contained.test_files_outside_the_temp_dir_are_out_of_reach,
    contained.test_repository_and_home_are_not_readable,
    contained.test_files_do_not_survive_into_the_next_candidate,
    contained.test_no_connection_reaches_a_local_listener,
    compiled.test_cpp_cannot_read_or_write_outside_its_cell,
]


@pytest.mark.parametrize("attack_test", [  # each keeps its own marks (a compiled one needs its toolchain)
    *(pytest.param(t, marks=getattr(t, "pytestmark", [])) for t in PROCESS_ATTACKS),
    *(pytest.param(t, marks=[needs_landlock, *getattr(t, "pytestmark", [])]) for t in FENCED_ATTACKS)],
    ids=lambda test: test.__name__.removeprefix("test_"))
def test_containment_attacks_fail_without_namespaces(attack_test, sandbox, request, tmp_path):
    """A test of ``test_containment``, run against this module's executor (no namespaces)."""
    fixtures = {"attack": sandbox.attack, "sandbox": sandbox, "request": request, "tmp_path": tmp_path}
    attack_test(**{name: fixtures[name] for name in inspect.signature(attack_test).parameters})


@needs_landlock
def test_workers_report_the_landlock_fence(sandbox):
    assert sandbox.ex.containment.landlock == LANDLOCK, sandbox.ex.containment


@needs_landlock
def test_landlock_signal_scope_covers_processes_of_the_same_uid(tmp_path):
    """Without a pid namespace only Landlock's scope keeps kill(pid) from the caller's own processes
    (as root, candidates also run as another uid; this checks the scope on its own)."""
    victim = subprocess.Popen(["sleep", "60"])
    ruleset, _ = landlock.build_ruleset(str(tmp_path), site_packages=False)
    try:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                landlock.restrict(ruleset)
                os.kill(victim.pid, 9)
            except PermissionError:
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert victim.poll() is None and os.waitstatus_to_exitcode(status) == 0, \
            "a Landlock-restricted process signalled a process outside its domain"
    finally:
        os.close(ruleset)
        victim.kill()
        victim.wait()
