"""Raw generations on disk, keyed by prompt and sampling parameters, so a rerun does not regenerate.

SQLite rather than JSONL: lookups by key without loading the file, and a crash mid-write does
not corrupt earlier rows. Only successful prompts are stored; failures are retried next run.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from coderm.generate.backends import Completion
from coderm.generate.prompts import PromptRequest


def cache_key(request: PromptRequest, sampling: dict) -> str:
    payload = json.dumps([sampling, request.text, request.chat, request.completion_prefix], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


class GenerationCache:
    def __init__(self, directory: str | Path):
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path / "generations.sqlite")
        self.db.execute("CREATE TABLE IF NOT EXISTS generations (key TEXT PRIMARY KEY, completions TEXT NOT NULL)")

    def get(self, key: str) -> list[Completion] | None:
        row = self.db.execute("SELECT completions FROM generations WHERE key = ?", (key,)).fetchone()
        return None if row is None else [Completion(**c) for c in json.loads(row[0])]

    def put(self, key: str, completions: list[Completion]) -> None:
        rows = [{"text": c.text, "n_tokens": c.n_tokens, "finish_reason": c.finish_reason} for c in completions]
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO generations VALUES (?, ?)", (key, json.dumps(rows)))

    def close(self) -> None:
        self.db.close()
