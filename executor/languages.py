"""Languages other than Python: names, the toolchains this host has, and how a program is built and run.

A candidate in another language runs stdio tests only. The worker compiles it once, in a sandboxed
child under the compile limits (``ExecutorConfig.compile_timeout``/``compile_memory_mb``), keeps the
artefact (``Program``) in memory, and the harness forks and execs it once per test. Interpreted
languages (JavaScript) skip the compile: their artefact is the source. Names follow SandboxFusion's.

A toolchain is looked up on ``PATH`` once per process (``find``); its version and flags are part of
the cell cache key (``Toolchain.key``) and of the worker's artefact cache key, and its root directory
is what the sandbox exposes read-only to candidates (``toolchain_roots``).
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass

PYTHON = "python"
LANGUAGES = (PYTHON, "cpp", "c", "java", "javascript", "rust", "go")
ALIASES = {
    "py": PYTHON, "python3": PYTHON, "c++": "cpp", "cxx": "cpp", "cc": "cpp", "js": "javascript",
    "node": "javascript", "nodejs": "javascript", "rs": "rust", "golang": "go",
}
_VERSION_SECONDS = 20.0  # a version query that takes longer counts as no toolchain


def canonical(name: str) -> str:
    """The language name for ``name`` (case and aliases folded); ValueError for an unknown one."""
    if not isinstance(name, str):
        raise ValueError(f"a language must be a string, got {type(name).__name__}")
    folded = name.strip().lower()
    folded = ALIASES.get(folded, folded)
    if folded not in LANGUAGES:
        raise ValueError(f"unknown language {name!r}; known: {', '.join(LANGUAGES)} "
                         f"(aliases: {', '.join(sorted(ALIASES))})")
    return folded


_JAVA_PUBLIC_CLASS = re.compile(r"^\s*public\s+(?:(?:final|abstract)\s+)*class\s+([A-Za-z_$][\w$]*)", re.M)
_JAVA_CLASS = re.compile(r"^\s*(?:(?:final|abstract)\s+)*class\s+([A-Za-z_$][\w$]*)", re.M)


@dataclass(frozen=True)
class Program:
    """A built candidate, ready to run per test: ``files`` are written into the cell's directory,
    ``argv`` runs it from there. ``memory_markers``: text on stderr that means it ran out of memory."""

    argv: tuple[str, ...]
    files: tuple[tuple[str, bytes], ...]
    memory_markers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Toolchain:
    """How one language is built and run on this host (absolute paths, found by ``find``).

    ``compile``/``run`` are argv templates: ``{src}`` is the source file name, ``{main}`` its stem
    (Java's class), ``{heap}`` the JVM heap in MB. ``outputs``: the file names (glob patterns) the
    compile leaves that the run needs; an interpreted language has no ``compile`` and keeps its source.
    """

    language: str
    version: str
    compile: tuple[str, ...]
    run: tuple[str, ...]
    outputs: tuple[str, ...]
    roots: tuple[str, ...]  # directories holding the toolchain, exposed read-only in the sandbox
    memory_markers: tuple[str, ...] = ()
    startup: tuple[str, ...] = ()  # argv starting its runtime and exiting (a VM's): see ``startup_seconds``

    @property
    def key(self) -> str:
        """Version and flags: what can change a verdict besides the source (hashed into cache keys)."""
        text = "\0".join((self.language, self.version, *self.compile, "|", *self.run))
        return hashlib.sha256(text.encode()).hexdigest()

    def source_name(self, source: str) -> str:
        """The file the source is written to. Java's is named after its public class (javac wants
        that), else after its first class; that class is the one run."""
        if self.language == "java":
            found = _JAVA_PUBLIC_CLASS.search(source) or _JAVA_CLASS.search(source)
            return f"{found.group(1) if found else 'Main'}.java"
        return _SPECS[self.language].source

    def argv(self, template: tuple[str, ...], source_name: str, memory_mb: int) -> tuple[str, ...]:
        """``template`` (``compile`` or ``run``) filled in for this source and memory limit."""
        stem = source_name.rsplit(".", 1)[0]
        return tuple(a.format(src=source_name, main=stem, heap=max(16, memory_mb // 2)) for a in template)


@dataclass(frozen=True)
class _Spec:
    """What to look for on PATH and how to call it; ``find`` turns it into a Toolchain."""

    binary: str
    source: str
    version: tuple[str, ...]  # arguments printing the version
    compile: tuple[str, ...]  # arguments after the compiler; empty: interpreted
    run: tuple[str, ...]  # argv; "{bin}" is the toolchain's bin directory
    outputs: tuple[str, ...]
    memory_markers: tuple[str, ...] = ()
    linked: tuple[str, ...] = ()  # subdirectories of the root with links out of it (Debian's JDK: conf -> /etc)
    startup: tuple[str, ...] = ()  # argv that starts the runtime and exits: a VM's start-up, timed when needed


# The JVM reserves virtual memory far beyond what a program uses; under RLIMIT_AS it must be told not to.
_JVM = ("-XX:+UseSerialGC", "-XX:CompressedClassSpaceSize=64m", "-XX:ReservedCodeCacheSize=64m",
        "-XX:MaxMetaspaceSize=256m")
_SPECS = {
    "cpp": _Spec("g++", "main.cpp", ("--version",), ("-std=gnu++17", "-O2", "-pipe", "-o", "main", "{src}"),
                 ("./main",), ("main",), ("std::bad_alloc",)),
    "c": _Spec("gcc", "main.c", ("--version",), ("-std=gnu11", "-O2", "-pipe", "-o", "main", "{src}", "-lm"),
               ("./main",), ("main",)),
    "java": _Spec("javac", "Main.java", ("-version",),
                  (*(f"-J{flag}" for flag in _JVM), "-J-Xmx512m", "-J-XX:TieredStopAtLevel=1", "-encoding", "UTF-8",
                   "-d", ".", "{src}"),
                  # the VM's own errors (a heap it cannot reserve) go to stdout unless told otherwise
                  ("{bin}/java", *_JVM, "-XX:+DisplayVMOutputToStderr", "-Xmx{heap}m", "-cp", ".", "{main}"),
                  ("*.class",), ("java.lang.OutOfMemoryError", "Could not reserve enough space"), ("conf",),
                  ("{bin}/java", *_JVM, "-version")),
    "javascript": _Spec("node", "main.js", ("--version",), (), ("{bin}/node", "main.js"),
                        ("main.js",), ("JavaScript heap out of memory", "Fatal process OOM"),
                        startup=("{bin}/node", "-e", "0")),
    "rust": _Spec("rustc", "main.rs", ("--version",), ("--edition", "2021", "-O", "-o", "main", "{src}"),
                  ("./main",), ("main",), ("memory allocation of",)),
    "go": _Spec("go", "main.go", ("version",), ("build", "-o", "main", "{src}"), ("./main",), ("main",),
                ("out of memory",)),
}


def _query(argv: list[str]) -> str | None:
    """First line a tool prints (stdout, else stderr), or None when it cannot run."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=_VERSION_SECONDS, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    text = (done.stdout.strip() or done.stderr.strip()).splitlines()
    return text[0].strip() if done.returncode == 0 and text else None


def _locate(language: str) -> tuple[str, tuple[str, ...]] | None:
    """(the compiler or interpreter's real path, the toolchain's directories), or None."""
    spec = _SPECS[language]
    found = shutil.which(spec.binary)
    if found is None:
        return None
    real = os.path.realpath(found)
    if language == "rust" and os.path.basename(real) == "rustup":  # a rustup proxy: the real one is in its sysroot
        sysroot = _query([found, "--print", "sysroot"])
        if sysroot is None:
            return None
        real = os.path.join(sysroot, "bin", "rustc")
    elif language == "go":
        goroot = _query([found, "env", "GOROOT"])
        if goroot is None:
            return None
        real = os.path.join(goroot, "bin", "go")
    bin_dir = os.path.dirname(real)
    root = os.path.dirname(bin_dir) if os.path.basename(bin_dir) == "bin" else bin_dir
    return real, (root, *_link_targets(root, spec.linked))


def _link_targets(root: str, subdirs: tuple[str, ...]) -> list[str]:
    """The directories outside ``root`` that links in its ``subdirs`` point into (outermost only)."""
    targets: set[str] = set()
    for sub in subdirs:
        for here, dirs, files in os.walk(os.path.join(root, sub)):
            for name in dirs + files:
                path = os.path.join(here, name)
                real = os.path.realpath(path)
                if os.path.islink(path) and not real.startswith(root + "/") and os.path.exists(real):
                    targets.add(real if os.path.isdir(real) else os.path.dirname(real))
    ordered = sorted(targets)
    return [p for p in ordered if not any(p.startswith(q + "/") for q in ordered)]


@functools.cache
def find(language: str) -> Toolchain | None:
    """The toolchain for ``language`` on this host, or None (Python needs none: it is the harness's own)."""
    language = canonical(language)
    if language == PYTHON:
        return None
    located = _locate(language)
    if located is None:
        return None
    binary, roots = located
    spec = _SPECS[language]
    version = _query([binary, *spec.version])
    if version is None:
        return None
    bin_dir = os.path.dirname(binary)
    run = tuple(a.replace("{bin}", bin_dir) for a in spec.run)
    compile_argv = (binary, *spec.compile) if spec.compile else ()
    if language == "rust":  # rustc links with `cc`, which may be a link into /etc (not in the sandbox)
        linker = shutil.which("cc")
        if linker is None:
            return None
        compile_argv += ("-C", f"linker={os.path.realpath(linker)}")
    startup = tuple(a.replace("{bin}", bin_dir) for a in spec.startup)
    return Toolchain(language, version, compile_argv, run, spec.outputs, roots, spec.memory_markers, startup)


@functools.cache
def startup_seconds(argv: tuple[str, ...]) -> float:
    """The fastest of three starts of a runtime that exits at once (``Toolchain.startup``; 0 for none or
    when it cannot run), timed once per process when a calibrated deadline first needs it: no program
    in that language finishes sooner, so no such deadline is set below it."""
    if not argv:
        return 0.0
    times = []
    for _ in range(3):
        start = time.perf_counter()
        try:
            subprocess.run(argv, capture_output=True, timeout=_VERSION_SECONDS, stdin=subprocess.DEVNULL, check=True)
        except (OSError, subprocess.SubprocessError):
            return 0.0
        times.append(time.perf_counter() - start)
    return min(times)


def missing(language: str) -> str:
    """Why a language cannot run here (for the cells of its candidates)."""
    return f"no {language} toolchain on this host ({_SPECS[language].binary!r} not found on PATH or not working)"


def available() -> dict[str, str]:
    """Every supported language with the version of its toolchain on this host ("missing" when absent)."""
    found = {PYTHON: f"Python {sys.version.split()[0]}"}
    for language in LANGUAGES[1:]:
        toolchain = find(language)
        found[language] = toolchain.version if toolchain else "missing"
    return found


@functools.cache
def toolchain_roots() -> tuple[str, ...]:
    """The directories of the toolchains on this host, for the workers' sandbox to expose read-only
    (the pool finds them once and hands them to each worker); only a rustup or go installation is
    asked where it lives."""
    roots: list[str] = []
    for language in LANGUAGES[1:]:
        located = _locate(language)
        if located is not None:
            roots += [root for root in located[1] if os.path.isdir(root) and root not in roots]
    return tuple(roots)
