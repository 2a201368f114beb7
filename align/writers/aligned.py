"""The `.aligned` JSON writer: a list of utterance objects (see align.records)."""

from __future__ import annotations

from pathlib import Path

from ..common.fileio import atomic_write_json
from . import register_writer


@register_writer("aligned", suffix=".aligned", description="JSON list of utterances (the main output)")
def write_aligned(path: Path, doc) -> None:
    """JSON list of utterances (the main output)."""
    atomic_write_json(path, [u.to_dict() for u in doc.utterances], pretty=doc.config.pretty)
