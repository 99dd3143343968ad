import json
from pathlib import Path

import numpy as np
import pytest

import coderm.pipeline
from coderm.config import Config, ConfigError
from coderm.model import Problem
from coderm.pipeline import PLAN_BATCH, Pipeline
from executor import Executor, ExecutorConfig
from executor.matrix import PassMatrix
from executor.status import Status

EXAMPLE = Path(__file__).resolve().parents[1] / "coderm" / "examples" / "example.problems.jsonl"
P, F, I, S = Status.PASS, Status.FAIL, Status.INVALID, Status.SKIPPED


def example_problems() -> list[Problem]:
    return [Problem.from_json(json.loads(line)) for line in EXAMPLE.read_text().splitlines()]


def matrix(rows) -> PassMatrix:
    statuses = np.array(rows, dtype=np.uint8).reshape(len(rows), -1 if rows else 0)
    return PassMatrix(statuses, np.full(statuses.shape, 0.5, dtype=np.float32))


def problem(n: int, tests=None) -> Problem:
    return Problem("t", "", [f"c{i}" for i in range(n)], "f", tests)


def score_matrix(p: Problem, m: PassMatrix, aggregator: str):
    return Pipeline(Config(cache=None, aggregator=aggregator)).score_matrix(p, m)


def known_tests(p: Problem, mode: str) -> list:
    return Pipeline(Config(cache=None, mined_tests=mode))._known_tests(p)


def test_score_matrix_drops_tests_invalid_everywhere_and_ranks_stably():
    m = matrix([[P, I, F, S], [F, I, P, S], [P, I, P, F], [P, I, F, S]])
    r = score_matrix(problem(4), m, "passrate")
    assert r.n_tests == 3 and r.stats["invalid_tests"] == 1
    assert r.scores == pytest.approx([1 / 3, 1 / 3, 2 / 3, 1 / 3])
    assert r.ranking == [2, 0, 1, 3] and r.best == 2
    assert r.stats["executed_pairs"] == 13  # 16 cells, 3 SKIPPED
    assert r.stats["seconds"] == pytest.approx(8.0)


@pytest.mark.parametrize("rows, n, why", [([], 0, "no candidates"), ([[I, I], [I, I]], 2, "no usable tests"),
                                         ([[], []], 2, "no usable tests")])
def test_no_candidates_or_no_usable_tests_give_uniform_scores(rows, n, why):
    m = matrix(rows) if rows and rows[0] else PassMatrix.empty(n, 0)
    r = score_matrix(problem(n), m, "codet")
    assert r.scores == [0.0] * n and r.ranking == list(range(n))
    assert r.best == (0 if n else None) and r.n_tests == 0 and r.stats["uniform"] == why


def test_known_tests_modes():
    given = problem(1, ["assert f() == 1"])
    assert known_tests(given, "absent") == ["assert f() == 1"]
    bare = Problem("t", 'def f():\n    """\n    >>> f()\n    1\n    """\n', ["x"], "f")
    assert known_tests(bare, "never") == []
    assert known_tests(bare, "absent") == ["assert f() == 1"]


def test_mined_tests_join_problems_without_tests():
    vowels = next(p for p in example_problems() if p.tests is None)
    mined = known_tests(vowels, "absent")
    assert "assert count_vowels('banana') == 3" in mined
    given = problem(1, ["assert f() == 1"])
    given.prompt = ">>> f()\n1\n"
    assert known_tests(given, "always") == ["assert f() == 1", "assert f() == 1"]


def test_generator_runs_in_batches_after_prune_and_plan_for_problems_without_tests(monkeypatch):
    calls = []

    def generate_tests(problems, settings, cache_dir=None, backend=None):
        calls.append(([p["task_id"] for p in problems], [len(p["candidates"]) for p in problems], settings))
        return {p["task_id"]: [f"assert f() == {p['task_id']}", "assert True"] for p in problems}

    monkeypatch.setattr(coderm.pipeline, "generate_tests", generate_tests)
    problems = [Problem(str(i), "", ["def f(): return 1", "def f( broken"], "f", ["assert True"] if i % 2 else None)
                for i in range(PLAN_BATCH + 3)]
    config = Config(cache=None, generator={"backend": "openai", "model": "m", "n": 4}, mined_tests="never",
                    prune=[{"stage": "syntax"}], budget={"tests": 1})
    jobs = list(Pipeline(config)._jobs(problems, executor=None))
    assert [j.key[0].task_id for j in jobs] == [p.task_id for p in problems]
    # The budget keeps 1 each; the default aggregator also records outputs on the kept assert's call.
    assert jobs[0].tests == ["assert f() == 0", {"type": "call", "args": []}] and jobs[1].tests == ["assert True"]
    assert all(j.candidates == ["def f(): return 1"] for j in jobs)  # the syntax error was pruned first
    assert [len(ids) for ids, _, _ in calls] == [PLAN_BATCH // 2, 2]  # a full batch + 3 problems, even ids lack tests
    assert all(set(sizes) == {1} for _, sizes, _ in calls)  # the generator saw only the survivor
    assert all(settings.n == 4 and settings.model == "m" for _, _, settings in calls)


@pytest.mark.parametrize("config, message", [
    (Config(generator={"backend": "openai", "temprature": 0.2}), "unknown field"),
    (Config(prune=[{"stage": "nope"}]), "prune"),
])
def test_bad_settings_are_config_errors_at_construction(config, message):
    with pytest.raises(ConfigError, match=message):
        Pipeline(config)


@pytest.mark.parametrize("budget, message", [({"tests": -1}, "budget.tests"), ({"tests": 2, "allocator": "curves"}, "allocator"),
                                             ({"tests": 2, "allocator": "greedy"}, "difficulty_model")])
def test_bad_budgets_are_config_errors(budget, message):
    with pytest.raises(ConfigError, match=message):
        Config(budget=budget)


def test_score_on_the_example_keeps_input_order():
    problems = example_problems()
    with Executor(ExecutorConfig(workers=2, timeout=2.0)) as ex:
        scored = list(Pipeline(Config(cache=None, mined_tests="never", aggregator="passrate"), ex).score(problems))
    assert [s.problem.task_id for s in scored] == [p.task_id for p in problems]
    by_id = {s.problem.task_id: s for s in scored}
    assert by_id["example/clamp"].result.scores == [1.0, 0.25, 1.0, 1.0, 0.5]
    assert by_id["example/sum_pairs"].result.scores == [1.0, 1.0, 0.0]
    assert by_id["example/count_vowels"].result.stats["uniform"] == "no usable tests"
    for s in scored:
        assert s.matrix.shape == (len(s.problem.candidates), len(s.tests))
        labels = np.array(s.problem.labels)
        if s.result.n_tests:  # on the example every correct candidate passes everything it is given
            assert (np.array(s.result.scores)[labels] == 1.0).all()


def test_prune_stages_run_before_execution_and_rank_pruned_candidates_last():
    good = "def f(x):\n    return x + 1\n"
    problem = Problem("p", "", [good, "def f(x) return 1", good + "\n\n", "def f(x):\n    return y\n", "def f(x):\n    return x\n"],
                      "f", ["assert f(1) == 2", "assert f(2) == 3"])
    config = Config(cache=None, aggregator="passrate",
                    prune=[{"stage": "syntax"}, {"stage": "dedupe", "mode": "ast"}, {"stage": "lint"}])
    with Executor(ExecutorConfig(workers=1, timeout=2.0)) as ex:
        before = ex.stats["executed_cells"]
        (scored,) = Pipeline(config, ex).score([problem])
        executed = ex.stats["executed_cells"] - before
    scores = scored.result.scores
    assert executed == 4  # 2 survivors (good; x) x 2 tests: the duplicate, the syntax error and the lint failure never ran
    assert scores[0] == scores[2] == 1.0 and scores[4] == 0.0
    assert max(scores[1], scores[3]) < scores[4]  # pruned ones rank below every executed one
    assert scored.result.stats["pruned"] == 2 and scored.result.ranking[:2] == [0, 2]


def test_a_problem_without_candidates_reports_no_invalid_tests():
    """Nothing ran, so nothing says its test is invalid (it once reported "invalid_tests": 1)."""
    r = score_matrix(problem(0, ["assert f() == 1"]), PassMatrix.empty(0, 1), "codet")
    assert "invalid_tests" not in r.stats and r.stats["uniform"] == "no candidates"
