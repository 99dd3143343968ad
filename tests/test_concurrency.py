"""One executor shared by many threads: exact results, round-robin service, per-caller early stop."""
from __future__ import annotations

import asyncio
import gc
import gzip
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import coderm
from coderm.config import load_config
from coderm.extract import extract_code
from coderm.rl import RewardFunction
from executor import Executor, ExecutorConfig, Job
from executor.pool import Task, WorkerPool
from executor.scheduler import Scheduler, Stream
from executor.specs import as_test
from executor.status import Status

CONFIG = load_config("reward").with_overrides(workers=2, timeout=1.0, max_timeouts=1, cache=None)
TESTS = ["assert f(1) == 2", "assert f(2) == 3", {"type": "call", "args": [3], "expected": 4}]
GT = {"tests": TESTS, "entry_point": "f"}
CODES = ["def f(x):\n    return x + 1\n", "def f(x):\n    return x\n", "def f(x):\n    return 2 if x == 1 else 0\n",
         "def f(x):\n    while True:\n        pass\n", "no code here, sorry", "def f(x):\n    raise ValueError\n"]
LOOP = "def f(x):\n    while True:\n        pass\n"
SLEEPY = "import time\ndef f(x):\n    time.sleep(0.3)\n    return x + 1\n"


@pytest.fixture(scope="module")
def ex():
    with Executor(CONFIG.executor_config()) as executor:
        yield executor


def batch(k: int) -> list[str]:
    """A batch that differs by caller, so results cannot be swapped between callers unnoticed."""
    return [CODES[(k + i) % len(CODES)] for i in range(4)]


def test_many_threads_get_exactly_the_single_threaded_rewards(ex):
    rf = RewardFunction(CONFIG, executor=ex)
    alone = [[(r.reward, r.statuses) for r in rf.score(batch(k), tests=[GT] * 4)] for k in range(8)]
    with ThreadPoolExecutor(8) as threads:
        together = list(threads.map(lambda k: [(r.reward, r.statuses) for r in rf.score(batch(k), tests=[GT] * 4)],
                                    range(8)))
    assert together == alone


def test_rerank_and_score_batch_from_threads_match_sequential_calls():
    options = {"workers": 2, "timeout": 1.0, "max_timeouts": 1}

    def both(k: int) -> tuple:
        ranked = coderm.rerank("", batch(k)[:3], TESTS, entry_point="f", **options)
        return ranked.scores, coderm.score_batch(batch(k), TESTS, entry_points="f", **options)

    sequential = [both(k) for k in range(6)]
    with ThreadPoolExecutor(6) as threads:
        assert list(threads.map(both, range(6))) == sequential


def test_concurrent_awaits_match_sequential_calls(ex):
    rf = RewardFunction(CONFIG, executor=ex)
    sequential = [rf(batch(k), tests=[GT] * 4) for k in range(6)]

    async def together() -> list:
        return await asyncio.gather(*(rf.acall(batch(k), tests=[GT] * 4) for k in range(6)))

    assert asyncio.run(together()) == sequential


def test_a_flood_in_one_thread_does_not_hold_back_a_small_call_in_another(ex):
    """A caller floods the pool with looping candidates (each costs a 1 s timeout); a small call made
    after the flood started finishes long before the flood does: it is served between the flood's tasks,
    not after them (a global lock made it wait for the whole flood)."""
    flood = [Job(k, [LOOP + f"_variant = {k}\n"], TESTS[:1], "f") for k in range(16)]  # ~8 s on 2 workers
    started, finished = threading.Event(), {}

    def flooder() -> None:
        for _ in ex.run_many(flood, progress=lambda n: started.set()):
            pass
        finished["flood"] = time.monotonic()

    thread = threading.Thread(target=flooder)
    thread.start()
    assert started.wait(60)
    m = ex.run([CODES[0], CODES[1]], TESTS, "f")
    finished["small"] = time.monotonic()
    thread.join()
    assert m.passed.tolist() == [[True] * 3, [False] * 3]
    assert finished["small"] < finished["flood"]


def test_one_callers_early_stop_leaves_anothers_work_intact(ex):
    scheduler = ex.start()
    pids = [slot.process.pid for slot in scheduler.pool.slots]
    first = ex.run_many(Job(("a", k), [SLEEPY + f"_variant = {k}\n"], TESTS[:2], "f") for k in range(10))
    wrong = SLEEPY.replace("x + 1", "x")  # as slow as SLEEPY: no fast peer sets a short deadline
    second = ex.run_many(Job(("b", k), [SLEEPY + f"# b{k}\n", wrong], TESTS[:2], "f") for k in range(10))
    assert next(first)[0] == ("a", 0)
    key, m = next(second)
    first.close()  # the second caller has work on the workers: they are not restarted
    rest = [(key, m), *second]
    assert [k for k, _ in rest] == [("b", k) for k in range(10)]
    assert all(m.passed.tolist() == [[True, True], [False, False]] for _, m in rest)
    assert [slot.process.pid for slot in scheduler.pool.slots] == pids


def test_a_lone_callers_early_stop_frees_the_workers(ex):
    stream = ex.run_many(Job(k, [LOOP + f"# lone {k}\n"], TESTS, "f") for k in range(8))
    next(stream)
    stream.close()
    assert ex.start().call(lambda: not ex.start().pool.busy)
    assert ex.run([CODES[0]], TESTS, "f").passed.all()


def test_closing_the_executor_wakes_a_waiting_caller():
    executor = Executor(ExecutorConfig(workers=1, timeout=5.0))
    errors = []

    def caller() -> None:
        try:
            executor.run([LOOP], TESTS[:1], "f")
        except RuntimeError as e:
            errors.append(str(e))

    thread = threading.Thread(target=caller)
    thread.start()
    time.sleep(1.0)
    executor.close()
    thread.join(30)
    assert not thread.is_alive() and errors and "closed" in errors[0]


def test_closing_the_pool_after_a_worker_died_does_not_raise():
    """The executor closes its pool after its scheduler stops, so a worker killed mid-task is never replaced."""
    pool = WorkerPool(ExecutorConfig(workers=2, timeout=1.0))
    pool.slots[0].process.kill()
    pool.slots[0].process.wait()
    pool.close()
    assert pool.slots == []


@pytest.fixture
def one_worker():
    """A scheduler over one real worker: tasks run one after another, so what overlaps is known."""
    pool = WorkerPool(ExecutorConfig(workers=1, timeout=2.0))
    scheduler = Scheduler(pool)
    yield scheduler
    scheduler.close()
    pool.close()


ASSERTS = TESTS[:2]  # judged in the worker (a call test's output is judged by the runner, above the scheduler)


def task(code: str, tests: list = ASSERTS) -> Task:
    return Task(code, "f", [as_test(t) for t in tests])


def take(scheduler: Scheduler, stream: Stream, n: int) -> list[list[int]]:
    """The statuses of ``n`` finished tasks of ``stream``, as they finished."""
    done: list = []
    while len(done) < n:
        done += scheduler.take(stream)
    return [[cell[0] for cell in cells] for _, cells in done]


def test_identical_work_in_flight_runs_once_and_other_work_does_not(one_worker):
    """Two callers ask for the same candidate on the same tests at once: one run answers both. The
    same candidate on other tests, or with other deadlines, is other work and runs."""
    a, b = Stream(), Stream()
    one_worker.submit(a, task(SLEEPY))
    one_worker.submit(b, task(SLEEPY))
    one_worker.submit(b, task(SLEEPY, ASSERTS[:1]))
    other_deadlines = task(SLEEPY)
    other_deadlines.deadlines = [2.0, 2.0]
    one_worker.submit(b, other_deadlines)
    [first] = take(one_worker, a, 1)
    rest = take(one_worker, b, 3)
    assert first == [Status.PASS] * 2 and rest.count([Status.PASS] * 2) == 2 and [Status.PASS] in rest
    assert one_worker.shared == 1


def test_a_task_that_waited_while_its_twin_ran_takes_its_cells(one_worker):
    """b's copy of the fast candidate waits behind b's slow ones; a's copy runs and finishes meanwhile:
    b's copy is answered by that run when its turn comes, with the same verdicts."""
    a, b = Stream(), Stream()
    wrong = "def f(x):\n    return x\n"
    for k in range(3):
        one_worker.submit(b, task(SLEEPY + f"_variant = {k}\n"))
    one_worker.submit(b, task(wrong))
    one_worker.submit(a, task(wrong))
    assert take(one_worker, a, 1) == [[Status.FAIL] * 2]
    statuses = take(one_worker, b, 4)
    assert statuses.count([Status.FAIL] * 2) == 1 and statuses.count([Status.PASS] * 2) == 3
    assert one_worker.shared == 1


def test_a_follower_keeps_its_result_when_the_caller_it_follows_stops(one_worker):
    a, b = Stream(), Stream()
    one_worker.submit(a, task(SLEEPY))
    time.sleep(0.2)  # a's task is on the worker
    one_worker.submit(b, task(SLEEPY))
    time.sleep(0.2)  # b's task follows it
    one_worker.cancel(a)
    assert take(one_worker, b, 1) == [[Status.PASS] * 2]
    assert one_worker.shared == 1


def test_calls_made_one_after_another_share_nothing(one_worker):
    stream = Stream()
    for _ in range(2):
        one_worker.submit(stream, task(CODES[0]))
        assert take(one_worker, stream, 1) == [[Status.PASS] * 2]
    assert one_worker.shared == 0


@pytest.fixture
def eager_thread_switches():
    """A collection every few allocations, each running a Python callback where the GIL can change
    hands (as finalizers do), and the shortest switch interval: what made parses in threads fail."""
    interval, threshold = sys.getswitchinterval(), gc.get_threshold()

    def callback(phase: str, info: dict) -> None:
        pass

    sys.setswitchinterval(1e-6)
    gc.set_threshold(50)
    gc.callbacks.append(callback)
    yield
    gc.callbacks.remove(callback)
    gc.set_threshold(*threshold)
    sys.setswitchinterval(interval)


def test_completions_are_read_from_many_threads_at_once(eager_thread_switches, shared_data):
    """CPython 3.11 keeps one AST-construction depth per interpreter: two threads parsing at once
    failed with SystemError ("AST constructor recursion depth mismatch"), a 500 from ``coderm serve``
    under 4 clients. Every parse of ours goes through ``executor.astparse``."""
    with gzip.open(shared_data / "codet" / "humaneval_codegen16b.problems.jsonl.gz", "rt") as f:
        problem = json.loads(next(f))
    completions = problem["candidates"][:40]
    alone = [extract_code(c, problem["prompt"], problem["entry_point"]) for c in completions]
    with ThreadPoolExecutor(4) as threads:
        together = list(threads.map(
            lambda k: [extract_code(c, problem["prompt"], problem["entry_point"]) for c in completions * 5], range(4)))
    assert together == [alone * 5] * 4
