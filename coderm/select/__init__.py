"""Selection after aggregation (S*): test inputs synthesized without a model (``synth``)."""
from __future__ import annotations

from coderm.select.synth import synthesize

__all__ = ["synthesize"]
