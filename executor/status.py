"""Cell statuses of the pass matrix (the enum of DESIGN.md)."""
from __future__ import annotations

from enum import IntEnum


class Status(IntEnum):
    """Outcome of one (candidate, test) cell; stored as uint8 in a PassMatrix."""

    PASS = 0  # positive per-test evidence from the harness
    FAIL = 1  # assertion failed / wrong output
    ERROR = 2  # exception (including a candidate that does not compile)
    TIMEOUT = 3
    MEMORY = 4
    CRASH = 5  # killed by a signal, worker lost twice, tampering that ended the child
    SKIPPED = 6  # pruned or early-stopped, never executed
    INVALID = 7  # the test itself cannot run (syntax error, no test methods, ...)

    @classmethod
    def parse(cls, name: str) -> "Status":
        try:
            return cls[name.upper()]
        except KeyError:
            raise ValueError(f"unknown status {name!r}; expected one of {', '.join(s.name for s in cls)}") from None
