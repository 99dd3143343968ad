"""SQLite cache of cell verdicts, keyed by (candidate, test, verdict-relevant limits, interpreter).

Only the parent process touches it. WAL mode and a busy timeout make it safe for several coderm
processes at once; each finished candidate is committed, so a kill -9 loses at most the cells in flight.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from pathlib import Path
from typing import Iterable, Sequence

from executor.config import ExecutorConfig

HARNESS_VERSION = "2"  # bump when a change to the harness can change a verdict
_CHUNK = 900  # SQLite's default limit on bound parameters is 999


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def config_digest(config: ExecutorConfig) -> str:
    key = dict(config.verdict_key(), python=sys.version, harness=HARNESS_VERSION)
    return digest(json.dumps(key, sort_keys=True))


def cell_key(candidate_digest: str, test_digest: str, config_key: str) -> str:
    return digest(f"{candidate_digest}:{test_digest}:{config_key}")


class CellCache:
    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # used from every thread that runs the executor, one at a time (the Executor's lock)
        self.db = sqlite3.connect(str(path), timeout=60, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS cells (key TEXT PRIMARY KEY, status INTEGER, seconds REAL, detail TEXT, output TEXT)"
        )

    def get_many(self, keys: Sequence[str]) -> dict[str, tuple]:
        found: dict[str, tuple] = {}
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start:start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute(f"SELECT key, status, seconds, detail, output FROM cells WHERE key IN ({marks})", chunk):
                found[row[0]] = row[1:]
        return found

    def put_many(self, rows: Iterable[tuple[str, int, float, str, str | None]]) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR REPLACE INTO cells VALUES (?, ?, ?, ?, ?)", rows)

    def close(self) -> None:
        self.db.close()
