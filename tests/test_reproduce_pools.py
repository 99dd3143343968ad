"""The pools of scripts/reproduce_codet.py on small real slices: what the loaders hand the script
(shapes, labels, tests) and that CodeT and the default aggregator score every problem of each pool."""
from __future__ import annotations

import re

import numpy as np
import pytest

from coderm.aggregate import DEFAULT, aggregate
from coderm.evaluate.metrics import best_of_n
from coderm.select.synth import recordings
from executor import ExecutorConfig
from scripts.pools import DATA, codecontests_pool, ldb_pool
from scripts.reproduce_codet import run

CONFIG = ExecutorConfig(workers=2, timeout=1.0)


@pytest.fixture(scope="module")
def mbpp(shared_data):
    assert DATA.resolve() == shared_data.resolve()
    return ldb_pool("mbpp", 12)


@pytest.fixture(scope="module")
def contests(shared_data):
    return codecontests_pool(3, CONFIG)


def _scored(problems):
    """Run a pool slice and return (passed, outputs, CodeT best-of-N, default best-of-N) per problem."""
    out = []
    for p, (matrix, outputs) in zip(problems, run(problems, CONFIG)):
        labels, passed = np.asarray(p.labels, dtype=bool), matrix.passed
        scores = {name: aggregate(name, passed, matrix=matrix, outputs=outputs) for name in ("codet", DEFAULT)}
        for s in scores.values():
            assert s.shape == (len(p.candidates),) and np.all((s >= 0) & (s <= 1))
        out.append((passed, outputs, best_of_n(scores["codet"], labels), best_of_n(scores[DEFAULT], labels)))
    return out


def test_ldb_mbpp_pool_shapes(mbpp):
    assert [p.task_id for p in mbpp[:3]] == ["MBPP/11", "MBPP/12", "MBPP/13"]
    for p in mbpp:
        assert p.meta["models"] == ["codellama", "gpt-3.5-turbo-0613", "starcoder"][: len(p.candidates)]
        assert len(p.labels) == len(p.candidates) and all(isinstance(y, bool) for y in p.labels)
        assert p.tests and all(t.lstrip().startswith("assert") for t in p.tests)  # MBPP/18's calls another name
        assert all(re.search(rf"def\s+{p.entry_point}\s*\(", c) for c in p.candidates)
    scored = _scored(mbpp)
    for p, (passed, outputs, codet, default) in zip(mbpp, scored):
        assert passed.shape == (len(p.candidates), len(p.tests))
        assert outputs.shape == (len(p.candidates), len(recordings(p.tests, p.entry_point)))
        assert 0.0 <= codet <= 1.0 and 0.0 <= default <= 1.0
    assert any(o.shape[1] for _, o, _, _ in scored)  # MBPP's visible asserts carry inputs to record


def test_ldb_humaneval_pool_joins_body_only_solutions(shared_data):
    pool = ldb_pool("humaneval", 5)
    assert all(len(p.candidates) == 5 and "reflexion" in p.meta["models"] for p in pool)
    assert all(re.search(rf"def\s+{p.entry_point}\s*\(", c) for p in pool for c in p.candidates)


def test_codecontests_pool_shapes(contests):
    for p in contests:
        assert p.entry_point is None and p.candidates
        assert p.tests == p.meta["public_tests"] and all(t["type"] == "stdio" for t in p.tests)
        assert len(p.labels) == len(p.candidates) and all(isinstance(y, bool) for y in p.labels)
    assert any(any(p.labels) for p in contests) and any(not all(p.labels) for p in contests)
    for p, (passed, outputs, codet, default) in zip(contests, _scored(contests)):
        assert passed.shape == (len(p.candidates), len(p.tests)) and outputs.shape == (len(p.candidates), 0)
        assert 0.0 <= codet <= 1.0 and 0.0 <= default <= 1.0
