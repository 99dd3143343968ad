#!/usr/bin/env bash
# OpenRLHF with coderm as the remote reward model.
# 1) on a CPU node (or the head node): the reward server
coderm serve --host 0.0.0.0 --port 5000 --workers "$(nproc)" --timeout 1 &
# 2) the trainer: every sample's tests come from the dataset column named by --label_key
#    (a JSON list of assert strings or {"type": "stdio"|"call", ...} objects).
python -m openrlhf.cli.train_ppo_ray \
  --pretrain Qwen/Qwen2.5-Coder-1.5B-Instruct \
  --remote_rm_url http://127.0.0.1:5000/get_reward \
  --prompt_data your/dataset --input_key prompt --label_key tests --apply_chat_template \
  --advantage_estimator group_norm --n_samples_per_prompt 8
