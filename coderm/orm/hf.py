"""ORM backend over any Hugging Face sequence-classification reward model with a scalar head
(Qwen2.5-Coder code RMs, AceCodeRM-style): bf16 on GPU, fp32 on CPU, batched."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from coderm.orm.base import OrmError


class HFOrm:
    """Scores ``prompt``-free full programs (candidates are complete programs per the data contract)."""

    def __init__(self, path: str, batch_size: int = 8, max_length: int = 2048, device: str | None = None) -> None:
        config_file = Path(path) / "config.json"
        if not config_file.is_file():
            raise OrmError(f"{path} is not a Hugging Face model directory (no config.json)")
        try:
            archs = json.loads(config_file.read_text()).get("architectures") or []
        except json.JSONDecodeError as e:
            raise OrmError(f"{config_file}: invalid JSON ({e})") from None
        if not any(a.endswith("ForSequenceClassification") for a in archs):
            raise OrmError(f"{path} is not a sequence-classification model (architectures: {archs or 'none'})")
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModelForSequenceClassification.from_pretrained(path, dtype=dtype).to(self.device).eval()
        if self.model.config.num_labels != 1:
            raise OrmError(f"{path} has {self.model.config.num_labels} labels; a reward model has a scalar head")
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        if self.model.config.pad_token_id is None:
            self.model.config.pad_token_id = self.tokenizer.pad_token_id
        self.batch_size, self.max_length = batch_size, max_length

    def score(self, problem: dict, indices: list[int]) -> np.ndarray:
        import torch

        texts = [problem["candidates"][i] for i in indices]
        out = np.empty(len(texts), dtype=np.float64)
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = self.tokenizer(texts[start:start + self.batch_size], return_tensors="pt", padding=True,
                                       truncation=True, max_length=self.max_length).to(self.device)
                logits = self.model(**batch).logits
                out[start:start + len(logits)] = logits[:, 0].float().cpu().numpy()
        return out
