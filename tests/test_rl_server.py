"""The reward server over real loopback HTTP: OpenRLHF and native requests, limits, shutdown."""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from coderm.rl import RewardFunction
from coderm.rl.server import create_app
from test_rl_adapters import CONFIG, GT, HONEST, HOSTILE, TESTS, check_scores, fenced

ROOT = Path(__file__).resolve().parents[1]
LOOP = "def add(a, b):\n    while True:\n        pass\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThreadServer:
    """uvicorn in a thread on a free loopback port (the lifespan warms and closes the executor)."""

    def __init__(self, app):
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.time() + 30
        while not self.server.started:
            assert time.time() < deadline and self.thread.is_alive(), "server did not start"
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(30)


@pytest.fixture(scope="module")
def url():
    app = create_app(RewardFunction(CONFIG), max_body_bytes=64 << 10, max_concurrency=4)
    with ThreadServer(app) as base:
        yield base


def test_openrlhf_remote_rm_request_hostile_batch(url):
    """OpenRLHF posts query = prompt + response, prompts, labels (--label_key) and reads 'rewards'."""
    prompt = "<|user|>Write add(a, b).<|assistant|>"
    responses = [fenced(HONEST), *(fenced(c) for c in HOSTILE.values()), fenced(HONEST.replace("a + b", "b + a"))]
    label = json.dumps(GT)
    payload = {"query": [prompt + r for r in responses], "prompts": [prompt] * len(responses),
               "labels": [label] * len(responses)}
    r = httpx.post(f"{url}/get_reward", json=payload, timeout=60)
    assert r.status_code == 200, r.text
    check_scores(r.json()["rewards"])


def test_native_request_with_details(url):
    r = httpx.post(f"{url}/reward", timeout=60, json={
        "completions": [HONEST, "def add(a, b):\n    return 0\n"], "tests": [TESTS, TESTS],
        "entry_points": ["add", "add"], "details": True})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rewards"] == [1.0, pytest.approx(1 / 3)]  # add(-1, 1) == 0 holds for the constant 0
    assert body["details"][1]["statuses"] == ["FAIL", "PASS", "FAIL"]


@pytest.mark.parametrize("path, body, code, reason", [
    ("/reward", b"{not json", 400, "not valid JSON"),
    ("/reward", b"[1, 2]", 422, "JSON object"),
    ("/reward", json.dumps({"completions": "x", "tests": []}).encode(), 422, "'completions' must be a list"),
    ("/reward", json.dumps({"completions": ["x"]}).encode(), 422, "'tests' is required"),
    ("/reward", json.dumps({"completions": ["x", "y"], "tests": [["assert 1"]]}).encode(), 422, "2 completions and 1 test lists"),
    ("/reward", json.dumps({"completions": ["x"], "tests": [[{"type": "stdio", "input": 1}]]}).encode(), 422,
     "sample 0: test 0 is invalid"),
    ("/get_reward", json.dumps({"query": ["a"], "labels": []}).encode(), 422, "'labels' must be a list"),
    ("/get_reward", json.dumps({"query": [1]}).encode(), 422, "'query' must be a list of strings"),
    ("/reward", b"x" * (65 << 10), 413, "over the limit"),
])
def test_malformed_requests_get_4xx_with_reason(url, path, body, code, reason):
    r = httpx.post(url + path, content=body, headers={"content-type": "application/json"}, timeout=30)
    assert r.status_code == code, r.text
    assert reason in r.json()["error"]


def test_health_metrics_and_method(url):
    assert httpx.get(f"{url}/health").json()["status"] == "ok"
    httpx.post(f"{url}/reward", json={"completions": [HONEST], "tests": [TESTS[:1]]}, timeout=30)
    metrics = httpx.get(f"{url}/metrics").text
    assert "coderm_requests_total" in metrics and 'coderm_rejected_total{code="413"}' in metrics
    rewards_total = [line for line in metrics.splitlines() if line.startswith("coderm_rewards_total")][0]
    assert int(rewards_total.split()[1]) >= 1
    assert httpx.get(f"{url}/reward").status_code == 405


def test_concurrency_bound_answers_503_while_full():
    app = create_app(RewardFunction(CONFIG), max_concurrency=1)
    with ThreadServer(app) as base:
        slow = {"completions": [LOOP], "tests": [TESTS[:1]]}
        result = {}
        t = threading.Thread(target=lambda: result.update(r=httpx.post(f"{base}/reward", json=slow, timeout=60)))
        t.start()
        deadline = time.time() + 10
        while httpx.get(f"{base}/health").json()["admitted"] < 1:
            assert time.time() < deadline
            time.sleep(0.01)
        busy = httpx.post(f"{base}/reward", json={"completions": [HONEST], "tests": [TESTS[:1]]}, timeout=30)
        t.join(60)
        assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
        assert result["r"].status_code == 200 and result["r"].json()["rewards"] == [0.0]


def test_coderm_serve_finishes_in_flight_batch_on_sigterm():
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "coderm", "serve", "--port", str(port), "--workers", "1",
                             "--timeout", "1"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                assert time.time() < deadline and proc.poll() is None, proc.stdout.read().decode()
                time.sleep(0.1)
        result = {}
        # the right program sleeps: a waiting test keeps the ceiling, so the batch is surely still in flight
        # when the poll below sees it (a fast batch could finish between two polls, and the poll go on)
        sleepy = HONEST.replace("def add(a, b):\n", "def add(a, b):\n    __import__('time').sleep(0.5)\n", 1)
        assert sleepy != HONEST
        slow = {"completions": [LOOP, sleepy], "tests": [TESTS[:1], TESTS[:1]]}
        t = threading.Thread(target=lambda: result.update(r=httpx.post(f"{base}/reward", json=slow, timeout=60)))
        t.start()
        seen = time.time() + 30
        while httpx.get(f"{base}/health").json()["in_flight"] < 1:
            assert time.time() < seen, "the batch never showed as in flight"
            time.sleep(0.01)
        proc.send_signal(signal.SIGTERM)
        t.join(60)
        assert result["r"].status_code == 200 and result["r"].json()["rewards"] == [0.0, 1.0]
        # uvicorn re-raises the captured SIGTERM after a clean shutdown, so the exit is by that signal
        assert proc.wait(30) in (0, -signal.SIGTERM)
        log = proc.stdout.read().decode()
        assert "Application shutdown complete" in log and "Traceback" not in log, log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_concurrent_requests_run_together_with_the_rewards_of_one_at_a_time(url):
    """No lock around a batch: a request with a looping candidate (a 1 s timeout per sample) does not
    hold back a small one sent after it, and concurrent requests get exactly the sequential rewards."""
    batches = [{"completions": [HONEST, fenced(c), LOOP.replace("pass", f"x = {k}")], "tests": [TESTS] * 3,
                "entry_points": ["add"] * 3} for k, c in enumerate(HOSTILE.values())]
    alone = [httpx.post(f"{url}/reward", json=b, timeout=120).json()["rewards"] for b in batches[:3]]
    done = {}

    def post(k: int) -> None:
        done[k] = (httpx.post(f"{url}/reward", json=batches[k], timeout=120).json()["rewards"], time.monotonic())

    threads = [threading.Thread(target=post, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert [done[k][0] for k in range(3)] == alone
    # 12 loopers, ~6 s on 2 workers; the small request waits behind at most the two tasks on each worker
    slow = {"completions": [LOOP.replace("pass", f"y = {k}") for k in range(12)], "tests": [TESTS] * 12,
            "entry_points": ["add"] * 12}
    t = threading.Thread(target=lambda: done.update(slow=(None, httpx.post(f"{url}/reward", json=slow, timeout=120)
                                                           and time.monotonic())))
    t.start()
    time.sleep(0.5)
    small = httpx.post(f"{url}/reward", json={"completions": [HONEST], "tests": [TESTS], "entry_points": ["add"]},
                       timeout=120)
    small_at = time.monotonic()
    t.join(120)
    assert small.json()["rewards"] == [1.0] and small_at < done["slow"][1]
