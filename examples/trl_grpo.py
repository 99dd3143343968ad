"""GRPO with TRL, rewarded by coderm's sandboxed test execution.

The dataset needs a ``prompt`` column and a ``tests`` column (each row: a list of assert strings
or {"type": "stdio"|"call", ...} objects, or any ground truth ``coderm.rl.parse_tests`` reads, or
a JSON string of one), plus ``entry_point`` for function-level problems. TRL passes those columns
to the reward function as keyword lists; a sample without tests gets None (TRL leaves it out), and
the details (pass counts, timeouts, no-code replies) go to TRL's ``log_metric``/``log_extra``.

Under accelerate/DeepSpeed every rank calls the reward function in its own process and so
starts its own sandbox pool: give each rank a share of the CPUs
(``load_config("reward").with_overrides(workers=os.cpu_count() // world_size)``) or point all
ranks at one ``coderm serve``.

    pip install trl 'coderm[serve]'
    python examples/trl_grpo.py --model Qwen/Qwen2.5-Coder-0.5B-Instruct --problems problems.jsonl
"""
from __future__ import annotations

import argparse
import json

from coderm.config import load_config
from coderm.rl import RewardFunction
from coderm.rl.adapters import TrlReward

# Chat models answer in fenced blocks; take the last one and never glue the chat prompt on.
reward_fn = RewardFunction(load_config("reward").with_overrides(block="last", join_prompt="never"))
coderm_reward = TrlReward(reward_fn, tests_column="tests", entry_point_column="entry_point")  # picklable


def load_rows(path: str) -> list[dict]:
    """coderm problems JSONL -> TRL rows with a conversational prompt and the given tests."""
    rows = []
    with open(path) as f:
        for line in f:
            p = json.loads(line)
            ask = f"Complete this Python function and answer with one ```python block.\n\n{p['prompt']}"
            rows.append({"prompt": [{"role": "user", "content": ask}], "tests": json.dumps(p["tests"]),
                         "entry_point": p.get("entry_point")})
    return rows


def main() -> None:
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--problems", required=True, help="coderm problems JSONL with tests")
    ap.add_argument("--out", default="grpo-coderm")
    args = ap.parse_args()
    trainer = GRPOTrainer(model=args.model, reward_funcs=[coderm_reward],
                          args=GRPOConfig(output_dir=args.out, num_generations=8, max_completion_length=512),
                          train_dataset=Dataset.from_list(load_rows(args.problems)))
    trainer.train()


if __name__ == "__main__":
    main()
