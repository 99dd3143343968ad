"""The one run configuration: built-in defaults <- a YAML preset or file <- options.

Every surface (``coderm score``, ``rerank``/``score_batch``, ``RewardFunction`` and its adapters,
``coderm serve``, ``coderm pareto``) builds its ``Pipeline`` from a ``Config``. Defaults live here
and nowhere else; ``coderm/configs/default.yaml`` lists every key. Presets ship in the package and
resolve by name (``--config reward``) or by path. Sections are typed and validated at construction,
so a bad setting stops a run before anything is written.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from coderm.aggregate import DEFAULT as DEFAULT_AGGREGATOR
from coderm.aggregate import NAMES as AGGREGATORS
from coderm.extract import ExtractConfig
from coderm.generate.config import GeneratorConfig, GeneratorError
from executor.config import ExecutorConfig

MINED_TESTS_MODES = ("absent", "always", "never")
REWARD_MODES = ("passrate", "binary", "fail_fast")
SELECT_METHODS = ("none", "sstar")
ALLOCATORS = ("equal", "greedy", "adaptive")  # the budget splits a run can use without fitted gain curves
DEFAULT_CACHE = ".coderm-cache/cells.sqlite"
PRESETS = Path(__file__).parent / "configs"


class ConfigError(ValueError):
    """A configuration file or option that cannot be used (exit code 2)."""


@dataclass(frozen=True)
class BudgetConfig:
    """How many tests each problem runs (``difficulty.plan_budget``).

    ``tests``: the average number of tests per problem, over batches of problems; None runs every
    test, 0 runs none (candidates are then ranked by the prune stages alone). ``allocator``:
    ``equal``, ``greedy`` by pass rates predicted with ``difficulty_model`` (the default when one is given),
    or ``adaptive``: tests run in a few rounds, each doubling the tests of the problems whose pick is
    least settled by the tests already run (``difficulty.allocate_adaptive``; a difficulty_model is its prior).
    """

    tests: float | None = None
    allocator: str | None = None  # None: greedy when a difficulty_model is given, else equal
    difficulty_model: str | None = None

    def __post_init__(self) -> None:
        if self.allocator is None:
            object.__setattr__(self, "allocator", "equal" if self.difficulty_model is None else "greedy")
        if self.tests is not None and (isinstance(self.tests, bool) or not isinstance(self.tests, (int, float))
                                       or not self.tests >= 0):
            raise ConfigError(f"budget.tests must be a number of tests per problem >= 0, got {self.tests!r}")
        if self.allocator not in ALLOCATORS:
            raise ConfigError(f"budget.allocator must be one of {', '.join(ALLOCATORS)}, got {self.allocator!r}")
        if self.allocator == "greedy" and self.difficulty_model is None:
            raise ConfigError("budget.allocator greedy needs a difficulty_model (train one with `coderm difficulty train`)")
        if self.difficulty_model is not None and not Path(self.difficulty_model).is_file():
            raise ConfigError(f"budget.difficulty_model: {self.difficulty_model} is not a file")


@dataclass(frozen=True)
class RewardConfig:
    """How a completion's test results become its RL reward (``Pipeline.rewards``), always in [0, 1].

    ``mode``: ``passrate`` (the aggregator's score: with the ``reward`` preset the fraction of
    tests passed), ``binary`` (1 when every test passes) or ``fail_fast`` (binary, and the tests
    after the first failure are reported SKIPPED, as an early stop leaves them). ``no_code``: the
    reward of a reply with no code in it (its own outcome, not a failing program): a format signal.
    ``no_tests``: the reward of a sample without usable tests, a data defect; None gives None
    (TRL leaves such a sample out; frameworks that need a number refuse it, naming this key).
    ``wrong`` (binary modes): the reward of a program that fails; ``timeout``: of one whose only
    failures are timeouts (None: as ``wrong``).
    """

    mode: str = "passrate"
    no_code: float = 0.0
    no_tests: float | None = None
    wrong: float = 0.0
    timeout: float | None = None

    def __post_init__(self) -> None:
        if self.mode not in REWARD_MODES:
            raise ConfigError(f"reward.mode must be one of {', '.join(REWARD_MODES)}, got {self.mode!r}")
        for name in ("no_code", "no_tests", "wrong", "timeout"):
            value = getattr(self, name)
            if value is None and name in ("no_tests", "timeout"):
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ConfigError(f"reward.{name} must be a number in [0, 1]{' or null' if name in ('no_tests', 'timeout') else ''}"
                                  f", got {value!r}")
        if self.mode == "passrate" and (self.wrong != 0 or self.timeout is not None):
            raise ConfigError("reward.wrong and reward.timeout apply to the binary and fail_fast modes; "
                              "in passrate mode a failing test counts 0")


@dataclass(frozen=True)
class SelectConfig:
    """Selection after aggregation (``coderm.select``): ``method`` ``none`` keeps the aggregator's ranking;
    ``sstar`` picks among the candidates that pass the public tests by running them on ``n_inputs``
    inputs and letting the representatives of output clusters meet (at most ``max_pairs`` pairs).

    ``inputs``: ``synth`` (mutations of the visible inputs, drawn with ``seed``) or ``model`` (the model
    writes them, and for each compared pair proposes inputs that tell the two apart). ``judge``:
    ``outputs`` (the agreement of the kept candidates' outputs) or ``model`` (asked twice, the two
    outputs swapped; only a consistent verdict counts). ``debug_rounds``: before scoring, a candidate
    failing a public test is revised by the model with the failure as feedback, up to this many rounds.
    ``model``: the settings of the model asked (the ``generator:`` keys: backend, model, base_url...;
    one completion per prompt), needed by any of the three."""

    method: str = "none"
    inputs: str = "synth"
    judge: str = "outputs"
    max_pairs: int = 10
    n_inputs: int = 20
    seed: int = 0
    debug_rounds: int = 0
    model: dict | None = None

    def __post_init__(self) -> None:
        if self.method not in SELECT_METHODS:
            raise ConfigError(f"select.method must be one of {', '.join(SELECT_METHODS)}, got {self.method!r}")
        for name, choices in (("inputs", ("synth", "model")), ("judge", ("outputs", "model"))):
            if getattr(self, name) not in choices:
                raise ConfigError(f"select.{name} must be one of {', '.join(choices)}, got {getattr(self, name)!r}")
        for name, least in (("max_pairs", 1), ("n_inputs", 1), ("seed", 0), ("debug_rounds", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ConfigError(f"select.{name} must be an integer >= {least}, got {value!r}")
        if self.model is not None:
            self.model_config()
        elif self.uses_model:
            raise ConfigError("select: inputs: model, judge: model and debug_rounds need select.model, the settings "
                              "of the model to ask (backend, model, base_url...: the keys of generator:)")

    @property
    def uses_model(self) -> bool:
        return self.inputs == "model" or self.judge == "model" or self.debug_rounds > 0

    def model_config(self) -> GeneratorConfig:
        """The validated settings of the model S* asks; one completion per prompt (``n: 1``)."""
        if not isinstance(self.model, dict):
            raise ConfigError(f"select.model must be a mapping of generator settings, got {self.model!r}")
        if self.model.get("n", 1) != 1:
            raise ConfigError(f"select.model.n must be 1 (S* asks for one answer per prompt), got {self.model['n']!r}")
        try:
            return GeneratorConfig.from_dict({**self.model, "n": 1})
        except GeneratorError as e:
            raise ConfigError(f"select.model: {e}") from None


@dataclass(frozen=True)
class Config:
    """Every setting of a run, by pipeline stage; see coderm/configs/default.yaml for each key."""

    aggregator: str = DEFAULT_AGGREGATOR  # pass matrix -> scores (coderm.aggregate)
    mined_tests: str = "absent"  # add tests mined from the prompt: only when none are given | always | never
    generator: dict | None = None  # test-generator settings for coderm.generate; None: no model is called
    budget: BudgetConfig = field(default_factory=BudgetConfig)
    prune: list | None = None  # staged verification before execution, e.g. [{stage: syntax}, {stage: lint}]
    extract: ExtractConfig = field(default_factory=ExtractConfig)  # completions (chat replies) -> programs
    reward: RewardConfig = field(default_factory=RewardConfig)  # test results -> RL rewards
    select: SelectConfig = field(default_factory=SelectConfig)  # after aggregation: S* selection or none
    cache: str | None = DEFAULT_CACHE  # SQLite cell cache shared across runs; None disables it
    skip_invalid: bool = False  # report invalid input lines and go on instead of stopping (exit 2)
    quiet: bool = False  # no progress bar, no summary
    executor: ExecutorConfig = field(default_factory=ExecutorConfig)  # cache_path comes from ``cache``

    def __post_init__(self) -> None:
        if self.aggregator not in AGGREGATORS:
            raise ConfigError(f"unknown aggregator {self.aggregator!r}; expected one of {', '.join(AGGREGATORS)}")
        if self.mined_tests not in MINED_TESTS_MODES:
            raise ConfigError(f"mined_tests must be one of {', '.join(MINED_TESTS_MODES)}, got {self.mined_tests!r}")
        if self.generator is not None and not isinstance(self.generator, dict):
            raise ConfigError("generator must be a mapping of generator settings or null")
        if self.prune is not None and not isinstance(self.prune, list):
            raise ConfigError("prune must be a list of stages or null")
        for name, cls in (("budget", BudgetConfig), ("extract", ExtractConfig), ("reward", RewardConfig),
                          ("select", SelectConfig), ("executor", ExecutorConfig)):
            object.__setattr__(self, name, _section(cls, getattr(self, name), name))
        if self.executor.cache_path is not None:
            raise ConfigError("set the cell cache with the top-level key 'cache', not executor.cache_path")

    def executor_config(self) -> ExecutorConfig:
        """The executor's settings, with the cell cache of ``cache``; ``reward.mode: fail_fast`` makes the
        executor stop each candidate at its first failing test (the rewards are the same, sooner)."""
        fail_fast = self.executor.fail_fast or self.reward.mode == "fail_fast"
        return dataclasses.replace(self.executor, cache_path=self.cache, fail_fast=fail_fast)

    def generation_cache(self) -> str | None:
        """Raw generations are cached next to the cell cache (reruns do not regenerate)."""
        return str(Path(self.cache).parent / "generations") if self.cache else None

    def with_overrides(self, **values: Any) -> "Config":
        """A copy with the non-None ``values`` applied. Executor fields may be given flat
        (``workers=4``), and so may the budget's (``budget=8, allocator="greedy"``) and extraction's;
        a section given as a mapping (``reward={"mode": "binary"}``) updates the current one; ``select="sstar"``
        sets the selection method."""
        changes: dict[str, Any] = {}
        for key, value in values.items():
            if value is None:
                continue
            section = _FLAT.get(key)
            if key == "budget" and not isinstance(value, (dict, BudgetConfig)):
                section, key = "budget", "tests"
            if key == "select" and isinstance(value, str):  # select="sstar": the method
                section, key = "select", "method"
            if section:
                changes[section] = {**_as_dict(changes.get(section, getattr(self, section))), key: value}
            elif key in _names(Config) and isinstance(value, dict) and dataclasses.is_dataclass(getattr(self, key)):
                changes[key] = {**_as_dict(getattr(self, key)), **value}  # a section given in part keeps the rest
            elif key in _names(Config):
                changes[key] = value
            else:
                raise ConfigError(f"unknown option {key!r}; known: {', '.join(sorted(_names(Config) | set(_FLAT)))}")
        return dataclasses.replace(self, **changes)

    def fingerprint(self) -> str:
        """Everything that can change a score line, as canonical JSON text: a resumed run must match
        it, and a refused one is told which keys differ (``coderm.jsonl.ResumableOutput``)."""
        key = {"aggregator": self.aggregator, "mined_tests": self.mined_tests, "generator": self.generator,
               "executor": self.executor.verdict_key(), "budget": dataclasses.asdict(self.budget),
               "prune": self.prune, "extract": dataclasses.asdict(self.extract)}
        if self.select != SelectConfig():  # keeps the fingerprints of runs without selection as they were
            key["select"] = dataclasses.asdict(self.select)
        return json.dumps(key, sort_keys=True, default=str)

    def key(self) -> str:
        """A stable text of the whole config (configs hold lists and dicts, so they are not hashable)."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True, default=str)

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str = "config") -> "Config":
        """A config from a decoded YAML mapping; ConfigError names ``source`` and the bad key."""
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: a config must be a mapping of keys to values")
        unknown = sorted(set(values) - _names(cls))
        if unknown:
            raise ConfigError(f"{source}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_names(cls)))}")
        values = {k: v for k, v in values.items() if v is not None or k in ("generator", "prune", "cache")}
        if isinstance(values.get("budget"), (int, float)) and not isinstance(values["budget"], bool):
            values["budget"] = {"tests": values["budget"]}
        try:
            return cls(**values)
        except ConfigError as e:
            raise ConfigError(f"{source}: {e}") from None


def _names(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def _as_dict(section: Any) -> dict[str, Any]:
    return dataclasses.asdict(section) if dataclasses.is_dataclass(section) else dict(section)


def _section(cls: type, value: Any, name: str) -> Any:
    """A typed section from its dataclass or a mapping; ConfigError names the section."""
    if isinstance(value, cls):
        return value
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be a mapping of {name} options")
    unknown = sorted(set(value) - _names(cls))
    if unknown:
        raise ConfigError(f"{name}: unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(_names(cls)))}")
    try:
        return cls(**value)
    except ConfigError:
        raise
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{name}: {e}") from None


# Options that may be given flat to ``with_overrides``, and their section. The budget is set as
# budget=B ("tests" means test lists elsewhere); the cache only through the top-level ``cache``.
_FLAT = {name: section for section, cls in (("executor", ExecutorConfig), ("budget", BudgetConfig),
                                            ("extract", ExtractConfig))
         for name in _names(cls) - {"cache_path", "tests"}}


def presets() -> list[str]:
    """Names of the configs shipped in the package (``coderm/configs/NAME.yaml``)."""
    return sorted(p.stem for p in PRESETS.glob("*.yaml"))


def read_yaml(name_or_path: str | Path) -> tuple[dict[str, Any], str]:
    """The mapping of a config file, or of a shipped preset when no such file exists; and its source."""
    path = Path(name_or_path)
    if not path.exists() and path.suffix == "" and len(path.parts) == 1:
        if str(path) not in presets():
            raise ConfigError(f"{name_or_path}: no such config file or preset; presets: {', '.join(presets())}")
        path = PRESETS / f"{path}.yaml"
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as e:
        raise ConfigError(f"{path}: cannot read config: {e.strerror or e}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: a config must be a mapping of keys to values")
    return values, str(path)


def load_config(name_or_path: str | Path | None = None) -> Config:
    """The defaults, updated by a preset name or a YAML file when given."""
    if name_or_path is None:
        return Config()
    values, source = read_yaml(name_or_path)
    return Config.from_dict(values, source)


def load_generator_section(name_or_path: str | Path) -> dict:
    """The ``generator`` mapping of a config (e.g. the coderm-8b preset); ConfigError if absent."""
    section = load_config(name_or_path).generator
    if section is None:
        raise ConfigError(f"{name_or_path}: no 'generator' section")
    return section
