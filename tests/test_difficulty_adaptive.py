"""The adaptive allocator: rounds of tests to the problems whose pick is still open, the budget kept."""
import gzip
import json

import numpy as np
import pytest

from coderm.aggregate import aggregate
from coderm.select import recordings
from difficulty import BudgetError, allocate_adaptive
from difficulty.adaptive import agreement, instability, next_test, similarity

from cli import codet_slice, coderm


def codet(passed: np.ndarray) -> np.ndarray:
    return aggregate("codet", passed)


def runner(matrices: list[np.ndarray], log: list[dict]):
    """Executes nothing: reads the requested columns of fixed matrices, and logs each round."""
    def run(req):
        log.append({i: list(idx) for i, idx in req.items()})
        return {i: matrices[i][:, idx] for i, idx in req.items()}
    return run


def test_a_settled_problem_stops_early_and_the_budget_goes_to_the_open_one():
    settled = np.ones((10, 16), dtype=bool)  # every candidate passes everything: no test moves the pick
    open_ = np.zeros((10, 16), dtype=bool)  # two camps of five, each passing every other test: the lead flips
    open_[:5, ::2] = open_[5:, 1::2] = True
    log: list[dict] = []
    texts = [[f"assert f({j}) == {j}" for j in range(16)]] * 2
    got = allocate_adaptive(runner([settled, open_], log), texts, [10, 10], 16, codet)
    assert got.counts.sum() == 16 and got.counts[1] > 2 * got.counts[0] >= 2
    assert log[0] == {0: [0, 1, 2, 3], 1: [0, 1, 2, 3]}  # the first round: half the share, every problem at once
    for i, m in enumerate((settled, open_)):
        assert len(set(got.tests[i])) == len(got.tests[i])  # no test runs twice
        assert np.array_equal(got.passed[i], m[:, got.tests[i]])  # the columns it read are the ones it chose
    assert sum(p.size for p in got.passed) <= 8 * 2 * 10  # cells within B x problems x candidates


def test_candidates_that_never_agree_get_fewer_tests_than_two_camps():
    """Every candidate its own passed-set (nobody agrees: most likely nobody is right) is worth less
    than two camps whose lead flips, though single tests move both picks."""
    rng = np.random.default_rng(0)
    scattered = rng.random((10, 16)) < 0.5
    camps = np.zeros((10, 16), dtype=bool)
    camps[:5, ::2] = camps[5:, 1::2] = True
    assert agreement(scattered) <= 0.2 and agreement(camps) == 0.5
    got = allocate_adaptive(runner([scattered, camps], []), [[f"t{j}" for j in range(16)]] * 2, [10, 10], 16, codet)
    assert got.counts[1] > got.counts[0]


def test_rounds_are_few_and_big_on_the_codet_file(shared_data):
    """B = 8 on 20 CodeT problems: the first round gives every problem half its share at once, each
    later round doubles the tests of the problems it picks, so the rounds number about log2(B)
    (the old one-test rounds took 28) and a round asks several tests of a problem."""
    rows = [json.loads(line) for line in gzip.open(shared_data / "codet/humaneval_codegen16b.problems.jsonl.gz", "rt")][:20]
    rng = np.random.default_rng(3)
    labels = [np.asarray(r["labels"], dtype=bool) for r in rows]
    matrices = [rng.random((100, len(r["tests"]))) < np.where(y, 0.9, 0.3)[:, None] for r, y in zip(rows, labels)]
    log: list[dict] = []
    got = allocate_adaptive(runner(matrices, log), [r["tests"] for r in rows], [100] * 20, 8 * 20, codet)
    assert got.counts.sum() == 160 and got.rounds == len(log) <= 6
    assert all(len(t) == 4 for t in log[0].values()) and len(log[0]) == 20  # half the share, all at once
    assert max(len(t) for t in log[1].values()) >= 4  # a later round doubles what a problem has
    assert len(set(got.counts)) > 1  # the budget moved between problems


def test_the_budget_is_capped_by_the_tests_there_are():
    m = [np.eye(4, 3, dtype=bool), np.zeros((4, 0), dtype=bool)]
    got = allocate_adaptive(runner(m, []), [["a", "b", "c"], []], [4, 4], 50, codet)
    assert got.tests == [[0, 1, 2], []] and got.passed[1].shape == (4, 0)


def test_next_test_prefers_the_likeness_of_a_test_that_split_the_top_group():
    texts = ["assert f([]) == 0", "assert f([1, 2]) == 3", "assert f([]) == 0 or True", "assert f([5, 6]) == 11"]
    sim = similarity(texts)
    assert next_test(sim, [0, 1], np.array([False, True]), [2, 3]) == 3
    assert next_test(sim, [0, 1], np.array([False, False]), [2, 3]) == 2  # nothing split yet: the given order


def test_instability_is_zero_evidence_for_identical_candidates_and_high_for_a_split():
    same, _ = instability(codet, np.ones((5, 4), dtype=bool))
    split, splits = instability(codet, np.array([[1, 0], [0, 1], [1, 1], [0, 0]], dtype=bool))
    assert same < split and splits.tolist() == [False, False]  # the top (candidate 2) is one candidate


def test_bad_answers_and_arguments_are_budget_errors():
    with pytest.raises(BudgetError, match="shape"):
        allocate_adaptive(lambda req: {i: np.zeros((3, 1), dtype=bool) for i in req}, [["a"]], [2], 1, codet)
    with pytest.raises(BudgetError, match="candidate counts"):
        allocate_adaptive(runner([], []), [["a"]], [], 1, codet)
    with pytest.raises(BudgetError, match="pass rate"):
        allocate_adaptive(runner([], []), [["a"]], [2], 1, codet, lam=[1.5])


def test_coderm_score_runs_adaptive_rounds_and_reports_the_tests_each_problem_got(tmp_path, shared_data):
    """The default aggregator reads outputs: each round also records the outputs on its asserts' calls."""
    src = codet_slice(shared_data, tmp_path / "he.jsonl", 4, 10)
    r = coderm("score", "--problems", src, "--out", "s.jsonl", "--budget", "4", "--allocator", "adaptive",
               "--no-cache", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    problems = [json.loads(line) for line in src.read_text().splitlines()]
    scores = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    runs = [s["stats"]["tests_run"] for s in scores]
    assert sum(map(len, runs)) == 16 and all(len(t) >= 1 for t in runs)
    recorded = 0
    for p, s, t in zip(problems, scores, runs):
        assert len(set(t)) == len(t) and all(0 <= j < len(p["tests"]) for j in t)
        calls = len(recordings([p["tests"][j] for j in t], p["entry_point"]))
        assert s["stats"]["executed_pairs"] == 10 * (len(t) + calls) and s["n_tests"] <= len(t)
        recorded += calls
    assert recorded > 0
