"""Output recording from generated asserts and the aggregators that cluster candidates by it (issue 17)."""
import gzip
import json

import numpy as np
import pytest

from coderm.aggregate import WITH_OUTPUTS, aggregate
from coderm.evaluate.metrics import best_of_n
from coderm.model import Problem
from coderm.pipeline import Pipeline
from coderm.select.synth import recording, recordings
from executor import Executor, ExecutorConfig, Job
from executor.compare import is_record_only
from executor.specs import as_test


@pytest.mark.parametrize("test, args, kwargs", [
    ("assert f(3, [1, 2]) == 7", [3, [1, 2]], {}),
    ("assert 7 == f(3, (1, 2)), 'literal on the left'", [3, [1, 2]], {}),
    ("assert candidate(x='a') == [1]", [], {"x": "a"}),
])
def test_recording_from_an_assert_against_a_literal(test, args, kwargs):
    call = recording(test, "f")
    assert call is not None and is_record_only(as_test(call))
    assert call["args"] == args and call.get("kwargs", {}) == kwargs


@pytest.mark.parametrize("test", [
    "assert f(x) == 1",                 # argument not a literal
    "assert f(1) == g(2)",              # expected side not a literal
    "assert abs(f(1) - 2) < 1e-6",      # not an equality with the call itself
    "assert f(1) != 2",
    "assert f(1) == 2\nassert f(2) == 3",
    "assert g(1) == 2",                 # another function
    {"type": "call", "args": [1], "expected": 2},
])
def test_no_recording_for_other_shapes(test):
    assert recording(test, "f") is None


def test_recordings_are_distinct_and_need_an_entry_point():
    tests = ["assert f(1) == 2", "assert f(1) == 3", "assert f(2) == 3"]
    assert [r["args"] for r in recordings(tests, "f")] == [[1], [2]]
    assert recordings(tests, None) == []


# Five candidates, two tests whose expected values are wrong for the right program. The right ones
# (rows 0-2) fail both; two wrong look-alikes (rows 3, 4) pass test 0 but disagree with each other.
PASSED = np.array([[0, 0], [0, 0], [0, 0], [1, 0], [1, 0]], dtype=bool)
OUTPUTS = np.array([["1", "2"], ["1", "2"], ["1", "2"], ["5", "2"], ["5", "9"]], dtype=object)


def test_behaviour_clusters_split_what_passed_sets_merge():
    """Rows 3 and 4 share a passed-set but not their outputs: two clusters of one, not one of two."""
    with_outputs = aggregate("behaviour", PASSED, outputs=OUTPUTS)
    assert with_outputs[3] == pytest.approx(aggregate("behaviour", PASSED)[3] / 2)


def test_srank_overlap_backs_the_cluster_the_others_half_agree_with():
    """Rows 3 and 4 each pass tests 0 and 1, but on input 1 row 3 agrees with the three programs
    that pass test 2: SRank's overlap lifts row 3 over row 4, which CodeT cannot tell apart."""
    passed = np.array([[0, 0, 1]] * 3 + [[1, 1, 0]] * 2, dtype=bool)
    scores = aggregate("srank", passed, outputs=OUTPUTS)
    assert scores[3] > scores[4]
    assert aggregate("codet", passed)[3] == aggregate("codet", passed)[4]


@pytest.mark.parametrize("name", sorted(WITH_OUTPUTS))
def test_output_aggregators_stay_shares_of_their_maximum(name):
    rng = np.random.default_rng(1)
    for alpha in (0.5, 1.0):
        passed = rng.random((30, 6)) < 0.5
        outputs = rng.choice(np.array(["a", "b", None], dtype=object), size=(30, 4))
        scores = aggregate(name, passed, outputs=outputs, candidate_weights=rng.random(30) + 0.1,
                           params={"alpha": alpha})
        assert ((scores >= 0) & (scores <= 1 + 1e-12)).all()
    with pytest.raises(ValueError, match="rows"):
        aggregate(name, passed, outputs=outputs[:3])


def test_recorded_outputs_on_real_codet_problems(shared_data):
    """CodeT asserts become record-only calls; srank on the outputs picks a right program where the
    pass matrix alone (codet) backs a wrong group."""
    with gzip.open(shared_data / "codet" / "humaneval_codegen16b.problems.jsonl.gz", "rt") as f:
        problem = next(p for p in map(json.loads, f) if p["task_id"] == "HumanEval/10")
    calls = recordings(problem["tests"], problem["entry_point"])
    assert len(calls) > 10
    candidates, t = problem["candidates"][:30], len(problem["tests"])
    with Executor(ExecutorConfig(workers=2, timeout=1.0)) as ex:
        (_, m), = ex.run_many([Job(0, candidates, problem["tests"] + calls, problem["entry_point"])])
    outputs = np.empty((len(candidates), len(calls)), dtype=object)
    for (i, j), text in m.outputs.items():
        if j >= t:
            outputs[i, j - t] = text
    assert (outputs != None).mean() > 0.5  # noqa: E711 (elementwise)
    labels = np.array(problem["labels"][:30])
    assert best_of_n(aggregate("srank", m.passed[:, :t], outputs=outputs), labels) == 1.0


def test_pipeline_records_outputs_only_for_an_output_aggregator(shared_data):
    """The pipeline adds the recordings to the job, scores from them, and counts only the judged tests."""
    with gzip.open(shared_data / "codet" / "humaneval_codegen16b.problems.jsonl.gz", "rt") as f:
        row = json.loads(next(f))
    problem = Problem.from_json({**row, "candidates": row["candidates"][:8], "labels": row["labels"][:8]})
    extra = len(recordings(row["tests"], row["entry_point"]))
    for name, added in (("srank", extra), ("consensus", 0)):
        with Executor(ExecutorConfig(workers=2, timeout=1.0)) as ex:
            scored = next(Pipeline.from_config(None, ex, aggregator=name).score([problem]))
        assert len(scored.tests) == len(row["tests"]) + added
        assert scored.result.n_tests <= len(row["tests"])
        assert all(0 <= s <= 1 for s in scored.result.scores)


def test_consensus_outputs_is_consensus_when_nothing_was_recorded():
    rng = np.random.default_rng(2)
    passed = rng.random((40, 9)) < 0.4
    assert aggregate("consensus_outputs", passed) == pytest.approx(aggregate("consensus", passed))


def test_b4_backs_the_group_whose_tests_the_rest_of_the_matrix_explains():
    """Three programs pass all four tests; four wrong ones each pass a different single test: the
    hypothesis "the three are right" leaves the least unexplained noise."""
    passed = np.array([[1, 1, 1, 1]] * 3 + [np.eye(4, dtype=int)[k].tolist() for k in range(4)], dtype=bool)
    scores = aggregate("b4", passed)
    assert scores.argmax() == 0 and scores[:3].sum() > 0.5
