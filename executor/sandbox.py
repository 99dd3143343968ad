"""Linux containment primitives: namespaces, a minimal read-only root, limits, process cleanup.

The worker calls ``enter_namespaces`` once at start: a new pid namespace (the worker's inner
process is its init, so ``kill(-1)`` ends every process a candidate left behind, setsid
grandchildren included, and nothing inside can signal the outside), a network namespace with no
interfaces up, and a mount namespace whose root holds only the interpreter, system libraries and
a private tmpfs. Children then drop to an unprivileged uid and get rlimits. Each layer is used when
the kernel lets us and reported by ``Containment`` so the README's threat model can be honest.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import resource
import shutil
import signal
import site
import sys
import time
from dataclasses import dataclass

libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36
_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}.get(platform.machine())
_SANDBOX_UIDS = (1 << 20, 1 << 30)  # far above real accounts
CONTAINMENT_LEVELS = ("private-root", "namespaces", "process-groups")  # strongest first


@dataclass(frozen=True)
class Containment:
    """What a worker could set up: ``private-root`` (pid, mount and network namespaces and the minimal
    root), ``namespaces`` (the same but host files stay visible) or ``process-groups`` (no namespaces);
    without a private root, ``landlock`` is the Landlock ABI that fences files (and, from ABI 4, TCP;
    from ABI 6, signals), 0 when the kernel has none. ``reason`` says why a layer is missing."""

    level: str
    reason: str = ""
    landlock: int = 0

    def __str__(self) -> str:
        text = {"private-root": "namespaces and a private root", "namespaces": "namespaces without a private root",
                "process-groups": "process groups, no namespaces"}[self.level]
        if self.landlock:
            text += f"; files fenced by Landlock ABI {self.landlock}"
        elif self.level != "private-root":
            text += "; files outside the temp dir are reachable"
        return text + (f" ({self.reason})" if self.reason else "")


def weakest(containments: list[Containment]) -> Containment:
    """What a pool of workers can promise: the least its weakest worker got."""
    return max(containments, key=lambda c: (CONTAINMENT_LEVELS.index(c.level), -c.landlock))


def check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def set_parent_death_signal(sig: int = signal.SIGKILL) -> None:
    """Die with the parent: a killed executor leaves no worker or child behind."""
    libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)


def become_subreaper() -> None:
    """Orphaned descendants reparent to us, so the fallback cleanup can still find them."""
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _unshare(flags: int) -> bool:
    return libc.unshare(flags) == 0


def _write_file(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    check(
        libc.mount(
            source.encode() if source else None, target.encode(), fstype.encode() if fstype else None,
            flags, data.encode() if data else None,
        ),
        f"mount {target}",
    )


def site_packages_dirs() -> set[str]:
    """Where third-party packages live for this interpreter (venv and user sites included)."""
    found = {p for p in sys.path if p and ("site-packages" in p or "dist-packages" in p)}
    found |= set(site.getsitepackages()) | {site.getusersitepackages()}
    return {os.path.realpath(p) for p in found if os.path.isdir(p)}


def _outermost(paths: set[str]) -> list[str]:
    """Paths not inside another one of them (bind mounts are recursive)."""
    real = sorted(paths)
    return [p for p in real if not any(p != q and p.startswith(q.rstrip("/") + "/") for q in real)]


def exposed_paths(site_packages: bool, toolchains: tuple[str, ...] = ()) -> list[str]:
    """What a candidate may read: the interpreter, its standard library, system libraries and the
    ``toolchains``' directories (other languages', ``executor.languages.toolchain_roots``)."""
    paths = {"/usr", "/bin", "/lib", "/lib64", "/lib32", sys.prefix, sys.base_prefix, sys.exec_prefix, *toolchains}
    real = {os.path.realpath(p) for p in paths if os.path.isdir(p)}
    return _outermost(real | site_packages_dirs() if site_packages else real)


def build_private_root(tmpfs_mb: int, site_packages: bool, toolchains: tuple[str, ...] = ()) -> frozenset[str]:
    """Pivot into a tmpfs root holding read-only binds of ``exposed_paths`` and a private /tmp.

    Without ``site_packages`` the third-party package directories are covered by empty read-only
    tmpfs mounts: a verdict must not depend on what the host happens to have installed. Returns the
    entries of the new /tmp that lead to exposed paths (a virtualenv under /tmp): they must stay.
    """
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    exposed = exposed_paths(site_packages, toolchains)
    # Handles first: the new root is a tmpfs over /tmp (in this mount namespace only, so nothing is
    # left on the host), which hides whatever lives under /tmp, a virtualenv for instance.
    sources = {path: os.open(path, os.O_PATH | os.O_DIRECTORY) for path in exposed}
    # outermost only: a covered directory is empty, so a path nested in it (ray puts
    # site-packages/ray/thirdparty_files on sys.path) has no mount point left and is hidden already
    hidden = [] if site_packages else _outermost(
        {p for p in site_packages_dirs() if any(p.startswith(q.rstrip("/") + "/") for q in exposed)}
    )
    devices = {dev: os.open(f"/dev/{dev}", os.O_PATH) for dev in ("null", "zero", "full", "random", "urandom")}
    links = {link: os.readlink(link) for link in ("/bin", "/sbin", "/lib", "/lib32", "/lib64") if os.path.islink(link)}
    root = "/tmp"
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=755")
    try:
        os.makedirs(root + "/tmp")  # the candidates' writable /tmp, under any exposed path that lives in /tmp
        _mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmpfs_mb}m,mode=1777")
        for path, fd in sources.items():
            target = root + path
            os.makedirs(target, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)
            _mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
        for path in hidden:
            _mount("tmpfs", root + path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=755")
        os.makedirs(root + "/dev")
        for dev, fd in devices.items():
            open(f"{root}/dev/{dev}", "w").close()
            _mount(f"/proc/self/fd/{fd}", f"{root}/dev/{dev}", None, MS_BIND)
        for link, target in links.items():  # usr-merged systems: keep the symlinks
            if not os.path.lexists(root + link):
                os.symlink(target, root + link)
        os.makedirs(root + "/proc", exist_ok=True)
        old = root + "/.old"
        os.makedirs(old)
        if _PIVOT_ROOT is None:
            raise OSError("pivot_root: unknown syscall number on this architecture")
        check(libc.syscall(_PIVOT_ROOT, root.encode(), old.encode()), "pivot_root")
    except OSError:
        libc.umount2(root.encode(), MNT_DETACH)  # give the worker its ordinary view back
        raise
    finally:
        for fd in (*sources.values(), *devices.values()):
            os.close(fd)
    os.chdir("/")
    check(libc.umount2(b"/.old", MNT_DETACH), "umount old root")
    os.rmdir("/.old")
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV)  # shows only this pid namespace
    _mount(None, "/", None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    return frozenset(p.split("/")[2] for p in exposed if p.startswith("/tmp/"))


def empty_directory(path: str, keep: frozenset[str] = frozenset()) -> None:
    """Remove everything inside ``path`` but the entries named in ``keep`` (not following links)."""
    for entry in os.scandir(path):
        if entry.name in keep:
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            try:
                os.unlink(entry.path)
            except OSError:
                pass


def enter_namespaces(network: bool) -> tuple[int, int]:
    """Unshare user (when not root), pid, mount and network namespaces.

    Returns the (uid, gid) that is "root" inside. Must be followed by a fork: the pid namespace
    applies to children. Raises OSError when the kernel refuses.
    """
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWPID | CLONE_NEWNS | (0 if network else CLONE_NEWNET)
    if uid != 0:
        flags |= CLONE_NEWUSER
    if not _unshare(flags):
        err = ctypes.get_errno()
        raise OSError(err, f"unshare: {os.strerror(err)}")
    if uid != 0:
        _write_file("/proc/self/setgroups", "deny")
        _write_file("/proc/self/uid_map", f"0 {uid} 1")
        _write_file("/proc/self/gid_map", f"0 {gid} 1")
    return uid, gid


def limit_child(memory_mb: int, file_size_mb: int, open_files: int, processes: int, cpu_seconds: int) -> None:
    """rlimits of a sandboxed child (RLIMIT_NPROC only binds a non-root uid)."""
    mb = 1 << 20
    for limit, value in (
        (resource.RLIMIT_AS, memory_mb * mb),
        (resource.RLIMIT_FSIZE, file_size_mb * mb),
        (resource.RLIMIT_NOFILE, open_files),
        (resource.RLIMIT_NPROC, processes),
        (resource.RLIMIT_CPU, cpu_seconds),
        (resource.RLIMIT_CORE, 0),
    ):
        try:
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):
            pass


def sandbox_uid() -> int:
    """A uid of its own for one worker's children: RLIMIT_NPROC counts per uid, machine-wide, so a
    fork bomb in another worker (or another executor) must not use up this one's processes."""
    low, high = _SANDBOX_UIDS
    return low + int.from_bytes(os.urandom(4), "big") % (high - low)


def drop_privileges(uid: int) -> None:
    """Become an unprivileged uid (only possible, and only needed, when running as real root)."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def kill_all_but_self(group: int | None) -> None:
    """End every process a candidate started and reap them all.

    As init of a pid namespace, ``kill(-1)`` reaches every other process in it, and every one of
    them is our descendant: kill and reap until no child is left (repeating the kill, since a fork
    bomb can still be creating processes while the first signals land). Without a namespace, kill
    the child's process group and then every remaining child of ours (we are a subreaper, so escaped
    grandchildren were reparented to us).
    """
    if os.getpid() == 1:
        while True:
            _signal(os.kill, -1)
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                return
    for attempt in range(1000):
        if group is not None:
            _signal(os.killpg, group)
        for pid in _children():
            _signal(os.killpg, pid)
            _signal(os.kill, pid)
        if _reap_all_ready():
            return
        time.sleep(0.0005 * min(attempt + 1, 20))
    raise RuntimeError("could not end the processes of a sandboxed candidate")


def _signal(kill, target: int) -> None:
    try:
        kill(target, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _children() -> list[int]:
    pids: list[int] = []
    try:
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/children") as f:
                pids += [int(p) for p in f.read().split()]
    except OSError:
        pass
    return pids


def _reap_all_ready() -> bool:
    """Reap every exited child; True when no child is left."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return True
        if pid == 0:
            return False
