"""Executor configuration: workers, limits, isolation and where the workers run."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from typing import Any

ISOLATION_LEVELS = ("candidate", "test")
BACKENDS = ("local", "ray")
TIMEOUT_POLICIES = ("fixed", "calibrated")


@dataclass(frozen=True)
class ExecutorConfig:
    """Everything that decides how cells run (and so part of the cache key when it can change a verdict).

    ``isolation``: ``"candidate"`` runs all tests of a candidate in one forked child that exec'd
    the candidate once (state may leak between its tests); ``"test"`` forks once more per test from
    that warm child so no test sees another's side effects.

    ``timeout_policy``: ``"fixed"`` gives every test ``timeout`` seconds; ``"calibrated"`` gives each
    test ``timeout_factor`` times the longest time a peer candidate took to finish it (any verdict but
    TIMEOUT; at least ``timeout_floor``, at most ``timeout``), scaled by the worker's measured slowdown,
    cuts a test only while it computes, and reruns an overrun at ``timeout`` where that could change
    the verdict (``executor.deadlines``).

    ``backend``: ``"local"`` runs ``workers`` sandbox workers on this machine; ``"ray"`` runs ``actors``
    Ray actors (default: cluster CPUs // ``workers``), each a pool of ``workers`` sandbox workers on its
    node, joining the cluster at ``ray_address`` (``"auto"``; None starts a local one) unless Ray is
    initialised already.
    """

    workers: int = max(1, os.cpu_count() or 1)
    timeout: float = 1.0  # seconds per test, enforced from outside the child (CodeRM uses 1 s too); calibrated: the ceiling
    timeout_policy: str = "calibrated"
    timeout_floor: float = 0.02  # calibrated: the shortest deadline, seconds
    timeout_factor: float = 5.0  # calibrated: deadline = factor x the slowest peer's finishing time
    load_timeout: float = 5.0  # seconds to exec the candidate itself
    compile_timeout: float = 30.0  # seconds to compile a candidate in another language (executor.languages)
    compile_memory_mb: int = 4096  # RLIMIT_AS of the compiler
    max_timeouts: int = 3  # after this many TIMEOUT cells a candidate's remaining tests are SKIPPED
    fail_fast: bool = False  # stop a candidate at its first non-PASS test: the rest are SKIPPED (binary rewards)
    memory_mb: int = 2048  # RLIMIT_AS of each sandboxed child
    file_size_mb: int = 64  # RLIMIT_FSIZE
    open_files: int = 256  # RLIMIT_NOFILE
    processes: int = 64  # RLIMIT_NPROC (enforced when the child runs as an unprivileged user)
    output_limit: int = 1 << 20  # bytes of stdout/stderr kept per candidate, and of each stdio/call test's output
    detail_limit: int = 2000  # characters of output tail / error kept per failing cell
    isolation: str = "candidate"
    network: bool = False  # False: cut the network with a namespace where the kernel allows
    namespaces: bool = True  # False: process groups + subreaper only (see the README's threat model)
    site_packages: bool = False  # let candidates import third-party packages installed on the host
    cache_path: str | None = None  # SQLite file; None disables the cache
    backend: str = "local"
    ray_address: str | None = None
    actors: int | None = None
    stall_timeout: float | None = None  # seconds a busy worker may stay silent; None: derived from the timeouts

    def __post_init__(self) -> None:
        if self.isolation not in ISOLATION_LEVELS:
            raise ValueError(f"isolation must be one of {ISOLATION_LEVELS}, got {self.isolation!r}")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.backend != "ray" and (self.ray_address is not None or self.actors is not None):
            raise ValueError("ray_address and actors need backend='ray'")
        if self.actors is not None and self.actors < 1:
            raise ValueError(f"actors must be >= 1, got {self.actors}")
        if self.timeout_policy not in TIMEOUT_POLICIES:
            raise ValueError(f"timeout_policy must be one of {TIMEOUT_POLICIES}, got {self.timeout_policy!r}")
        if self.timeout_factor < 1:
            raise ValueError(f"timeout_factor must be >= 1, got {self.timeout_factor}")
        for name in ("timeout", "load_timeout", "timeout_floor", "compile_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.stall_timeout is not None and self.stall_timeout <= 0:
            raise ValueError(f"stall_timeout must be > 0, got {self.stall_timeout}")

    @property
    def stall_seconds(self) -> float:
        """How long a busy worker may say nothing before the run fails. A worker reports every finished
        cell (at most once a second), and a cell takes at most a compile, a load and a test timeout, so
        the default is that twice over plus a minute for a loaded machine."""
        return self.stall_timeout or 60.0 + 2 * (self.compile_timeout + self.load_timeout + self.timeout)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "ExecutorConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown executor option(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**values)

    def verdict_key(self) -> dict[str, Any]:
        """The options that can change a cell's verdict (hashed into the cache key)."""
        d = asdict(self)
        for k in ("workers", "cache_path", "detail_limit", "backend", "ray_address", "actors", "stall_timeout"):
            d.pop(k)
        return d
