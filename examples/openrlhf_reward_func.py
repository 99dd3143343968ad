"""OpenRLHF in-process reward: pass this file's path as ``--remote_rm_url`` (no server needed).

    python -m openrlhf.cli.train_ppo_ray ... --remote_rm_url examples/openrlhf_reward_func.py --label_key tests

OpenRLHF imports the file, wraps ``reward_func`` with ``ray.remote`` (so it is a plain function)
and calls ``reward_func(queries, prompts, labels)``; each label is a sample's tests (any shape
``coderm.rl.parse_tests`` reads). The answer's ``extra_logs`` carry coderm's details per sample
(passed, n_tests, pass_rate, no_code, timeout, ...), which OpenRLHF logs.
"""
from coderm.rl.adapters import OpenRLHFReward

_reward = OpenRLHFReward()


def reward_func(queries, prompts, labels, **kwargs):
    return _reward(queries, prompts, labels, **kwargs)
