"""What OpenRLHF sends to ``--remote_rm_url`` and what coderm answers, against a running
``coderm serve --port 5000`` (see openrlhf_remote_rm.sh for the training command).

OpenRLHF posts ``{"query": [prompt + response, ...], "prompts": [...], "labels": [...]}`` and
reads ``rewards`` from the JSON answer.
"""
import json
import sys

import httpx

URL = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000/get_reward"
prompt = "<|user|>Write add(a, b).<|assistant|>"
tests = json.dumps(["assert add(1, 2) == 3", "assert add(-1, 1) == 0"])
payload = {
    "query": [prompt + "```python\ndef add(a, b):\n    return a + b\n```",
              prompt + "```python\nimport sys\nsys.exit(0)\n```"],
    "prompts": [prompt, prompt],
    "labels": [tests, tests],
}
print(httpx.post(URL, json=payload, timeout=60).json()["rewards"])  # [1.0, 0.0]
