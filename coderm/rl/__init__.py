"""Rewards for RL training loops: a RewardFunction plus TRL / verl / OpenRLHF adapters and a server.

    from coderm.rl import RewardFunction
    rf = RewardFunction()                      # the `reward` preset: passrate in [0, 1]
    rewards = rf(completions, tests=tests_per_sample, entry_points=entry_points)
"""
from coderm.rl.ground_truth import GroundTruthError, parse_tests
from coderm.rl.reward import RewardFunction

__all__ = ["GroundTruthError", "RewardFunction", "parse_tests"]
