"""coderm: unit tests (given, mined or generated) turned into reward scores for code candidates.

    import coderm
    r = coderm.rerank(prompt, candidates, tests, entry_point="f")   # scores, ranking, best, matrix
    rewards = coderm.score_batch(completions, tests, entry_points="f")  # one reward in [0, 1] per completion
    pipeline = coderm.Pipeline.from_config("default", workers=8)        # the engine every surface shares

Names are imported on first use so ``import coderm`` stays light (no numpy, no worker pool).
"""
from __future__ import annotations

import importlib

_EXPORTS = {name: module for module, names in (  # name -> the module it is imported from
    ("coderm.api", ("rerank", "score_batch", "RerankResult", "close")),
    ("coderm.model", ("Problem", "ScoreResult", "ValidationError")),
    ("coderm.config", ("Config", "load_config")),
    ("coderm.pipeline", ("Pipeline",)),
    ("coderm.rl", ("RewardFunction",))) for name in names}

__all__ = sorted(_EXPORTS)
__version__ = "0.1.0"


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'coderm' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
