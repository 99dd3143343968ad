"""Hidden-state probe (CodeRM): a model's hidden states over the prompt -> two-layer MLP -> λ.

Features are the hidden states of layer ``layer`` (index into ``hidden_states``: 0 embeddings,
-1 last) pooled over the prompt tokens (``mean`` or ``last``). The MLP has one scalar output and
is trained with cross-entropy on soft labels (BCE with target λ), as CodeRM describes. torch and
transformers are imported only here, so the LLM-free path never needs them.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from difficulty.estimators import Estimator, EstimatorError

POOLINGS = ("mean", "last")


def hidden_state_features(model_path: str, prompts: Sequence[str], layer: int = -1, pooling: str = "mean",
                          max_length: int = 1024, device: str = "cpu") -> np.ndarray:
    """One pooled hidden-state vector per prompt (prompts run one by one: no padding questions)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    if pooling not in POOLINGS:
        raise EstimatorError(f"unknown pooling {pooling!r}; expected one of {', '.join(POOLINGS)}")
    try:
        tok = AutoTokenizer.from_pretrained(model_path)
        model = AutoModel.from_pretrained(model_path).to(device).eval()
    except (OSError, ValueError) as e:
        raise EstimatorError(f"cannot load model {model_path!r} for the probe: {e}") from None
    out = []
    with torch.no_grad():
        for text in prompts:
            enc = tok(text or " ", return_tensors="pt", truncation=True, max_length=max_length).to(device)
            states = model(**enc, output_hidden_states=True).hidden_states
            if not -len(states) <= layer < len(states):
                raise EstimatorError(f"layer {layer} out of range: the model has {len(states)} hidden-state layers")
            h = states[layer][0].float()
            out.append((h.mean(dim=0) if pooling == "mean" else h[-1]).cpu().numpy())
    return np.vstack(out)


class ProbeEstimator(Estimator):
    """Hidden-state probe. ``model_path`` is a local directory or hub id loadable by
    ``AutoModel``/``AutoTokenizer.from_pretrained``."""

    name = "probe"

    def __init__(self, model_path: str = "", layer: int = -1, pooling: str = "mean", hidden: int = 64,
                 epochs: int = 300, lr: float = 1e-3, weight_decay: float = 1e-2, max_length: int = 1024,
                 seed: int = 0):
        if pooling not in POOLINGS:
            raise EstimatorError(f"unknown pooling {pooling!r}; expected one of {', '.join(POOLINGS)}")
        self.model_path, self.layer, self.pooling = model_path, layer, pooling
        self.hidden, self.epochs, self.lr, self.weight_decay = hidden, epochs, lr, weight_decay
        self.max_length, self.seed = max_length, seed
        self.weights: dict[str, np.ndarray] | None = None

    def features(self, problems: Sequence[dict]) -> np.ndarray:
        if not self.model_path:
            raise EstimatorError("the probe needs model_path (a transformers model to read hidden states from)")
        return hidden_state_features(self.model_path, [str(p.get("prompt", "")) for p in problems],
                                     self.layer, self.pooling, self.max_length)

    def _mlp(self, dim: int):
        import torch

        return torch.nn.Sequential(torch.nn.Linear(dim, self.hidden), torch.nn.ReLU(), torch.nn.Linear(self.hidden, 1))

    def _fit(self, problems, lam, passed):
        import torch

        x = self.features(problems)
        mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-6
        torch.manual_seed(self.seed)
        mlp = self._mlp(x.shape[1])
        xt = torch.tensor((x - mu) / sd, dtype=torch.float32)
        yt = torch.tensor(lam, dtype=torch.float32)
        opt = torch.optim.AdamW(mlp.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        loss_fn = torch.nn.BCEWithLogitsLoss()  # soft targets: cross-entropy against λ
        for _ in range(self.epochs):
            opt.zero_grad()
            loss = loss_fn(mlp(xt).squeeze(-1), yt)
            loss.backward()
            opt.step()
        self.weights = {k: v.detach().cpu().numpy() for k, v in mlp.state_dict().items()}
        self.weights["_mu"], self.weights["_sd"] = mu, sd

    def _predict(self, problems, passed):
        import torch

        if self.weights is None:
            raise EstimatorError("the probe is not fitted")
        x = self.features(problems)
        mu, sd = self.weights["_mu"], self.weights["_sd"]
        if x.shape[1] != len(mu):
            raise EstimatorError(f"model {self.model_path!r} gives {x.shape[1]}-dim features; the probe was trained on {len(mu)}")
        mlp = self._mlp(len(mu))
        mlp.load_state_dict({k: torch.tensor(v) for k, v in self.weights.items() if not k.startswith("_")})
        with torch.no_grad():
            return torch.sigmoid(mlp(torch.tensor((x - mu) / sd, dtype=torch.float32)).squeeze(-1)).numpy()

    def state(self):
        return self.weights

    def set_state(self, state):
        self.weights = state
