"""`coderm pareto` on a small slice of the CodeT file, through the real executor and aggregators."""
import gzip
import json

import numpy as np
import pytest
import yaml

from coderm.cli import main
from coderm.evaluate.metrics import best_of_n
from coderm.config import Config
from coderm.evaluate.pareto import Outcome, build_variants, fastest_within, frontier
from coderm.model import Problem
from coderm.select.synth import recordings

CODET = "codet/humaneval_codegen16b.problems.jsonl.gz"


@pytest.fixture(scope="module")
def small(shared_data, tmp_path_factory):
    """Two problems cut to 12 candidates and 6 tests so the suite stays fast."""
    path = tmp_path_factory.mktemp("pareto") / "small.jsonl"
    with gzip.open(shared_data / CODET, "rt") as f:
        rows = [json.loads(next(f)) for _ in range(3)][1:]
    with open(path, "w") as out:
        for p in rows:
            p = dict(p, candidates=p["candidates"][:12], labels=p["labels"][:12], tests=p["tests"][:6])
            out.write(json.dumps(p) + "\n")
    return path


def _config(tmp_path, pipelines, **extra):
    path = tmp_path / "pareto.yaml"
    path.write_text(yaml.safe_dump({"executor": {"timeout": 0.5, "workers": 2}, "baseline": "full",
                                    "pipelines": pipelines, **extra}))
    return str(path)


PIPELINES = [
    {"name": "full", "stages": []},
    {"name": "first-2", "tests": 2},
    {"name": "syntax-dedupe-lint", "stages": [{"stage": "syntax"}, {"stage": "dedupe"}, {"stage": "lint"}]},
]


def test_report_table_plot_and_results(small, tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["pareto", "--problems", str(small), "--config", _config(tmp_path, PIPELINES),
                 "--out-dir", str(out)]) == 0
    report = (out / "report.md").read_text()
    for name in ("full", "first-2", "syntax-dedupe-lint"):
        assert f"| {name} |" in report
    assert (out / "frontier.png").read_bytes()[:4] == b"\x89PNG"
    results = {r["name"]: r for r in json.loads((out / "results.json").read_text())}
    assert results["full"]["programs"] == 24 and results["full"]["seconds"] > 0
    assert results["full"]["executed_pairs"] > results["first-2"]["executed_pairs"] > 0
    assert results["syntax-dedupe-lint"]["executed_pairs"] < results["full"]["executed_pairs"]
    assert set(results["syntax-dedupe-lint"]["stage_seconds"]) == {"syntax", "dedupe", "lint", "execute"}
    assert 0 <= results["full"]["accuracy"] <= 1


def test_full_pipeline_accuracy_equals_aggregating_the_full_matrix(small, tmp_path):
    from coderm.aggregate import DEFAULT, aggregate
    from executor import Executor, ExecutorConfig

    out = tmp_path / "r"
    assert main(["pareto", "--problems", str(small), "--config", _config(tmp_path, PIPELINES[:1]),
                 "--out-dir", str(out)]) == 0
    got = json.loads((out / "results.json").read_text())[0]["accuracy"]
    problems = [json.loads(line) for line in small.read_text().splitlines()]
    accs = []
    with Executor(ExecutorConfig(timeout=0.5, workers=2)) as ex:
        for p in problems:  # the default aggregator also reads the outputs recorded on the asserts' calls
            calls, t = recordings(p["tests"], p["entry_point"]), len(p["tests"])
            m = ex.run(p["candidates"], p["tests"] + calls, p["entry_point"])
            outputs = np.empty((len(p["candidates"]), len(calls)), dtype=object)
            for (i, j), text in m.outputs.items():
                if j >= t:
                    outputs[i, j - t] = text
            accs.append(best_of_n(aggregate(DEFAULT, m.passed[:, :t], outputs=outputs), np.array(p["labels"])))
    assert got == pytest.approx(np.mean(accs))


@pytest.mark.parametrize("pipelines, extra_args, message", [
    ([{"name": "full"}, {"name": "x", "stages": [{"stage": "compile"}]}], [], "unknown stage 'compile'"),
    ([{"name": "full"}, {"name": "o", "stages": [{"stage": "orm", "path": "{orm}", "top_k": 3}]}], [], "--orm"),
    ([{"name": "full"}, {"name": "o", "stages": [{"stage": "orm", "path": "{orm}", "top_k": 50}]}],
     ["--orm", "/nonexistent.pkl"], "does not exist"),
    ([{"name": "full"}, {"name": "full"}], [], "unique"),
    ([{"name": "full"}, {"name": "k", "tests": -1}], [], "tests must be"),
])
def test_bad_config_fails_before_work(small, tmp_path, capsys, pipelines, extra_args, message):
    out = tmp_path / "never"
    assert main(["pareto", "--problems", str(small), "--config", _config(tmp_path, pipelines),
                 "--out-dir", str(out), *extra_args]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_top_k_larger_than_pool_fails_before_work(small, tmp_path, capsys, shared_data):
    from coderm.orm.sklearn_orm import train

    with gzip.open(shared_data / CODET, "rt") as f:
        problems = [json.loads(next(f)) for _ in range(4)]
    model = tmp_path / "orm.pkl"
    train(problems, folds=2).save(model)
    pipelines = [{"name": "full"}, {"name": "o", "stages": [{"stage": "orm", "path": "{orm}", "top_k": 13}]}]
    out = tmp_path / "never"
    assert main(["pareto", "--problems", str(small), "--config", _config(tmp_path, pipelines),
                 "--orm", str(model), "--out-dir", str(out)]) == 2
    assert "top_k=13 is larger than the pool of 12" in capsys.readouterr().err
    assert not out.exists()


def test_frontier_keeps_only_undominated_points():
    def o(name, acc, secs):
        return Outcome(name, "", acc, 100, secs, 0, {}, {})

    points = [o("full", 0.40, 10.0), o("fast", 0.39, 1.0), o("dominated", 0.38, 2.0), o("best", 0.41, 10.0)]
    assert [p.name for p in frontier(points)] == ["fast", "best"]


def test_orm_only_pipeline_after_dedupe_scores_merged_candidates_like_their_representative(shared_data, tmp_path):
    from coderm.orm.sklearn_orm import train

    with gzip.open(shared_data / CODET, "rt") as f:
        problems = [json.loads(next(f)) for _ in range(4)]
    model = tmp_path / "orm.pkl"
    train(problems, folds=2).save(model)
    [variant] = build_variants([{"name": "o", "tests": 0, "stages": [
        {"stage": "dedupe", "mode": "exact"}, {"stage": "orm", "path": "{orm}", "top_k": 5}]}], Config(cache=None), str(model))
    p = problems[0]
    (scored,) = variant.pipeline.score([Problem.from_json(p)], executor=None)
    scores = np.array(scored.result.scores)
    assert scored.result.stats["executed_pairs"] == 0 and np.isfinite(scores).all()
    for i, c in enumerate(p["candidates"]):
        assert scores[i] == scores[p["candidates"].index(c)]
    assert len(set(p["candidates"][i] for i in np.flatnonzero(scores == scores.max()))) == 1


def test_fastest_within_allowed_loss():
    def o(name, acc, secs):
        return Outcome(name, "", acc, 100, secs, 0, {}, {})

    points = [o("full", 0.40, 10.0), o("ok", 0.395, 2.0), o("too-lossy", 0.38, 1.0)]
    assert fastest_within(points, "full", 0.01).name == "ok"
    assert fastest_within(points, "full", 0.0).name == "full"
