"""The utterance records the exporter reads: `align.records` (typed `Utterance`, `load_aligned`)."""

from __future__ import annotations

from ..records import Utterance, load_aligned

__all__ = ["Utterance", "load_aligned"]
