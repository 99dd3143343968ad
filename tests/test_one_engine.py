"""One batch, every surface, one answer: score_batch, RewardFunction, the TRL / verl / OpenRLHF
adapters, `coderm serve` over loopback and `coderm score --aggregator passrate` give the same rewards."""
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import coderm
from coderm.config import load_config
from coderm.rl import RewardFunction
from coderm.rl.adapters import VerlReward, openrlhf_reward_func, trl_reward_func

ROOT = Path(__file__).resolve().parents[1]
FLAGS = {"workers": 2, "timeout": 2.0}
INVALID = "assert add(1,"  # a test that cannot run on any candidate: left out everywhere

PROBLEMS = {
    "add": (["assert add(1, 2) == 3", "assert add(-1, 1) == 0", {"type": "call", "args": [2, 2], "expected": 4}, INVALID],
            ["def add(a, b):\n    return a + b\n", "def add(a, b):\n    return a * b\n",
             "def add(a, b):\n    return a - b\n", "def add(a, b):\n    return abs(a) + b\n"]),
    "sq": (["assert sq(3) == 9", {"type": "call", "args": [-2], "expected": 4}, "assert sq(0) == 0"],
           ["def sq(x):\n    return x * x\n", "def sq(x):\n    return x + x\n", "def sq(x):\n    return abs(x) * 3\n"]),
    None: ([{"type": "stdio", "input": "3\n", "output": "6\n"}, {"type": "stdio", "input": "0\n", "output": "0\n"},
            {"type": "stdio", "input": "5\n", "output": "10\n"}],
           ["print(int(input()) * 2)\n", "print(int(input()) + 3)\n", "n = int(input())\nprint(n + n if n else 1)\n"]),
}


def make_batch(n: int = 54) -> tuple[list[str], list[dict], list[str | None]]:
    """``n`` completions over three problems (two function-level, one stdio): correct, wrong and
    partly right programs, bare or wrapped in a chat reply, plus replies with no code at all."""
    completions, truths, entry_points = [], [], []
    names = list(PROBLEMS)
    for i in range(n):
        entry = names[i % 3]
        tests, programs = PROBLEMS[entry]
        code = programs[(i // 3) % len(programs)] + f"# sample {i}\n"
        if i % 9 == 4:
            reply = "I am not sure how to solve this one."
        elif i % 2:
            reply = f"Here is the solution:\n```python\n{code}```\nIt reads the input and answers."
        else:
            reply = code
        completions.append(reply)
        truths.append({"tests": tests, "entry_point": entry})
        entry_points.append(entry)
    return completions, truths, entry_points


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "coderm", "serve", "--port", str(port), "--workers", "2",
                             "--timeout", "2"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail(f"coderm serve did not start: {proc.stderr.read()}")
    yield url
    proc.terminate()
    proc.wait(timeout=60)


def score_file(tmp_path: Path, completions: list[str], truths: list[dict]) -> list[float]:
    """`coderm score --aggregator passrate` on the batch written as problems, one per distinct test list."""
    groups: dict[str, list[int]] = {}
    for i, truth in enumerate(truths):
        groups.setdefault(json.dumps(truth, sort_keys=True), []).append(i)
    src = tmp_path / "batch.jsonl"
    src.write_text("".join(json.dumps({"task_id": f"g{g}", "prompt": "", "entry_point": truths[m[0]]["entry_point"],
                                       "tests": truths[m[0]]["tests"], "candidates": [completions[i] for i in m]}) + "\n"
                           for g, m in enumerate(groups.values())))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "coderm", "score", "--problems", str(src), "--out", "s.jsonl",
                        "--aggregator", "passrate", "--no-cache", "--workers", "2", "--timeout", "2", "--quiet"],
                       cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    rewards = [0.0] * len(completions)
    for line, members in zip((tmp_path / "s.jsonl").read_text().splitlines(), groups.values()):
        for i, score in zip(members, json.loads(line)["scores"]):
            rewards[i] = score
    return rewards


def test_every_surface_gives_the_same_rewards(tmp_path, server):
    completions, truths, entry_points = make_batch()
    assert len(completions) >= 50
    tests = [t["tests"] for t in truths]
    rf = RewardFunction(load_config("reward").with_overrides(**FLAGS))
    expected = rf(completions, tests=truths)
    # the batch is honest about what it holds: right, wrong, partly right and code-less replies
    assert {0.0, 1.0} < set(expected) and any(0 < r < 1 for r in expected)
    assert all(r == 0.0 for c, r in zip(completions, expected) if "not sure" in c)

    verl = VerlReward(rf)
    surfaces = {
        "score_batch": coderm.score_batch(completions, tests, entry_points=entry_points, **FLAGS),
        "RewardFunction, entry points as a column": rf(completions, tests=tests, entry_points=entry_points),
        "TRL": trl_reward_func(rf)(prompts=["p"] * len(completions), completions=completions, tests=truths),
        "verl batch": verl.compute_score_batch(["d"] * len(completions), completions, [json.dumps(t) for t in truths]),
        "verl single": [verl.compute_score("d", c, t) for c, t in zip(completions, truths)],
        "OpenRLHF file": openrlhf_reward_func(rf)(completions, [""] * len(completions),
                                                  [json.dumps(t) for t in truths])["rewards"].tolist(),
        "serve /reward": httpx.post(server + "/reward", json={"completions": completions, "tests": truths},
                                    timeout=120).json()["rewards"],
        "serve /get_reward": httpx.post(server + "/get_reward", json={"query": completions, "labels": truths},
                                        timeout=120).json()["rewards"],
        "coderm score": score_file(tmp_path, completions, truths),
    }
    for name, rewards in surfaces.items():
        assert rewards == pytest.approx(expected, abs=1e-6), name


def test_a_shared_test_list_means_the_same_to_score_batch_and_the_server(server):
    completions = ["def add(a, b):\n    return a + b\n", "```python\ndef add(a, b):\n    return a * b\n```"]
    shared = PROBLEMS["add"][0][:3]
    body = httpx.post(server + "/reward", json={"completions": completions, "tests": shared, "entry_points": ["add"] * 2},
                      timeout=60).json()
    assert body["rewards"] == coderm.score_batch(completions, shared, entry_points="add", **FLAGS) \
        == pytest.approx([1.0, 1 / 3])
