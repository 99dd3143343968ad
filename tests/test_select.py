"""S* selection without a model: clustering of the outputs of the candidates that pass the public tests on
synthesized inputs, judged by agreement, and its surfaces (config, `coderm score --select`, rerank)."""
from __future__ import annotations

import json

import pytest

import coderm
from cli import coderm as run_coderm
from coderm.config import Config, ConfigError, SelectConfig

SQUARE_TESTS = ["assert f(2) == 4"]
RIGHT = ["def f(x):\n    return x * x\n", "def f(x):\n    return x ** 2\n", "def f(x):\n    return abs(x) * abs(x)\n"]
WRONG = ["def f(x):\n    return x + 2\n", "def f(x):\n    return 2 * x\n", "def f(x):\n    return 4\n"]
FAILS = ["def f(x):\n    return 0\n"]
CANDIDATES = [WRONG[0], RIGHT[0], WRONG[1], RIGHT[1], WRONG[2], RIGHT[2], *FAILS]  # every one but the last passes


def test_sstar_picks_the_agreeing_cluster_among_candidates_passing_the_public_tests():
    r = coderm.rerank("def f(x): ...", CANDIDATES, SQUARE_TESTS, entry_point="f", aggregator="passrate", select="sstar")
    right = [CANDIDATES.index(c) for c in RIGHT]
    assert r.best == right[0] and r.ranking[:3] == right
    why = r.selection
    assert why["kept"] == list(range(6)) and why["clusters"][0] == right and len(why["clusters"]) == 4
    assert 10 <= why["synthesized"] <= 20 and why["cells"] == 6 * why["synthesized"] and why["pairs"]
    assert all(p["winner"] == right[0] for p in why["pairs"] if right[0] in p["clusters"])
    assert all(p["deciding"] for p in why["pairs"] if p["winner"] is not None)
    assert r.scores[right[0]] == 1.0 and min(r.scores) == r.scores[6] < 0.5 < min(r.scores[:6])
    plain = coderm.rerank("def f(x): ...", CANDIDATES, SQUARE_TESTS, entry_point="f", aggregator="passrate")
    assert plain.selection is None and plain.scores[:6] == [1.0] * 6  # the public tests alone cannot tell


def test_agreement_across_clusters_beats_a_cluster_of_equal_size():
    """Two right programs, two wrong ones that agree with each other, and a third right one that fails
    on big inputs (its own cluster): it still votes with the right outputs where it has one, so the
    right pair wins the tie in size that cluster size alone would give to the wrong pair (listed first)."""
    fragile = "def f(x):\n    assert x < 6\n    return x * x\n"
    candidates = [WRONG[0], "def f(x):\n    return 2 + x\n", RIGHT[0], RIGHT[1], fragile]
    r = coderm.rerank("def f(x): ...", candidates, SQUARE_TESTS, entry_point="f", aggregator="passrate", select="sstar")
    assert sorted(map(sorted, r.selection["clusters"])) == [[0, 1], [2, 3], [4]]
    assert r.selection["clusters"][0] == [2, 3] and r.best == 2
    assert r.selection["points"][0] == 2.0  # it beat both other clusters


def test_select_config_is_typed_and_names_what_a_model_needs():
    assert Config().select == SelectConfig() and Config().select.method == "none"
    assert Config().with_overrides(select="sstar").select == SelectConfig(method="sstar")
    assert Config().with_overrides(select={"max_pairs": 3}).select.max_pairs == 3
    with pytest.raises(ConfigError, match="need select.model"):
        Config.from_dict({"select": {"method": "sstar", "inputs": "model"}})
    with pytest.raises(ConfigError, match="need select.model"):
        SelectConfig(debug_rounds=1)
    with pytest.raises(ConfigError, match="select.judge must be one of outputs, model"):
        SelectConfig(judge="vote")
    with pytest.raises(ConfigError, match="select.model.n must be 1"):
        SelectConfig(judge="model", model={"backend": "openai", "n": 4})
    with pytest.raises(ConfigError, match="select.model: generator.backend"):
        SelectConfig(judge="model", model={"backend": "telepathy"})
    with pytest.raises(ConfigError, match="select.debug_rounds must be an integer >= 0"):
        SelectConfig(debug_rounds=-1)
    assert SelectConfig(judge="model", model={"backend": "openai"}).model_config().n == 1
    with pytest.raises(ConfigError, match="select.method must be one of none, sstar"):
        Config.from_dict({"select": {"method": "best"}})
    with pytest.raises(ConfigError, match="select.max_pairs must be an integer >= 1"):
        SelectConfig(max_pairs=0)
    assert Config().fingerprint() != Config().with_overrides(select="sstar").fingerprint()


def test_coderm_score_select_sstar_writes_why(tmp_path):
    problem = {"task_id": "square", "prompt": "", "entry_point": "f", "candidates": CANDIDATES, "tests": SQUARE_TESTS}
    (tmp_path / "p.jsonl").write_text(json.dumps(problem) + "\n")
    r = run_coderm("score", "--problems", "p.jsonl", "--out", "s.jsonl", "--aggregator", "passrate", "--select", "sstar",
                   "--no-cache", "--quiet", "--workers", "2", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    line = json.loads((tmp_path / "s.jsonl").read_text())
    assert line["best"] == 1 and line["stats"]["select"]["clusters"][0] == [1, 3, 5]
    bad = run_coderm("score", "--problems", "p.jsonl", "--out", "t.jsonl", "--select", "model", cwd=tmp_path)
    assert bad.returncode == 2 and "--select" in bad.stderr
