import gzip
import json

import numpy as np
import pytest

from coderm.aggregate import DEFAULT, NAMES, aggregate
from coderm.evaluate.metrics import best_of_n
from executor import Executor, ExecutorConfig, Job
from executor.matrix import PassMatrix
from executor.status import Status

# Rows: group A passes tests 0,1 (2 candidates); group B passes test 0 (4); C passes nothing (1).
GROUPS = np.array([[1, 1, 0], [1, 1, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0], [0, 0, 0]], dtype=bool)


def test_registry_and_bad_names():
    assert set(NAMES) == {"passrate", "coderm", "codet", "mbr", "consensus", "behaviour", "srank", "consensus_outputs", "b4"}
    assert DEFAULT in NAMES
    with pytest.raises(ValueError, match="passrate"):
        aggregate("nope", GROUPS)
    with pytest.raises(ValueError, match="2-D"):
        aggregate("codet", np.ones(3, dtype=bool))
    with pytest.raises(ValueError, match="test_weights"):
        aggregate("codet", GROUPS, test_weights=np.ones(2))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(0, 3), (4, 0), (0, 0)])
def test_empty_matrices_give_uniform_scores(name, shape):
    scores = aggregate(name, np.zeros(shape, dtype=bool))
    assert scores.shape == (shape[0],)
    assert len(set(scores.tolist())) <= 1


def test_passrate_is_weighted_fraction():
    scores = aggregate("passrate", GROUPS, test_weights=np.array([1.0, 3.0, 0.0]))
    assert scores.tolist() == pytest.approx([1, 1, 0.25, 0.25, 0.25, 0.25, 0])


def test_codet_group_math():
    # A: sqrt(2) * 2 tests; B: sqrt(4) * 1 test; C: passes nothing.
    # Scores are shares of the maximum, sqrt(7 candidates) * 3 tests.
    scores = aggregate("codet", GROUPS)
    assert scores.tolist() == pytest.approx(np.array([2 * np.sqrt(2)] * 2 + [2.0] * 4 + [0.0]) / (np.sqrt(7) * 3))
    # Candidate weights count as group members: B with weight 3 each -> sqrt(12) * 1 of sqrt(15) * 3.
    weighted = aggregate("codet", GROUPS, candidate_weights=np.array([1, 1, 3, 3, 3, 3, 1.0]))
    assert weighted[2] == pytest.approx(np.sqrt(12) / (np.sqrt(15) * 3))


def test_coderm_tie_break_prefers_the_most_shared_top_set():
    passed = np.array([[1, 1, 0], [0, 1, 1], [0, 1, 1], [1, 0, 1], [1, 0, 0]], dtype=bool)
    scores = aggregate("coderm", passed)
    assert scores[1] == scores[2]
    assert scores[1] > scores[0] == scores[3] > scores[4]


@pytest.mark.parametrize("name", NAMES)
def test_duplicates_equal_weights(name):
    """A duplicated row/column is the same evidence as a weight of 2 (DESIGN: duplicates count)."""
    rng = np.random.default_rng(0)
    base = rng.random((6, 5)) < 0.5
    base[3] = base[0]
    dup = np.vstack([base, base[[1]]])
    dup = np.hstack([dup, dup[:, [2]]])
    cw, tw = np.ones(6), np.ones(5)
    cw[1] = tw[2] = 2
    weighted = aggregate(name, base, candidate_weights=cw, test_weights=tw)
    duplicated = aggregate(name, dup)
    assert duplicated[:6] == pytest.approx(weighted)
    assert duplicated[6] == pytest.approx(duplicated[1])


@pytest.mark.parametrize("name", NAMES)
def test_identical_rows_tie(name):
    scores = aggregate(name, GROUPS)
    assert scores[0] == scores[1] and scores[2] == scores[5]


def test_mbr_counts_output_agreement():
    statuses = np.full((4, 2), int(Status.FAIL), dtype=np.uint8)
    m = PassMatrix(statuses, np.zeros((4, 2), dtype=np.float32))
    m.outputs.update({(0, 0): "1", (1, 0): "1", (2, 0): "2", (0, 1): "[3]", (1, 1): "[3]", (2, 1): "[3]"})
    scores = aggregate("mbr", m.passed, matrix=m)  # candidate 3 crashed everywhere
    assert scores.tolist() == pytest.approx([5 / 8, 5 / 8, 4 / 8, 0.0])


def test_consensus_counts_near_agreement_where_codet_splits_the_right_programs():
    """Six right programs split 3/3 by one extra test (5 vs 6); five wrong ones share one passed-set.
    CodeT sees groups of 3, 3 and 5 and picks the wrong five; consensus counts the near-identical
    right programs as agreeing and puts both right groups first."""
    wrong, right_a, right_b = [1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 0, 1, 1], [1, 1, 1, 1, 0, 1, 0]
    passed = np.array([wrong] * 5 + [right_a] * 3 + [right_b] * 3, dtype=bool)
    codet_scores = aggregate("codet", passed)
    assert codet_scores[:5].min() > codet_scores[5:].max()
    scores = aggregate("consensus", passed)
    assert scores[5:].min() > scores[:5].max()
    assert scores[5] > scores[8]  # the group passing more tests leads


def test_consensus_reduces_to_pass_count_when_every_program_differs():
    """With all-distinct passed-sets that do not overlap, support is 1 each: more tests passed wins."""
    passed = np.array([[1, 0, 0], [0, 1, 1], [0, 0, 0]], dtype=bool)
    scores = aggregate("consensus", passed)
    assert scores[1] > scores[0] > scores[2] == 0.0


def test_aggregators_on_real_codet_slice(shared_data):
    """Five CodeT problems x 25 CodeGen-16B candidates, run through the executor.

    On these, generated tests are noisy: raw pass rate does worse than a random pick, CodeT's dual
    agreement recovers, and consensus also gets the problems where CodeT backs a wrong group.
    """
    wanted = {"HumanEval/10", "HumanEval/11", "HumanEval/16", "HumanEval/21", "HumanEval/24"}
    with gzip.open(shared_data / "codet" / "humaneval_codegen16b.problems.jsonl.gz", "rt") as f:
        problems = [p for p in map(json.loads, f) if p["task_id"] in wanted]
    jobs = [Job(p["task_id"], p["candidates"][:25], p["tests"], p["entry_point"]) for p in problems]
    with Executor(ExecutorConfig(workers=2, timeout=1.0)) as ex:
        matrices = dict(ex.run_many(jobs))
    mean = {}
    for name in NAMES:
        mean[name] = np.mean([best_of_n(aggregate(name, matrices[p["task_id"]].passed, matrix=matrices[p["task_id"]]),
                                        np.array(p["labels"][:25])) for p in problems])
    random_pick = np.mean([np.mean(p["labels"][:25]) for p in problems])
    assert mean["passrate"] < random_pick < mean["codet"] < mean["consensus"]
    assert mean["consensus"] > 0.75


@pytest.mark.parametrize("name", NAMES)
def test_every_score_is_a_share_of_its_maximum(name):
    rng = np.random.default_rng(0)
    for shape in [(1, 1), (5, 3), (40, 60), (100, 7)]:
        for density in (0.1, 0.5, 0.9):
            passed = rng.random(shape) < density
            weights = rng.random(shape[0]) + 0.5
            scores = aggregate(name, passed, candidate_weights=weights)
            assert ((scores >= 0) & (scores <= 1 + 1e-12)).all(), (name, shape)
    unanimous = aggregate(name, np.ones((6, 4), dtype=bool))
    assert unanimous == pytest.approx(np.ones(6))  # every candidate agreeing and passing everything scores 1
