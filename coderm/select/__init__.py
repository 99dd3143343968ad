"""Selection after aggregation: S* (``sstar``) picks among the candidates that pass the public tests
by clustering their outputs on inputs synthesized (``synth``) or written by a model, judged by the
agreement of outputs or by the model (``llm``, ``prompts``); ``debug`` revises failing candidates."""
from __future__ import annotations

from coderm.select.sstar import Selection, rescore, select
from coderm.select.synth import recordings, synthesize

__all__ = ["Selection", "recordings", "rescore", "select", "synthesize"]
