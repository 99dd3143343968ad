"""Run configuration: built-in defaults <- YAML file (``--config``) <- command-line flags.

Every CLI option has a key here (``configs/default.yaml`` lists them all). The ``executor``
section maps onto ``executor.ExecutorConfig`` field by field; ``cache`` becomes its ``cache_path``.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from executor.config import ExecutorConfig

MINED_TESTS_MODES = ("absent", "always", "never")
DEFAULT_CACHE = ".coderm-cache/cells.sqlite"


class ConfigError(ValueError):
    """A configuration file or option that cannot be used (exit code 2)."""


@dataclass(frozen=True)
class Config:
    aggregator: str | None = None  # None: coderm.aggregate.DEFAULT
    mined_tests: str = "absent"  # add tests mined from the prompt: only when none are given | always | never
    generator: dict | None = None  # test-generator settings for coderm.generate; None: no model is called
    budget: float | None = None  # average tests per problem (difficulty.plan_budget); None: every test
    allocator: str | None = None  # budget split: equal | greedy | curves; None: equal, or greedy with a model
    difficulty_model: str | None = None  # estimator file from `coderm difficulty train` (predicted pass rates)
    prune: list | None = None  # staged verification before execution, e.g. [{stage: syntax}, {stage: lint}]
    cache: str | None = DEFAULT_CACHE  # SQLite cell cache shared across runs; None disables it
    skip_invalid: bool = False  # report invalid input lines and go on instead of stopping (exit 2)
    quiet: bool = False  # no progress bar, no summary
    executor: dict = field(default_factory=dict)  # ExecutorConfig fields (workers, timeout, memory_mb, ...)

    def __post_init__(self) -> None:
        if self.mined_tests not in MINED_TESTS_MODES:
            raise ConfigError(f"mined_tests must be one of {', '.join(MINED_TESTS_MODES)}, got {self.mined_tests!r}")
        if self.generator is not None and not isinstance(self.generator, dict):
            raise ConfigError("generator must be a mapping of generator settings or null")
        if self.budget is not None and not self.budget > 0:
            raise ConfigError(f"budget must be a positive number of tests per problem, got {self.budget!r}")
        if not isinstance(self.executor, dict):
            raise ConfigError("executor must be a mapping of executor options")
        if "cache_path" in self.executor:
            raise ConfigError("set the cell cache with the top-level key 'cache', not executor.cache_path")
        self.executor_config()  # fail early on unknown or invalid executor options

    def generation_cache(self) -> str | None:
        """Raw generations are cached next to the cell cache (reruns do not regenerate)."""
        return str(Path(self.cache).parent / "generations") if self.cache else None

    def executor_config(self) -> ExecutorConfig:
        try:
            return ExecutorConfig.from_dict({**self.executor, "cache_path": self.cache})
        except (TypeError, ValueError) as e:
            raise ConfigError(f"executor: {e}") from None

    def with_overrides(self, **values: Any) -> "Config":
        """A copy with the non-None ``values`` applied; executor fields may be given flat (workers=4)."""
        executor_fields = {f.name for f in dataclasses.fields(ExecutorConfig)}
        top = {f.name for f in dataclasses.fields(Config)}
        executor = dict(self.executor)
        changes: dict[str, Any] = {}
        for key, value in values.items():
            if value is None:
                continue
            if key in top:
                changes[key] = value
            elif key in executor_fields and key != "cache_path":
                executor[key] = value
            else:
                raise ConfigError(f"unknown option {key!r}; known: {', '.join(sorted(top | executor_fields - {'cache_path'}))}")
        if "executor" in changes:
            executor = {**executor, **changes.pop("executor")}
        return dataclasses.replace(self, **changes, executor=executor)

    def fingerprint(self, aggregator: str) -> str:
        """Digest of everything that can change a score line (a resumed run must match it)."""
        verdict = self.executor_config().verdict_key()
        key = {"aggregator": aggregator, "mined_tests": self.mined_tests, "generator": self.generator, "executor": verdict,
               "budget": [self.budget, self.allocator, self.difficulty_model], "prune": self.prune}
        return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()


def load_config(path: str | Path | None = None) -> Config:
    """The defaults, updated by the YAML file at ``path`` when given."""
    if path is None:
        return Config()
    import yaml

    path = Path(path)
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as e:
        raise ConfigError(f"{path}: cannot read config: {e.strerror or e}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: a config must be a mapping of keys to values")
    top = {f.name for f in dataclasses.fields(Config)}
    unknown = sorted(set(values) - top)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(top))}")
    try:
        return Config(**{**values, "executor": values.get("executor") or {}})
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None


def load_generator_section(path: str | Path) -> dict:
    """The ``generator`` mapping of a YAML config (e.g. configs/coderm-8b.yaml); ConfigError if absent."""
    section = load_config(path).generator
    if section is None:
        raise ConfigError(f"{path}: no 'generator' section")
    return section
