"""Prune stages on real CodeGen-16B candidates (syntax errors, undefined names, duplicates)."""
import gzip
import json

import numpy as np
import pytest

from coderm.prune import PruneConfigError, build_stages, run_stages
from coderm.analysis import lint, normalized_key, parse

CODET = "codet/humaneval_codegen16b.problems.jsonl.gz"


@pytest.fixture(scope="module")
def problems(shared_data):
    with gzip.open(shared_data / CODET, "rt") as f:
        return [json.loads(next(f)) for _ in range(8)]


def test_syntax_stage_prunes_exactly_the_candidates_that_do_not_compile(problems):
    p = next(p for p in problems if any(parse(c) is None for c in p["candidates"]))
    res = run_stages(p, [{"stage": "syntax"}], None)
    broken = {i for i, c in enumerate(p["candidates"]) if parse(c) is None}
    assert set(res.pruned) == broken and all(s == "syntax" for s in res.pruned.values())
    assert set(res.survivors) == set(range(len(p["candidates"]))) - broken
    for i in broken:
        with pytest.raises(SyntaxError):
            compile(p["candidates"][i], "c", "exec")
    assert not any(p["labels"][i] for i in broken)


def test_exact_dedupe_merges_identical_programs_and_keeps_their_weight(problems):
    p = problems[0]
    res = run_stages(p, [{"stage": "dedupe", "mode": "exact"}], None)
    cands = p["candidates"]
    assert len(res.survivors) == len(set(cands)) < len(cands)
    assert res.weights.sum() == len(cands)
    for s in res.survivors:
        assert res.weights[s] == cands.count(cands[s])
    assert not res.pruned
    assert list(res.kept) == list(range(len(cands)))
    assert all(cands[res.survivors[r]] == cands[i] for i, r in zip(res.kept, res.rows))


def test_ast_dedupe_merges_programs_differing_in_comments_docstrings_and_local_names():
    a = 'def f(xs):\n    """Sum."""\n    total = 0  # acc\n    for x in xs:\n        total += x\n    return total\n'
    b = "def f(ys):\n    s = 0\n    for y in ys:\n        s += y\n    return s\n"
    c = "def f(ys):\n    s = 1\n    for y in ys:\n        s += y\n    return s\n"
    assert normalized_key(parse(a)) == normalized_key(parse(b)) != normalized_key(parse(c))
    res = run_stages({"candidates": [a, b, c], "entry_point": "f"}, [{"stage": "dedupe"}], None)
    assert res.survivors == [0, 2] and res.representative.tolist() == [0, 0, 2]
    assert res.weights.tolist() == [2.0, 0.0, 1.0]


def test_ast_dedupe_on_real_pool_merges_more_than_exact(problems):
    exact = sum(len(run_stages(p, [{"stage": "dedupe", "mode": "exact"}], None).survivors) for p in problems)
    ast_ = sum(len(run_stages(p, [{"stage": "dedupe"}], None).survivors) for p in problems)
    assert ast_ < exact


def test_lint_finds_undefined_names_missing_entry_point_and_no_return():
    assert lint(parse("def f(x):\n    return y\n"), "f").failed() == ["undefined-name"]
    assert lint(parse("def g(x):\n    return x\n"), "f").failed() == ["missing-entry-point"]
    assert lint(parse("def f(x):\n    for i in x:\n        print(i)\n"), "f").failed() == ["no-return"]
    assert lint(parse("def f(x):\n    def h():\n        return 1\n    x.sort()\n"), "f").failed() == ["no-return"]
    assert lint(parse("from typing import List\ndef f(x: List[int]):\n    yield from x\n"), "f").failed() == []


def test_lint_stage_on_real_pool_prunes_failing_candidates_only(problems):
    pruned = correct_pruned = 0
    for p in problems:
        res = run_stages(p, [{"stage": "syntax"}, {"stage": "lint"}], None)
        lint_pruned = [i for i, s in res.pruned.items() if s == "lint"]
        pruned += len(lint_pruned)
        correct_pruned += sum(p["labels"][i] for i in lint_pruned)
    assert pruned > 20  # CodeGen truncations: functions without a return, undefined names
    assert correct_pruned <= pruned * 0.05


def test_pruned_candidates_rank_below_survivors_later_stages_higher(problems):
    p = problems[2]
    res = run_stages(p, [{"stage": "syntax"}, {"stage": "dedupe"}, {"stage": "lint"}], None)
    assert "syntax" in res.pruned.values() or "lint" in res.pruned.values()
    scores = res.final_scores(np.zeros(len(res.kept)))
    pruned = np.array(sorted(res.pruned))
    assert scores[pruned].max() < scores[res.kept].min()
    by_stage = {s: scores[i] for i, s in res.pruned.items()}
    if {"syntax", "lint"} <= set(by_stage):
        assert by_stage["lint"] > by_stage["syntax"]
    assert set(res.stage_seconds) == {"syntax", "dedupe", "lint"}
    assert all(v >= 0 for v in res.stage_seconds.values())
    n = len(p["candidates"])
    assert len(res.kept) + len(res.pruned) == n


@pytest.mark.parametrize("config, message", [
    ([{"stage": "compile"}], "unknown stage 'compile'"),
    ([{"stage": "dedupe", "mode": "fuzzy"}], "mode must be"),
    ([{"stage": "lint", "checks": ["style"]}], "unknown check"),
    ([{"stage": "prefilter", "tests": 5}], "tests must be 1..3"),
    ([{"stage": "syntax", "strict": True}], "stage #0 (syntax)"),
    ([{"stage": "orm", "backend": "sklearn", "path": "/nonexistent/orm.pkl", "top_k": 3}], "does not exist"),
    ([{"stage": "orm", "backend": "sklearn", "path": "x"}], "exactly one of top_k or threshold"),
    ([{"stage": "orm", "backend": "bert", "path": "x", "top_k": 1}], "unknown ORM backend"),
    ("syntax", "must be a list"),
])
def test_bad_stage_config_fails_before_work(config, message):
    with pytest.raises(PruneConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_stages(config)
