"""The labelled candidate pools in ``../shared/data`` that the reproduction scripts score.

Each builder returns contract problems (``coderm.model.Problem``) with candidates, the tests a
reranker may see, and labels from tests it may not:

- ``codet_file``: CodeT's CodeGen-16B HumanEval file, 100 candidates per problem, generated asserts;
- ``ldb_pool``: LDB's programs, one per model per task (five models on HumanEval, three on MBPP),
  the visible ``given_tests`` as tests, ``is_solved`` as labels (through ``coderm.loaders.ldb``,
  which joins body-only solutions such as Reflexion's with their prompt);
- ``ldb_generated_pool``: the LDB HumanEval pool judged by CodeT's CodeGen-16B generated asserts
  instead of the visible tests (a few strong, diverse candidates against many noisy tests);
- ``codecontests_pool``: 31 CodeContests stdin problems with the Qwen candidates, the public
  ``sample_io`` as tests, labels from running every hidden ``test_list`` case here.

Pools without both candidates and labels (HumanEval+/MBPP+ and the SandboxFusion samples hold
only a reference solution) are not here: nothing is left to choose from.
"""
from __future__ import annotations

import dataclasses

from coderm import loaders
from coderm.jsonl import read_labelled
from coderm.model import Problem
from executor import Executor, ExecutorConfig, Job
from scripts.shared_data import DATA, require

CODET_FILE = DATA / "codet" / "humaneval_codegen16b.problems.jsonl.gz"
CONTESTS_PROBLEMS = DATA / "stdio" / "codecontests31_problems.jsonl.gz"
CONTESTS_CANDIDATES = DATA / "stdio" / "codecontests31_candidates_qwen.jsonl.gz"
LDB_BENCHMARKS = ("humaneval", "mbpp")


def codet_file(limit: int | None = None) -> list[Problem]:
    """The first ``limit`` problems of CodeT's file (already in the problems contract)."""
    require(CODET_FILE)
    return read_labelled(CODET_FILE, limit)


def ldb_pool(benchmark: str, limit: int | None = None) -> list[Problem]:
    """LDB's seed programs for ``benchmark`` (``humaneval`` or ``mbpp``), pooled per task."""
    files = sorted(str(p) for p in (DATA / "ldb").glob(f"{benchmark}__seed__*__seed.jsonl.gz"))
    if not files:
        require(DATA / "ldb" / f"{benchmark}__seed__codellama__seed.jsonl.gz")
    return [Problem.from_json(p) for p in list(loaders.load("ldb", inputs=files))[:limit]]


def ldb_generated_pool(limit: int | None = None) -> list[Problem]:
    """The LDB HumanEval pool with each problem's tests replaced by the CodeT file's generated asserts."""
    generated = {p.task_id: p.tests for p in codet_file()}
    return [dataclasses.replace(p, tests=generated[p.task_id]) for p in ldb_pool("humaneval", limit)]


def codecontests_pool(limit: int | None, executor_config: ExecutorConfig) -> list[Problem]:
    """CodeContests problems with public tests as tests and labels from running the hidden ones."""
    require(CONTESTS_PROBLEMS, CONTESTS_CANDIDATES)
    raw = list(loaders.load("stdio", inputs=str(CONTESTS_PROBLEMS), samples=str(CONTESTS_CANDIDATES)))[:limit]
    jobs = (Job(k, p["candidates"], p["tests"], None) for k, p in enumerate(raw))
    with Executor(dataclasses.replace(executor_config, fail_fast=True)) as ex:  # a label needs the first failure only
        labels = {k: m.passed.all(axis=1).tolist() for k, m in ex.run_many(jobs)}
    agree = sum(a == b for k, p in enumerate(raw) for a, b in zip(labels[k], p["labels"] or []))
    print(f"CodeContests labels from the hidden tests: {sum(map(sum, labels.values()))} correct of "
          f"{sum(map(len, labels.values()))}; agree with the file's is_solved on {agree}")
    return [Problem.from_json({**p, "tests": p["meta"]["public_tests"], "labels": labels[k]}) for k, p in enumerate(raw)]
