"""Praat TextGrid writer: tiers `utterances`, `words` and (with --output-phones) `phones`."""

from __future__ import annotations

from pathlib import Path

from ..common.fileio import atomic_write_text
from ..textgrid import textgrid_text, utterance_tiers
from . import register_writer


@register_writer("textgrid", suffix=".TextGrid", description="Praat TextGrid: utterance, word and phone tiers")
def write_textgrid(path: Path, doc) -> Path:
    """Praat TextGrid: utterance, word and phone tiers."""
    if doc.config.textgrid_dir is not None:
        folder = Path(doc.config.textgrid_dir)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{doc.job.id}.TextGrid"
    records = [u.to_dict() for u in doc.utterances]
    end = max([doc.result.audio_seconds] + [r["end"] / 1000.0 for r in records])
    atomic_write_text(path, textgrid_text(utterance_tiers(records, phones=doc.config.words.phones), 0.0, end))
    return path
