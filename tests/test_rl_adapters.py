"""RewardFunction and the TRL / verl adapters, called the way each framework calls them.

Reward hacking is the threat: every hostile completion below must score 0 while the honest
completions in the same batch score 1.
"""
import asyncio
import gzip
import importlib.util
import inspect
import json
import pickle
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import torch

from coderm.config import ConfigError, load_config
from coderm.rl import GroundTruthError, RewardFunction
from coderm.rl.adapters import OpenRLHFReward, TrlReward, VerlReward

ROOT = Path(__file__).resolve().parents[1]
# 1 s per test: tight limits flake on a loaded machine; one TIMEOUT skips the rest to keep loops cheap
CONFIG = load_config("reward").with_overrides(workers=2, timeout=1.0, max_timeouts=1, load_timeout=5.0)
TESTS = ["assert add(1, 2) == 3", "assert add(-1, 1) == 0", {"type": "call", "args": [2, 2], "expected": 4}]
GT = {"tests": TESTS, "entry_point": "add"}  # a call test needs the entry point

HONEST = "def add(a, b):\n    return a + b\n"
HOSTILE = {
    "sys.exit before asserts": "import sys\ndef add(a, b):\n    sys.exit(0)\n",
    "sys.exit at import": "import sys\nsys.exit(0)\ndef add(a, b):\n    return 0\n",
    "os._exit": "import os\ndef add(a, b):\n    os._exit(0)\n",
    "always-equal object": "class E:\n    def __eq__(self, o):\n        return True\n    def __ne__(self, o):\n"
                           "        return False\n    __hash__ = object.__hash__\ndef add(a, b):\n    return E()\n",
    "prints OK": "def add(a, b):\n    print('OK')\n    print('All tests passed')\n",
    "infinite loop": "def add(a, b):\n    while True:\n        pass\n",
    "memory bomb": "def add(a, b):\n    x = bytearray(1 << 36)\n    return a + b\n",
}


def fenced(code: str) -> str:
    return f"Here is my solution:\n```python\n{code}```\nDone."


@pytest.fixture(scope="module")
def rf():
    return RewardFunction(CONFIG)


def batch():
    """Honest completions at both ends and between the hostile ones, all for one problem."""
    codes = [HONEST, *HOSTILE.values(), HONEST.replace("a + b", "b + a")]
    return [fenced(c) for c in codes]


def check_scores(scores):
    assert len(scores) == len(HOSTILE) + 2
    assert scores[0] == 1.0 and scores[-1] == 1.0, scores
    for name, score in zip(HOSTILE, scores[1:-1]):
        assert score == 0.0, f"{name} scored {score}"


def test_reward_function_details_and_order(rf):
    results = rf.score(batch(), tests=[GT] * (len(HOSTILE) + 2))
    check_scores([r.reward for r in results])
    assert results[0].statuses == ["PASS"] * 3
    loop = results[1 + list(HOSTILE).index("infinite loop")]
    assert loop.statuses[0] == "TIMEOUT"


def test_partial_credit_mixed_problems_and_empty_cases(rf):
    half = "def add(a, b):\n    return a + b if a > 1 else 0\n"  # passes tests 1 and 2 only
    sq = "def sq(x):\n    return x * x\n"
    results = rf.score([half, sq, "no code here", sq],
                       tests=[GT, {"tests": ["assert sq(3) == 9"], "entry_point": "sq"}, GT, []])
    assert results[0].reward == pytest.approx(2 / 3)
    assert results[1].reward == 1.0
    assert results[2].reward == 0.0 and results[2].outcome == "no_code" and results[2].statuses == []  # prose never runs
    assert results[3].reward is None and results[3].outcome == "no_tests"  # a data defect, not a penalty


def test_bad_ground_truth_names_the_sample(rf):
    with pytest.raises(GroundTruthError, match="sample 1"):
        rf([HONEST, HONEST], tests=[GT, "[not json"])
    with pytest.raises(ValueError, match="tests has 1 items for 2"):
        rf([HONEST, HONEST], tests=[GT])


def test_trl_reward_as_grpo_trainer_calls_it(rf):
    """GRPOTrainer: rows repeated num_generations times; every column except prompt/completion
    becomes a keyword list; conversational completions are [{"role": "assistant", "content": ...}]."""
    reward = TrlReward(rf)
    completions_text = batch()
    row = {"prompt": [{"role": "user", "content": "write add"}], "tests": json.dumps(TESTS), "entry_point": "add"}
    inputs = [dict(row) for _ in completions_text]
    prompts = [x["prompt"] for x in inputs]
    completions = [[{"role": "assistant", "content": c}] for c in completions_text]
    keys = [k for k in inputs[0] if k not in ("prompt", "completion")]
    reward_kwargs = {k: [x[k] for x in inputs] for k in keys}
    scores = reward(prompts=prompts, completions=completions, completion_ids=[[0]] * len(inputs),
                    trainer_state=None, **reward_kwargs)
    assert reward.__name__ == "coderm_reward"
    check_scores(scores)


def test_trl_completion_style_prompt_joining(rf):
    prompt = "def add(a, b):\n    \"\"\"Return a + b.\"\"\"\n"
    reward = TrlReward(rf)
    scores = reward(prompts=[prompt, prompt], completions=["    return a + b\n", "    import os; os._exit(0)\n"],
                    tests=[TESTS, TESTS], entry_point=["add", "add"])
    assert scores == [1.0, 0.0]


def test_trl_missing_column_is_a_clear_error(rf):
    with pytest.raises(ValueError, match="column 'tests' not found"):
        TrlReward(rf)(prompts=["p"], completions=["x"], answer=["1"])


def load_verl_example():
    """How verl loads custom_reward_function.path: spec_from_file_location + getattr(name)."""
    spec = importlib.util.spec_from_file_location("custom_module", ROOT / "examples" / "verl_reward.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_verl_example_loads_like_verl_does():
    module = load_verl_example()
    assert callable(module.compute_score) and callable(module.compute_score_batch)
    assert inspect.iscoroutinefunction(module.compute_score_async)  # how verl's reward loop tells async apart
    assert pickle.loads(pickle.dumps(module.compute_score_batch))  # verl ships reward functions to Ray workers


def verl_reward_manager(results: list) -> tuple[list[float], dict[str, list]]:
    """What verl's NaiveRewardManager / BatchRewardManager do with each result
    (verl/workers/reward_manager/naive.py and batch.py): a dict gives ``score`` as the reward and
    every key is appended to reward_extra_info, which is then turned into numpy columns and, in
    validation, averaged per key unless the key holds strings (metric_utils.process_validation_metrics)."""
    rewards, extra = [], defaultdict(list)
    for result in results:
        if isinstance(result, dict):
            rewards.append(result["score"])
            for key, value in result.items():
                extra[key].append(value)
        else:
            rewards.append(result)
    assert all(len(values) == len(results) for values in extra.values())  # same keys for every sample
    for key, values in extra.items():
        column = np.array(values)
        if not isinstance(values[0], str):
            assert np.isfinite(column.astype(float)).all(), key
    torch.zeros(len(results), 4)[torch.arange(len(results)), 3] = torch.tensor(rewards, dtype=torch.float32)
    return rewards, dict(extra)


def test_verl_single_batch_and_async_forms(rf):
    verl = VerlReward(rf)
    gt = json.dumps({"tests": TESTS, "entry_point": "add"})
    # NaiveRewardManager: keyword call per sample
    single, extra = verl_reward_manager([
        verl.compute_score(data_source="coderm", solution_str=s, ground_truth=gt, extra_info={"index": i})
        for i, s in enumerate(batch())])
    check_scores(single)
    assert extra["passed"][0] == 3 and extra["n_tests"][0] == 3 and extra["acc"][0] == 1.0
    assert extra["timeout"][1 + list(HOSTILE).index("infinite loop")] >= 1
    # BatchRewardManager: plural keywords, extra reward_kwargs passed through
    n = len(HOSTILE) + 2
    scores, _ = verl_reward_manager(verl.compute_score_batch(
        data_sources=["coderm"] * n, solution_strs=batch(), ground_truths=[gt] * n,
        extra_infos=[{"entry_point": "add"}] * n, custom_kwarg=1))
    check_scores(scores)

    # reward loop: one coroutine per sample, awaited together, with the loop's extra keywords
    async def loop_run():
        return await asyncio.gather(*(verl.compute_score_async(
            data_source="coderm", solution_str=s, ground_truth=gt, extra_info={}, reward_model=None,
            reward_model_tokenizer=None) for s in batch()))

    gathered, _ = verl_reward_manager(asyncio.run(loop_run()))
    check_scores(gathered)


def test_verl_async_errors_belong_to_their_sample(rf):
    verl = VerlReward(rf)
    gt = json.dumps({"tests": TESTS, "entry_point": "add"})

    async def loop_run():
        return await asyncio.gather(verl.compute_score_async("d", HONEST, gt),
                                    verl.compute_score_async("d", HONEST, "[not json"),
                                    verl.compute_score_async("d", HONEST, "[]"), return_exceptions=True)

    ok, bad, empty = asyncio.run(loop_run())
    assert ok["score"] == 1.0
    assert isinstance(bad, GroundTruthError) and "do not parse" in str(bad)
    assert isinstance(empty, GroundTruthError) and "reward.no_tests" in str(empty)


def test_verl_prime_code_style_stdio_ground_truth(rf):
    gt = json.dumps({"inputs": ["2 3\n", "10 -4\n"], "outputs": ["5\n", "6\n"]})
    good = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"
    cheat = "```python\nimport sys\nprint('5')\nsys.exit(0)\n```"
    results = VerlReward(rf).compute_score_batch(["apps", "apps"], [good, cheat], [gt, gt], None)
    assert [r["score"] for r in results] == [1.0, 0.5]


def test_rewards_match_official_labels_on_codet_humaneval(shared_data, rf):
    """Real data: CodeGen candidates scored with HumanEval's official check() reproduce the labels."""
    official = {}
    with gzip.open(shared_data / "humaneval" / "HumanEval.jsonl.gz", "rt") as f:
        for line in f:
            p = json.loads(line)
            official[p["task_id"]] = p["test"] + f"\ncheck({p['entry_point']})\n"
    rows = []
    with gzip.open(shared_data / "codet" / "humaneval_codegen16b.problems.jsonl.gz", "rt") as f:
        for line, _ in zip(f, range(3)):
            rows.append(json.loads(line))
    completions, tests, entry_points, labels = [], [], [], []
    for p in rows:
        for cand, label in list(zip(p["candidates"], p["labels"]))[:8]:
            completions.append(cand)
            tests.append([official[p["task_id"]]])
            entry_points.append(p["entry_point"])
            labels.append(float(label))
    rf_plain = RewardFunction(CONFIG.with_overrides(join_prompt="never"))
    assert rf_plain(completions, tests=tests, entry_points=entry_points) == labels


def test_generated_tests_are_made_once_per_prompt_and_combined_with_given():
    calls = []

    def generator(prompt):
        calls.append(prompt)
        return ["assert add(2, 3) == 5", "assert add(0, 0) == 0"]

    rf_gen = RewardFunction(CONFIG, test_generator=generator, tests_from="both")
    prompt = "def add(a, b):\n"
    wrong = "def add(a, b):\n    return a * b\n"
    for _ in range(2):  # two RL steps on the same prompt
        results = rf_gen.score([HONEST, wrong], tests=[["assert add(1, 1) == 2"]] * 2, prompts=[prompt] * 2)
    assert calls == [prompt]
    assert [r.reward for r in results] == [1.0, pytest.approx(1 / 3)]  # a * b passes only add(0, 0) == 0
    assert len(results[0].statuses) == 3
    with pytest.raises(ValueError, match="needs a test_generator"):
        RewardFunction(tests_from="generated")


def test_aggregator_is_a_coderm_aggregate_name():
    with pytest.raises(ValueError, match="unknown aggregator 'best'; expected one of passrate"):
        CONFIG.with_overrides(aggregator="best")


def test_openrlhf_reward_func_file_loaded_like_openrlhf(rf):
    """OpenRLHF with a .py --remote_rm_url: import the file, call reward_func(queries, prompts, labels)."""
    spec = importlib.util.spec_from_file_location("reward_func", ROOT / "examples" / "openrlhf_reward_func.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(module.reward_func)
    prompt = "<|user|>Write add(a, b).<|assistant|>"
    queries = [prompt + c for c in batch()]
    out = OpenRLHFReward(rf)(queries, [prompt] * len(queries), [json.dumps(GT)] * len(queries))
    check_scores(out["rewards"].tolist())
    assert out["scores"].shape == out["rewards"].shape


SLOW_SECOND = "def add(a, b):\n    while a == -1:\n        pass\n    return a + b\n"  # times out on add(-1, 1) only
WRONG_FIRST = "def add(a, b):\n    return 0 if a == 1 else a + b\n"  # fails add(1, 2) == 3, passes the rest


def rewards_with(mode_settings: dict, completions: list[str], tests=GT) -> list:
    rf = RewardFunction(CONFIG.with_overrides(reward=mode_settings))
    return rf.score(completions, tests=[tests] * len(completions))


def test_reward_modes_passrate_binary_and_fail_fast():
    codes = [HONEST, WRONG_FIRST, SLOW_SECOND]
    passrate = rewards_with({}, codes)
    # CONFIG stops a candidate after its first timeout: the rest of its tests are SKIPPED
    assert [r.reward for r in passrate] == [1.0, pytest.approx(2 / 3), pytest.approx(1 / 3)]
    assert [r.outcome for r in passrate] == ["passed", "failed", "failed"]
    binary = rewards_with({"mode": "binary"}, codes)
    assert [r.reward for r in binary] == [1.0, 0.0, 0.0]
    assert binary[1].statuses == ["FAIL", "PASS", "PASS"]  # every test ran
    fail_fast = rewards_with({"mode": "fail_fast"}, codes)
    assert [r.reward for r in fail_fast] == [1.0, 0.0, 0.0]
    assert fail_fast[1].statuses == ["FAIL", "SKIPPED", "SKIPPED"]  # as an early stop leaves them
    assert fail_fast[2].statuses == ["PASS", "TIMEOUT", "SKIPPED"] and fail_fast[2].details()["skipped"] == 1


def test_per_status_rewards_in_binary_modes():
    shaped = {"mode": "binary", "no_code": 0.05, "wrong": 0.1, "timeout": 0.2}
    results = rewards_with(shaped, [HONEST, WRONG_FIRST, SLOW_SECOND, "no idea, sorry"])
    assert [r.reward for r in results] == [1.0, 0.1, 0.2, 0.05]
    assert [r.outcome for r in results] == ["passed", "failed", "failed", "no_code"]


def test_samples_without_tests_are_none_or_the_configured_reward():
    assert [r.reward for r in rewards_with({}, [HONEST], tests=[])] == [None]
    assert [r.reward for r in rewards_with({}, [HONEST], tests=["assert add(1,"])] == [None]  # no usable test
    assert [r.reward for r in rewards_with({"no_tests": 0.5}, [HONEST], tests=[])] == [0.5]
    rf = RewardFunction(CONFIG)
    assert TrlReward(rf)(prompts=None, completions=[HONEST, HONEST], tests=[GT, []]) == [1.0, None]  # TRL skips None
    with pytest.raises(GroundTruthError, match="sample 1 has no usable tests and verl needs a number.*reward.no_tests"):
        VerlReward(rf).compute_score_batch(["d", "d"], [HONEST, HONEST], [GT, []])
    with pytest.raises(GroundTruthError, match="OpenRLHF needs a number"):
        OpenRLHFReward(rf)([HONEST], None, [[]])


@pytest.mark.parametrize("settings, reason", [
    ({"mode": "best"}, "reward.mode must be one of passrate, binary, fail_fast"),
    ({"no_code": 1.5}, r"reward.no_code must be a number in \[0, 1\]"),
    ({"no_tests": -1}, r"reward.no_tests must be a number in \[0, 1\] or null"),
    ({"wrong": 0.1}, "apply to the binary and fail_fast modes"),
    ({"mode": "binary", "timeout": True}, "reward.timeout must be a number"),
    ({"score": 1}, "unknown option"),
])
def test_bad_reward_settings_are_config_errors(settings, reason):
    with pytest.raises(ConfigError, match=reason):
        CONFIG.with_overrides(reward=settings)


def test_adapters_pickle_and_keep_working(rf):
    for adapter in (TrlReward(rf, name="mine"), VerlReward(rf), OpenRLHFReward(rf)):
        again = pickle.loads(pickle.dumps(adapter))
        assert type(again) is type(adapter)
    trl = pickle.loads(pickle.dumps(TrlReward(rf, name="mine")))
    assert trl.__name__ == "mine" and trl(completions=[HONEST], tests=[GT]) == [1.0]
    assert pickle.loads(pickle.dumps(VerlReward(rf).compute_score))("d", HONEST, GT)["score"] == 1.0


def test_trl_logging_hooks_get_the_details(rf):
    metrics, columns = {}, {}
    scores = TrlReward(rf)(prompts=None, completions=[HONEST, "no code here", fenced(HOSTILE["infinite loop"])],
                           tests=[GT] * 3, log_metric=metrics.__setitem__, log_extra=columns.__setitem__,
                           trainer_state=None, completion_ids=[[0]] * 3)
    assert scores == [1.0, 0.0, 0.0]
    assert columns["coderm_outcome"] == ["passed", "no_code", "failed"]
    assert metrics["coderm/no_code"] == pytest.approx(1 / 3) and metrics["coderm/acc"] == pytest.approx(1 / 3)
    assert metrics["coderm/timeout"] >= 1 / 3
    assert set(metrics) == {f"coderm/{k}" for k, v in rf.score([HONEST], tests=[GT])[0].details().items()
                            if not isinstance(v, str)}
