"""Landlock: the file, TCP and signal fence for workers that got no private root.

Namespaces need privileges many containers withhold; Landlock (Linux >= 5.13) needs none. A
ruleset built once per worker lets a candidate read and execute what the private root would show
(the interpreter, the standard library, system libraries, a few /dev nodes), do anything under the
worker's cell directory, and nothing else on the filesystem. Where the kernel's Landlock ABI covers
them, TCP bind/connect (ABI 4) and signals or abstract unix sockets aimed outside the candidate's
own processes (ABI 6) are refused too. Rules only ever allow, and they allow whole trees, so a
site-packages directory inside an exposed path is left out by granting its siblings one by one.
"""
from __future__ import annotations

import ctypes
import os

from executor import sandbox

_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446  # the same on every architecture
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_V1 = (1 << 13) - 1  # execute ... make_sym
_FS_BY_ABI = {2: 1 << 13, 3: 1 << 14, 5: 1 << 15}  # refer, truncate, ioctl_dev
_FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | (1 << 14) | (1 << 15)  # rights a rule on a file may carry
_NET_TCP = (1 << 0) | (1 << 1)  # bind, connect (ABI 4)
_SCOPES = (1 << 0) | (1 << 1)  # abstract unix sockets, signals (ABI 6)
_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


sandbox.libc.syscall.restype = ctypes.c_long  # negative errors, and the ruleset fd


def _syscall(number: int, *args: object) -> int:
    return sandbox.libc.syscall(number, *args)


def abi_version() -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is missing or disabled."""
    version = _syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(0, version)


def build_ruleset(writable: str, site_packages: bool, toolchains: tuple[str, ...] = ()) -> tuple[int, int] | None:
    """(ruleset fd, ABI) fencing a candidate into ``writable`` plus read-only system paths; None
    without Landlock. Built once per worker; ``restrict`` applies it in each child."""
    abi = abi_version()
    if abi < 1:
        return None
    fs = _FS_V1
    for version, right in _FS_BY_ABI.items():
        if abi >= version:
            fs |= right
    attr = _RulesetAttr(fs, _NET_TCP if abi >= 4 else 0, _SCOPES if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = _syscall(_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"landlock_create_ruleset: {os.strerror(err)}")
    try:
        for path in _readable(site_packages, toolchains):
            _allow(ruleset, path, EXECUTE | READ_FILE | READ_DIR)
        for device in _DEVICES:
            if os.path.exists(device):
                _allow(ruleset, device, READ_FILE | WRITE_FILE)
        _allow(ruleset, writable, fs)
    except OSError:
        os.close(ruleset)
        raise
    return ruleset, abi


def restrict(ruleset: int) -> None:
    """Enter the ruleset's domain for good (this process and everything it starts)."""
    sandbox.libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    sandbox.check(_syscall(_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)), "landlock_restrict_self")


def _allow(ruleset: int, path: str, access: int) -> None:
    if not os.path.isdir(path):
        access &= _FILE_ONLY
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        rule = _PathBeneathAttr(access, fd)
        sandbox.check(_syscall(_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH),
                               ctypes.byref(rule), ctypes.c_uint32(0)), f"landlock_add_rule {path}")
    finally:
        os.close(fd)


def _readable(site_packages: bool, toolchains: tuple[str, ...]) -> list[str]:
    """The paths the private root would expose, minus third-party packages unless ``site_packages``."""
    hidden = set() if site_packages else sandbox.site_packages_dirs()

    def grant(path: str) -> list[str]:
        if path in hidden:
            return []
        if not any(h.startswith(path.rstrip("/") + "/") for h in hidden):
            return [path]
        return [p for entry in os.scandir(path) for p in grant(entry.path)]

    return [p for path in sandbox.exposed_paths(site_packages, toolchains) for p in grant(path)]
