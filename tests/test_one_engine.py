"""One batch, every surface, one answer: score_batch, RewardFunction, the TRL / verl / OpenRLHF
adapters, `coderm serve` over loopback and `coderm score --aggregator passrate` give the same rewards,
for every ground-truth format (written here, not downloaded)."""
import asyncio
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
from coderm.rl import RewardFunction, parse_tests
from coderm.rl.adapters import OpenRLHFReward, TrlReward, VerlReward

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


def every_surface(tmp_path: Path, server: str, rf: RewardFunction, completions: list, truths: list) -> dict[str, list]:
    """The batch's rewards from every surface; ``truths`` are the samples' ground truth as a dataset stores it."""
    n = len(completions)
    texts = [t if isinstance(t, str) else json.dumps(t) for t in truths]  # as a parquet column holds them
    contract = [dict(zip(("tests", "entry_point"), parse_tests(t))) for t in truths]
    verl = VerlReward(rf)

    async def verl_loop():
        return await asyncio.gather(*(verl.compute_score_async("d", c, t, {}) for c, t in zip(completions, truths)))

    return {
        "score_batch": coderm.score_batch(completions, texts, **FLAGS),
        "TRL": TrlReward(rf)(prompts=["p"] * n, completions=[[{"role": "assistant", "content": c}] for c in completions],
                             tests=truths),
        "TRL async": asyncio.run(TrlReward(rf).coderm_reward_async(prompts=None, completions=completions, tests=truths)),
        "verl batch": [d["score"] for d in verl.compute_score_batch(["d"] * n, completions, truths)],
        "verl single": [verl.compute_score("d", c, t)["score"] for c, t in zip(completions, texts)],
        "verl async": [d["score"] for d in asyncio.run(verl_loop())],
        "OpenRLHF file": OpenRLHFReward(rf)(completions, None, texts)["rewards"].tolist(),
        "serve /reward": httpx.post(server + "/reward", json={"completions": completions, "tests": truths},
                                    timeout=120).json()["rewards"],
        "serve /get_reward": httpx.post(server + "/get_reward", json={"query": completions, "labels": truths},
                                        timeout=120).json()["rewards"],
        "coderm score": score_file(tmp_path, completions, contract),
    }


def test_every_surface_gives_the_same_rewards(tmp_path, server):
    completions, truths, entry_points = make_batch()
    assert len(completions) >= 50
    tests = [t["tests"] for t in truths]
    rf = RewardFunction(load_config("reward").with_overrides(**FLAGS))
    expected = rf(completions, tests=truths)
    # the batch is honest about what it holds: right, wrong, partly right and code-less replies
    assert {0.0, 1.0} < set(expected) and any(0 < r < 1 for r in expected)
    assert all(r == 0.0 for c, r in zip(completions, expected) if "not sure" in c)

    surfaces = {
        "score_batch, entry points as a column": coderm.score_batch(completions, tests, entry_points=entry_points,
                                                                    **FLAGS),
        "RewardFunction, entry points as a column": rf(completions, tests=tests, entry_points=entry_points),
        **every_surface(tmp_path, server, rf, completions, truths),
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


# -- every ground-truth format, through every surface -------------------------------------------------
SUM_CHECKER = ("def check(input, expected, got):\n    parts = got.split()\n"
               "    return len(parts) == 2 and all(p.isdigit() and int(p) > 0 for p in parts) "
               "and sum(map(int, parts)) == int(input)\n")
# name: (ground truth as a dataset stores it, a correct reply, a wrong reply); each wrong reply fails every test
FORMATS = {
    "APPS fn_name": (
        {"input_output": json.dumps({"fn_name": "top_two", "inputs": [[[1, 5, 3]], [[-2, -7, 0]]], "outputs": [[8], [-2]]})},
        "def top_two(xs):\n    a, b = sorted(xs)[-2:]\n    return a + b\n", "def top_two(xs):\n    return max(xs)\n"),
    "APPS stdin, lines as lists": (
        json.dumps({"inputs": ["1 2\n", ["3", "4"]], "outputs": ["3\n", ["7"]]}),
        "import sys\nprint(sum(map(int, sys.stdin.read().split())))\n", "print(0)\n"),
    "LeetCode Solution class, keyword arguments": (
        {"tests": [{"input": "nums = [2,7,11,15], target = 9", "output": "[0,1]"},
                   {"input": "target = 6, nums = [3,2,4]", "output": "[1,2]"}], "entry_point": "Solution().twoSum"},
        "class Solution:\n    def twoSum(self, nums, target):\n        seen = {}\n        for i, x in enumerate(nums):\n"
        "            if target - x in seen:\n                return [seen[target - x], i]\n            seen[x] = i\n",
        "class Solution:\n    def twoSum(self, nums, target):\n        return [0, 0]\n"),
    "LiveCodeBench functional": (
        [{"input": "[1, 5, 2]\n0", "output": "5", "testtype": "functional", "metadata": '{"func_name": "biggest"}'},
         {"input": "[-3, -1]\n1", "output": "0", "testtype": "functional", "metadata": '{"func_name": "biggest"}'}],
        "class Solution:\n    def biggest(self, nums, k):\n        return max(nums) + k\n",
        "class Solution:\n    def biggest(self, nums, k):\n        return min(nums) - k\n"),
    "CodeContests splits": (
        {"public_tests": {"input": ["1 2\n"], "output": ["3\n"]}, "private_tests": {"input": ["5 5\n"], "output": ["10\n"]},
         "generated_tests": {"input": ["9 1\n"], "output": ["10\n"]}},
        "a, b = map(int, input().split())\nprint(a + b)\n", "a, b = map(int, input().split())\nprint(a - b)\n"),
    "HumanEval check": (
        {"test": "def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(-1) == -2\n", "entry_point": "double"},
        "def double(x):\n    return 2 * x\n", "def double(x):\n    return x + 3\n"),
    "MBPP test_list": (
        {"test_list": ["assert area(1) == round(math.pi, 2)", "assert area(2) == round(4 * math.pi, 2)"],
         "test_setup_code": "import math"},
        "import math\ndef area(r):\n    return round(math.pi * r * r, 2)\n", "def area(r):\n    return 3\n"),
    "special judge: a right answer the reference did not print": (
        {"inputs": ["4\n", "7\n"], "outputs": ["1 3\n", "1 6\n"], "judge": {"kind": "checker", "code": SUM_CHECKER}},
        "n = int(input())\nprint(n // 2, n - n // 2)\n", "n = int(input())\nprint(0, n)\n"),
    "float within its tolerance": (
        {"inputs": ["3\n", "7\n"], "outputs": ["0.333333\n", "0.142857\n"], "judge": {"kind": "float", "atol": 1e-5}},
        "print(1 / int(input()))\n", "print(round(1 / int(input()), 2))\n"),
    "evalplus inputs with atol": (
        {"fn_name": "mean", "inputs": [[[0.1, 0.2]], [[1.0, 2.0, 4.0]]], "outputs": [0.15, 2.3333333],
         "judge": {"kind": "float", "atol": 1e-6}},
        "def mean(xs):\n    return sum(xs) / len(xs)\n", "def mean(xs):\n    return max(xs)\n"),
    "unordered output": (
        {"tests": [{"type": "call", "args": [12], "expected": [1, 2, 3, 4, 6, 12], "judge": "unordered"},
                   {"type": "stdio", "input": "6\n", "output": "1 2 3 6\n", "judge": "unordered"}], "entry_point": "divisors"},
        "def divisors(n):\n    return [d for d in range(n, 0, -1) if n % d == 0]\n"
        "if __name__ == '__main__':\n    print(*divisors(int(input())))\n",
        "def divisors(n):\n    return [d for d in range(1, n) if n % d == 0]\n"
        "if __name__ == '__main__':\n    print(*divisors(int(input())))\n"),
}
NO_CODE = "I would sort the list and take the two largest numbers."


def format_batch() -> tuple[list[str], list, list[float]]:
    """Correct, wrong and code-less replies for every format, as chat replies."""
    completions, truths, expected = [], [], []
    for truth, right, wrong in FORMATS.values():
        for reply, reward in ((f"Solution:\n```python\n{right}```", 1.0), (f"```python\n{wrong}```\nDone.", 0.0),
                              (NO_CODE, 0.0)):
            completions.append(reply)
            truths.append(truth)
            expected.append(reward)
    return completions, truths, expected


def test_every_format_scores_right_1_and_wrong_0_on_every_surface(tmp_path, server):
    completions, truths, expected = format_batch()
    rf = RewardFunction(load_config("reward").with_overrides(**FLAGS))
    results = rf.score(completions, tests=truths)
    assert [r.reward for r in results] == expected, [(name, r.outcome, r.statuses) for name, r in
                                                      zip([k for k in FORMATS for _ in range(3)], results)]
    assert [r.outcome for r in results] == ["passed", "failed", "no_code"] * len(FORMATS)
    for name, rewards in every_surface(tmp_path, server, rf, completions, truths).items():
        assert rewards == pytest.approx(expected, abs=1e-6), name


def test_a_reply_without_code_has_its_own_outcome_and_reward_everywhere(server):
    truth = FORMATS["APPS fn_name"][0]
    replies = [NO_CODE, "```python\ndef top_two(xs):\n    return max(xs\n```"]  # no code; code with a syntax error
    rf = RewardFunction(load_config("reward").with_overrides(**FLAGS, reward={"no_code": 0.25}))
    columns: dict = {}
    trl = TrlReward(rf)(prompts=None, completions=replies, tests=[truth] * 2, log_extra=columns.__setitem__)
    assert trl == [0.25, 0.0] and columns["coderm_outcome"] == ["no_code", "failed"]
    verl = VerlReward(rf).compute_score_batch(["d"] * 2, replies, [truth] * 2)
    assert [(d["score"], d["no_code"], d["outcome"]) for d in verl] == [(0.25, 1.0, "no_code"), (0.0, 0.0, "failed")]
    assert verl[1]["error"] == 2  # the broken program ran and failed: ERROR on both tests
    openrlhf = OpenRLHFReward(rf)(replies, None, [truth] * 2)
    assert openrlhf["rewards"].tolist() == [0.25, 0.0] and openrlhf["extra_logs"]["no_code"].tolist() == [1.0, 0.0]
    body = httpx.post(server + "/reward", json={"completions": replies, "tests": [truth] * 2, "details": True},
                      timeout=60).json()
    assert [d["outcome"] for d in body["details"]] == ["no_code", "failed"] and body["rewards"] == [0.0, 0.0]
    logs = httpx.post(server + "/get_reward", json={"query": replies, "labels": [truth] * 2}, timeout=60).json()
    assert logs["extra_logs"]["no_code"] == [1.0, 0.0]


def test_converted_datasets_score_through_coderm_score(tmp_path):
    """`coderm convert` reads the raw records (APPS fn_name, LiveCodeBench, CodeContests) and `coderm score`
    gives the right program 1 and the wrong one 0."""
    apps_truth, apps_right, apps_wrong = FORMATS["APPS fn_name"]
    lcb_cases, lcb_right, lcb_wrong = FORMATS["LiveCodeBench functional"]
    cc_splits, cc_right, cc_wrong = FORMATS["CodeContests splits"]
    records = {
        "apps": ({"problem_id": 1, "question": "q", **apps_truth}, apps_right, apps_wrong),
        "livecodebench": ({"question_id": "lc1", "question_content": "q", "public_test_cases": json.dumps(lcb_cases[:1]),
                           "private_test_cases": json.dumps(lcb_cases[1:]), "metadata": lcb_cases[0]["metadata"]},
                          lcb_right, lcb_wrong),
        "codecontests": ({"name": "cc1", "description": "q", **cc_splits}, cc_right, cc_wrong),
    }
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for loader, (record, right, wrong) in records.items():
        (tmp_path / f"{loader}.raw.jsonl").write_text(json.dumps(record) + "\n")
        r = subprocess.run([sys.executable, "-m", "coderm", "convert", "--from", loader, "--input", f"{loader}.raw.jsonl",
                            "--out", f"{loader}.jsonl", "--quiet"], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        problem = json.loads((tmp_path / f"{loader}.jsonl").read_text())
        problem["candidates"] = [right, wrong]
        (tmp_path / f"{loader}.jsonl").write_text(json.dumps(problem) + "\n")
        r = subprocess.run([sys.executable, "-m", "coderm", "score", "--problems", f"{loader}.jsonl", "--out",
                            f"{loader}.scores.jsonl", "--aggregator", "passrate", "--no-cache", "--workers", "2", "--quiet"],
                           cwd=tmp_path, env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert json.loads((tmp_path / f"{loader}.scores.jsonl").read_text())["scores"] == [1.0, 0.0], loader
