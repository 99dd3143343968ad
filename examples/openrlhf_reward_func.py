"""OpenRLHF in-process reward: pass this file's path as ``--remote_rm_url`` (no server needed).

    python -m openrlhf.cli.train_ppo_ray ... --remote_rm_url examples/openrlhf_reward_func.py --label_key tests

OpenRLHF imports the file and calls ``reward_func(queries, prompts, labels)``; each label is a
sample's tests (JSON list of assert strings or {"type": "stdio"|"call", ...} objects).
"""
from coderm.rl.adapters import openrlhf_reward_func

reward_func = openrlhf_reward_func()
