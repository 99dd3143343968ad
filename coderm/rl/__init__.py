"""Rewards for RL training loops: a RewardFunction plus TRL / verl / OpenRLHF adapters and a server.

    from coderm.rl import RewardFunction
    rf = RewardFunction()
    rewards = rf(completions, tests=tests_per_sample, entry_points=entry_points)
"""
from coderm.rl.extract import ExtractConfig, extract_code
from coderm.rl.ground_truth import GroundTruthError, parse_tests
from coderm.rl.reward import RewardConfig, RewardFunction, RewardResult, close_shared_executors

__all__ = [
    "ExtractConfig", "GroundTruthError", "RewardConfig", "RewardFunction", "RewardResult",
    "close_shared_executors", "extract_code", "parse_tests",
]
