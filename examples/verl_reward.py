"""verl custom reward function backed by coderm.

Per-sample (default NaiveRewardManager):
    custom_reward_function.path=examples/verl_reward.py custom_reward_function.name=compute_score
Batch (recommended: the whole step's responses run as one executor batch):
    custom_reward_function.path=examples/verl_reward.py custom_reward_function.name=compute_score_batch \
    reward_model.reward_manager=batch
Reward loop (async; concurrent samples are scored together):
    custom_reward_function.path=examples/verl_reward.py custom_reward_function.name=compute_score_async

Each call returns ``{"score": reward, "passed", "n_tests", "pass_rate", "acc", "no_code", ...}``:
verl uses ``score`` and logs the other keys as reward_extra_info. ``ground_truth`` (the parquet's
reward_model.ground_truth) holds the tests in any shape ``coderm.rl.parse_tests`` reads: a list of
tests, {"tests": [...], "entry_point": "f"}, APPS/TACO {"inputs", "outputs", "fn_name"?},
LiveCodeBench/LeetCode test cases, CodeContests splits, HumanEval/MBPP check code; an object may
add "judge". ``extra_info`` may add "entry_point" and "prompt" (for completion-style prompt joining).
"""
from coderm.rl import RewardFunction
from coderm.rl.adapters import VerlReward

_reward = VerlReward(RewardFunction())
compute_score = _reward.compute_score
compute_score_batch = _reward.compute_score_batch
compute_score_async = _reward.compute_score_async
