"""The Ray backend (``backend: ray``) on a local Ray instance started once for the module: the same
matrices as the local pool, in input order, and every matrix complete when an actor is killed mid-run."""
from __future__ import annotations

import gzip
import json
import sys

import pytest

from executor import Executor, ExecutorConfig, Job, Status

LIMITS = {"workers": 1, "timeout": 1.0, "max_timeouts": 1, "load_timeout": 5.0, "cache_path": None}
ADD1 = "def f(x):\n    return x + 1\n"
ADD2 = "def f(x):\n    return x + 2\n"
SLEEPY = "import time\ndef f(x):\n    time.sleep(0.1)\n    return x + 1\n"
HOSTILE = {
    "infinite loop": "def f(x):\n    while True:\n        pass\n",
    "os._exit": "import os\ndef f(x):\n    os._exit(0)\n",
    "sys.exit at import": "import sys\nsys.exit(0)\ndef f(x):\n    return x + 1\n",
}
CALL = {"type": "call", "args": [1], "expected": 2}
MIXED = [
    Job("asserts", [ADD1, ADD2, ADD1], ["assert f(1) == 2", "assert f(2) == 4",
                                        "def check(candidate):\n    assert candidate(5) == 6\n"], "f"),
    Job("call", [ADD1, ADD2, "def f(x):\n    return [x]\n"], [CALL, {"type": "call", "args": [0], "expected": 2}], "f"),
    Job("stdio", ["a, b = map(int, input().split())\nprint(a + b)\n", "print(input())\n"],
        [{"type": "stdio", "input": "1 2\n", "output": "3\n"}, {"type": "stdio", "input": "2 2\n", "output": "4"}]),
    Job("hostile", [ADD1, *HOSTILE.values()], ["assert f(1) == 2", CALL], "f"),
]


@pytest.fixture(scope="module")
def ray():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def remote(ray):
    with Executor(ExecutorConfig(backend="ray", actors=2, **LIMITS)) as executor:
        yield executor


@pytest.fixture(scope="module")
def local():
    with Executor(ExecutorConfig(**LIMITS)) as executor:
        yield executor


def assert_same(got: list, want: list) -> None:
    assert [key for key, _ in got] == [key for key, _ in want]
    for (key, m), (_, w) in zip(got, want):
        assert (m.statuses == w.statuses).all(), key
        assert (m.outputs, m.details) == (w.outputs, w.details), key


def test_backend_options_are_validated_and_leave_verdicts_alone():
    with pytest.raises(ValueError, match="backend must be one of"):
        ExecutorConfig(backend="spark")
    with pytest.raises(ValueError, match="need backend='ray'"):
        ExecutorConfig(actors=2)
    with pytest.raises(ValueError, match="actors must be >= 1"):
        ExecutorConfig(backend="ray", actors=0)
    assert ExecutorConfig(backend="ray", ray_address="auto", actors=3).verdict_key() == ExecutorConfig().verdict_key()


def test_backend_ray_without_ray_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match=r"pip install 'coderm\[ray\]'"):
        Executor(ExecutorConfig(backend="ray")).start()


def test_mixed_batch_gives_the_local_matrices_in_order(remote, local):
    got = list(remote.run_many(MIXED))
    assert_same(got, list(local.run_many(MIXED)))
    hostile = got[-1][1]
    assert hostile.passed[0].all() and not hostile.passed[1:].any()
    assert Status(hostile.statuses[1, 0]) == Status.TIMEOUT
    assert remote.containment == local.containment


def test_real_problems_give_the_local_matrices(remote, local, shared_data):
    with gzip.open(shared_data / "codet" / "humaneval_codegen16b.problems.jsonl.gz", "rt") as f:
        problems = [json.loads(next(f)) for _ in range(2)]
    jobs = []
    for p in problems:  # the first candidates labelled right and wrong, the first generated tests
        picked = [c for c, ok in zip(p["candidates"], p["labels"]) if ok][:3] + \
                 [c for c, ok in zip(p["candidates"], p["labels"]) if not ok][:5]
        jobs.append(Job(p["task_id"], picked, p["tests"][:8], p["entry_point"]))
    got = list(remote.run_many(jobs))
    assert_same(got, list(local.run_many(jobs)))
    assert all(m.passed.any() and not m.passed.all() for _, m in got)


def test_a_consumer_that_stops_early_leaves_the_actors_usable(remote):
    stream = remote.run_many(Job(k, [SLEEPY], ["assert f(1) == 2"], "f") for k in range(8))
    assert next(stream)[0] == 0
    stream.close()
    assert not remote._pool.busy
    assert remote.run([ADD1], ["assert f(1) == 2"], entry_point="f").passed.all()


def test_killing_an_actor_mid_run_resubmits_its_tasks(ray, remote):
    pool = remote._pool
    before = pool.resubmitted
    killed = []

    def stream():
        for k in range(10):  # more than the first fill (4 per worker), so some come after the kill
            if not killed and pool.slots[0].in_flight:
                killed.append(pool.slots[0].handle)
                ray.kill(killed[0], no_restart=True)
            yield Job(k, [SLEEPY + f"_variant = {k}\n"], ["assert f(1) == 2", CALL], "f")  # distinct: none follows another

    out = list(remote.run_many(stream()))
    assert killed and pool.slots[0].handle is not killed[0]
    assert [key for key, _ in out] == list(range(10))
    assert all(m.shape == (1, 2) and m.passed.all() for _, m in out)
    assert pool.resubmitted > before
