"""Ray backend on a local single-node Ray instance: same rewards as the local executor, and a
batch stays complete when an actor is killed mid-batch. Slow (Ray starts in ~10 s)."""
import pytest

ray = pytest.importorskip("ray")

from executor import ExecutorConfig, Job  # noqa: E402
from coderm.rl import RewardConfig, RewardFunction  # noqa: E402
from coderm.rl.ray_backend import RayExecutor  # noqa: E402
from test_rl_adapters import GT, HOSTILE, batch, check_scores  # noqa: E402

pytestmark = pytest.mark.slow
CONFIG = ExecutorConfig(workers=1, timeout=1.0, max_timeouts=1, load_timeout=5.0, cache_path=None)


@pytest.fixture(scope="module")
def rex():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ex = RayExecutor(CONFIG, actors=2)
    yield ex
    ex.close()
    ray.shutdown()


def test_hostile_batch_through_ray(rex):
    rf = RewardFunction(RewardConfig(executor=CONFIG), executor=rex)
    check_scores(rf(batch(), tests=[GT] * (len(HOSTILE) + 2)))


def test_killing_an_actor_mid_batch_still_returns_every_matrix(rex):
    honest, loop = "def f(x):\n    return x\n", "def f(x):\n    while True:\n        pass\n"
    jobs = [Job(i, [honest, loop], ["assert f(1) == 1"], "f") for i in range(6)]
    before = rex.resubmitted

    def stream():
        for k, job in enumerate(jobs):
            if k == 3:  # problems are in flight on both actors by now
                ray.kill(rex.actors[0], no_restart=True)
            yield job

    out = list(rex.run_many(stream()))
    assert [k for k, _ in out] == list(range(6))
    assert all(m.passed[:, 0].tolist() == [True, False] for _, m in out)
    assert rex.resubmitted > before
