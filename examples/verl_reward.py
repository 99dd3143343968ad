"""verl custom reward function backed by coderm.

Per-sample (default NaiveRewardManager):
    custom_reward_function.path=examples/verl_reward.py custom_reward_function.name=compute_score
Batch (recommended: the whole step's responses run as one executor batch):
    custom_reward_function.path=examples/verl_reward.py custom_reward_function.name=compute_score_batch \
    reward_model.reward_manager=batch

``ground_truth`` (the parquet's reward_model.ground_truth) holds the tests: a JSON list of assert
strings / {"type": ...} objects, {"tests": [...], "entry_point": "f"}, or prime_code-style
{"inputs": [...], "outputs": [...]} stdin/stdout pairs. ``extra_info`` may add "entry_point"
and "prompt" (the latter for completion-style prompt joining).
"""
from coderm.rl import RewardFunction
from coderm.rl.adapters import VerlReward

_reward = VerlReward(RewardFunction())
compute_score = _reward.compute_score
compute_score_batch = _reward.compute_score_batch
