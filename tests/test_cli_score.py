import dataclasses
import gzip
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import yaml

from coderm.config import Config, load_config
from executor.config import ExecutorConfig

from cli import EXAMPLE, ROOT, codet_slice, coderm, interruptible


def lines(path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_help_teaches_with_an_example(tmp_path):
    r = coderm("score", "--help", cwd=tmp_path)
    assert r.returncode == 0
    assert "coderm score --problems coderm/examples/example.problems.jsonl --out scores.jsonl" in r.stdout
    assert "--aggregator" in r.stdout and "Exit codes" in r.stdout


def test_scores_the_bundled_example(tmp_path):
    r = coderm("score", "--problems", EXAMPLE, "--out", "scores.jsonl", "--aggregator", "passrate", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    problems, scores = lines(EXAMPLE), lines(tmp_path / "scores.jsonl")
    assert [s["task_id"] for s in scores] == [p["task_id"] for p in problems]
    for p, s in zip(problems, scores):
        assert len(s["scores"]) == len(p["candidates"]) and s["best"] == s["ranking"][0]
    assert scores[0]["scores"] == [1.0, 0.25, 1.0, 1.0, 0.5]
    assert (tmp_path / ".coderm-cache" / "cells.sqlite").is_file()  # the default cache lives in the current dir
    assert "scored 5 problems" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [".coderm-cache", "scores.jsonl"]

    again = coderm("score", "--problems", EXAMPLE, "--out", "again.jsonl", "--aggregator", "passrate", "--quiet",
                   cwd=tmp_path)
    assert again.returncode == 0 and again.stderr == ""
    cost = ("executed_cells", "cached_cells", "wall_seconds")  # what the rerun took differs, nothing else
    rerun = lines(tmp_path / "again.jsonl")
    assert [{**s, "stats": {k: v for k, v in s["stats"].items() if k not in cost}} for s in rerun] == \
        [{**s, "stats": {k: v for k, v in s["stats"].items() if k not in cost}} for s in scores]
    assert all(s["stats"]["executed_cells"] == 0 and s["stats"]["cached_cells"] == s["stats"]["unique_cells"]
               for s in rerun if s["stats"]["unique_cells"])


def write(path: Path, raw_lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(raw_lines) + b"\n")
    return path


def example_lines() -> list[bytes]:
    return EXAMPLE.read_bytes().splitlines()


@pytest.mark.parametrize("bad, words", [
    (b'{"task_id": "x", "prompt": ', "line 3"),
    (b'{"task_id": "x", "prompt": "caf\xe9", "candidates": []}', "line 3"),
    (b'{"task_id": "x", "prompt": "", "candidates": [1]}', "candidates[0]"),
    (b'{"task_id": "x", "candidates": []}', "'prompt'"),
    (b'{"task_id": "x", "prompt": "", "candidates": [], "tests": [{"type": "sql"}]}', "unknown test type"),
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, bad, words):
    src = write(tmp_path / "p.jsonl", example_lines()[:2] + [bad] + example_lines()[2:])
    r = coderm("score", "--problems", src, "--out", "s.jsonl", "--no-cache", cwd=tmp_path)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert f"{src}:3:" in r.stderr and words.replace("line 3", "") in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.jsonl"]


def test_skip_invalid_reports_and_goes_on(tmp_path):
    src = write(tmp_path / "p.jsonl", example_lines()[:1] + [b"not json", b'{"task_id": 3}'] + example_lines()[4:])
    r = coderm("score", "--problems", src, "--out", "s.jsonl", "--skip-invalid", "--no-cache", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("skipped invalid line") == 2 and "2 invalid lines skipped" in r.stderr
    assert [s["task_id"] for s in lines(tmp_path / "s.jsonl")] == ["example/clamp", "example/sum_pairs"]


def test_usage_and_config_errors_exit_2(tmp_path):
    assert coderm("score", "--problems", EXAMPLE, cwd=tmp_path).returncode == 2  # --out missing
    r = coderm("score", "--problems", tmp_path / "none.jsonl", "--out", "s.jsonl", cwd=tmp_path)
    assert r.returncode == 2 and "no such file" in r.stderr
    (tmp_path / "c.yaml").write_text("aggregatr: codet\n")
    r = coderm("score", "--problems", EXAMPLE, "--out", "s.jsonl", "--config", "c.yaml", cwd=tmp_path)
    assert r.returncode == 2 and "unknown key(s) aggregatr" in r.stderr
    r = coderm("score", "--problems", EXAMPLE, "--out", "no/such/dir/s.jsonl", "--no-cache", cwd=tmp_path)
    assert r.returncode == 2 and "output directory does not exist" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


def test_resumed_run_keeps_finished_lines_and_computes_the_rest(tmp_path):
    out = tmp_path / "s.jsonl"
    # A run killed after two problems: their lines (marked, to see they are not recomputed) and a torn third.
    finished = [{"task_id": "example/clamp", "scores": [9.0, 9.0, 9.0, 9.0, 9.0], "ranking": [0, 1, 2, 3, 4],
                 "best": 0, "n_tests": 4, "stats": {"marker": "from the killed run"}},
                {"task_id": "example/is_palindrome", "scores": [7.0, 7.0, 7.0], "ranking": [0, 1, 2],
                 "best": 0, "n_tests": 5, "stats": {"marker": "from the killed run"}}]
    partial = tmp_path / "s.jsonl.partial"
    partial.write_text("".join(json.dumps(f) + "\n" for f in finished) + '{"task_id": "example/running_m')
    config = Config().with_overrides(aggregator="passrate")
    (tmp_path / "s.jsonl.partial.config").write_text(config.fingerprint())

    r = coderm("score", "--problems", EXAMPLE, "--out", out, "--aggregator", "passrate", "--no-cache", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "2 kept from s.jsonl.partial" in r.stderr
    got = lines(out)
    assert got[:2] == finished
    assert [s["task_id"] for s in got] == [p["task_id"] for p in lines(EXAMPLE)]
    assert got[4]["scores"] == [1.0, 1.0, 0.0] and "marker" not in got[2]["stats"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.jsonl"]


def test_partial_output_of_another_configuration_is_refused(tmp_path):
    (tmp_path / "s.jsonl.partial").write_text('{"task_id": "example/clamp"}\n')
    (tmp_path / "s.jsonl.partial.config").write_text(Config(aggregator="codet").fingerprint())
    r = coderm("score", "--problems", EXAMPLE, "--out", "s.jsonl", "--aggregator", "passrate", cwd=tmp_path)
    assert r.returncode == 2 and "different configuration" in r.stderr
    assert not (tmp_path / "s.jsonl").exists()


def test_flags_override_the_config_file(tmp_path):
    (tmp_path / "c.yaml").write_text("aggregator: codet\ncache: null\nexecutor:\n  timeout: 3.0\n")
    base = ("score", "--problems", EXAMPLE, "--config", "c.yaml", "--quiet")
    assert coderm(*base, "--out", "codet.jsonl", cwd=tmp_path).returncode == 0
    assert coderm(*base, "--out", "pr.jsonl", "--aggregator", "passrate", cwd=tmp_path).returncode == 0
    assert lines(tmp_path / "pr.jsonl")[0]["scores"] == [1.0, 0.25, 1.0, 1.0, 0.5]
    assert lines(tmp_path / "codet.jsonl")[0]["scores"] != lines(tmp_path / "pr.jsonl")[0]["scores"]
    assert not (tmp_path / ".coderm-cache").exists()


def test_both_timeout_policies_score_the_example_alike(tmp_path):
    base = ("score", "--problems", EXAMPLE, "--no-cache", "--quiet")
    for policy in ("fixed", "calibrated"):
        assert coderm(*base, "--out", f"{policy}.jsonl", "--timeout-policy", policy, cwd=tmp_path).returncode == 0
    assert [r["scores"] for r in lines(tmp_path / "fixed.jsonl")] == [r["scores"] for r in lines(tmp_path / "calibrated.jsonl")]
    assert coderm(*base, "--out", "x.jsonl", "--timeout-policy", "adaptive", cwd=tmp_path).returncode == 2
    assert not (tmp_path / "x.jsonl").exists()


def test_default_yaml_is_the_built_in_default():
    path = ROOT / "coderm" / "configs" / "default.yaml"
    listed = yaml.safe_load(path.read_text())
    assert set(listed) == {f.name for f in dataclasses.fields(Config)}
    executor_fields = {f.name for f in dataclasses.fields(ExecutorConfig)} - {"workers", "cache_path"}
    assert set(listed["executor"]) == executor_fields  # workers: a comment (it depends on the machine)
    for section in ("budget", "extract", "reward", "select"):
        assert listed[section] == dataclasses.asdict(getattr(Config(), section))
    assert load_config(path) == Config() == load_config("default")
    assert load_config(path).executor_config() == ExecutorConfig(cache_path=Config().cache)
    config = load_config(path).with_overrides(workers=3, timeout=0.5, aggregator="codet")
    assert (config.executor_config().workers, config.executor_config().timeout, config.aggregator) == (3, 0.5, "codet")


def test_presets_resolve_by_name_from_any_directory(tmp_path):
    r = coderm("score", "--problems", EXAMPLE, "--out", "s.jsonl", "--config", "reward", "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert lines(tmp_path / "s.jsonl")[0]["scores"] == [1.0, 0.25, 1.0, 1.0, 0.5]  # the preset's passrate
    bad = coderm("score", "--problems", EXAMPLE, "--out", "t.jsonl", "--config", "nope", cwd=tmp_path)
    assert bad.returncode == 2 and "presets: " in bad.stderr and not (tmp_path / "t.jsonl").exists()


def test_codet_humaneval_slice(tmp_path, shared_data):
    src = codet_slice(shared_data, tmp_path / "he.jsonl", 2, 20)
    r = coderm("score", "--problems", src, "--out", "s.jsonl.gz", "--aggregator", "codet", "--no-cache", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    with gzip.open(tmp_path / "s.jsonl.gz", "rt") as f:
        scores = [json.loads(line) for line in f]
    assert [s["task_id"] for s in scores] == ["HumanEval/0", "HumanEval/1"]
    for s in scores:
        assert len(s["scores"]) == 20 and s["n_tests"] > 0 and s["stats"]["executed_pairs"] > 0


def test_interrupted_run_continues_where_it_stopped(tmp_path):
    fast = lambda t: {"task_id": t, "prompt": "", "entry_point": "f", "candidates": ["def f(): return 1"],
                      "tests": ["assert f() == 1"]}
    slow = {"task_id": "slow", "prompt": "", "entry_point": "f", "candidates": ["import time\ntime.sleep(60)"],
            "tests": ["assert f() == 1"]}
    src = tmp_path / "p.jsonl"
    src.write_text("".join(json.dumps(p) + "\n" for p in (fast("a"), slow, fast("b"))))
    (tmp_path / "c.yaml").write_text("executor: {load_timeout: 1.5, workers: 1}\n")
    args = ["-m", "coderm", "score", "--problems", src, "--out", "s.jsonl", "--aggregator", "passrate", "--no-cache",
            "--config", "c.yaml", "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, *map(str, args)], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True,
                            preexec_fn=interruptible)
    partial = tmp_path / "s.jsonl.partial"
    deadline = time.monotonic() + 60
    while not (partial.exists() and partial.read_text().count("\n") >= 1) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)  # "slow" is still loading
    assert proc.wait(timeout=60) == 130 and "interrupted" in proc.stderr.read()
    assert not (tmp_path / "s.jsonl").exists()
    assert [json.loads(line)["task_id"] for line in partial.read_text().splitlines()] == ["a"]

    args.remove("--quiet")
    r = subprocess.run([sys.executable, *map(str, args)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "1 kept from s.jsonl.partial" in r.stderr and "executed_cells 2," in r.stderr  # "a" was not rerun
    assert [s["task_id"] for s in lines(tmp_path / "s.jsonl")] == ["a", "slow", "b"]
    assert lines(tmp_path / "s.jsonl")[1]["scores"] == [0.0]


def test_bad_generator_section_exits_2_before_writing(tmp_path):
    (tmp_path / "g.yaml").write_text("generator: {backend: openai, temprature: 0.2}\n")
    r = coderm("score", "--problems", EXAMPLE, "--out", "s.jsonl", "--config", "g.yaml", cwd=tmp_path)
    assert r.returncode == 2 and "temprature" in r.stderr and "Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.yaml"]


def test_budget_keeps_the_allocated_number_of_tests(tmp_path, shared_data):
    src = codet_slice(shared_data, tmp_path / "he.jsonl", 4, 10)
    r = coderm("score", "--problems", src, "--out", "s.jsonl", "--budget", "3", "--no-cache", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    n_tests = [s["n_tests"] for s in lines(tmp_path / "s.jsonl")]
    assert sum(n_tests) == 12 and max(n_tests) <= 3  # equal split: 3 each (minus tests INVALID everywhere)
    for flags in (["--budget", "-1"], ["--budget", "2", "--allocator", "greedy"], ["--budget", "2", "--allocator", "curves"],
                  ["--budget", "2", "--difficulty-model", "missing.pkl"]):
        bad = coderm("score", "--problems", src, "--out", "t.jsonl", *flags, cwd=tmp_path)
        assert bad.returncode == 2 and "budget" in bad.stderr or "allocator" in bad.stderr, (flags, bad.stderr)
        assert "Traceback" not in bad.stderr and not list(tmp_path.glob("t.jsonl*"))


def test_presets_ship_in_the_wheel(tmp_path):
    """`coderm pareto --config pareto` and friends work after `pip install .`, away from a checkout."""
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                        str(tmp_path), str(ROOT)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    (wheel,) = tmp_path.glob("coderm-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"coderm/configs/{p}.yaml" for p in ("default", "reward", "pareto", "coderm-8b")} <= names


@pytest.mark.parametrize("config, flags, message", [
    ("aggregator: best\n", [], "unknown aggregator 'best'"),
    ("executor: {workers: 0}\n", [], "workers must be >= 1"),
    ("executor: {cache_path: x.sqlite}\n", [], "top-level key 'cache'"),
    ("executr: {}\n", [], "unknown key(s) executr"),
    ("prune: [{stage: compile}]\n", [], "unknown stage 'compile'"),
    ("prune: [{stage: orm, path: missing.pkl, top_k: 2}]\n", [], "does not exist"),
    ("budget: {tests: 2, allocator: curves}\n", [], "budget.allocator"),
    ("extract: {block: middle}\n", [], "block must be one of"),
    ("generator: {backend: openai, temprature: 0.2}\n", [], "temprature"),
    ("", ["--allocator", "curves"], "invalid choice"),
    ("", ["--timeout", "0"], "timeout must be > 0"),
])
def test_every_invalid_option_exits_2_and_writes_nothing(tmp_path, config, flags, message):
    (tmp_path / "c.yaml").write_text(config)
    r = coderm("score", "--problems", EXAMPLE, "--out", "s.jsonl", "--config", "c.yaml", *flags, cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]
