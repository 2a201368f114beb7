"""WebVTT subtitles of a document's utterances (original text, cues of at most 2 x 42 characters)."""

from __future__ import annotations

from pathlib import Path

from ..common.fileio import atomic_write_text
from ..subtitles import subtitles
from . import register_writer


@register_writer("vtt", suffix=".vtt", description="WebVTT subtitles carrying the original text")
def write_vtt(path: Path, doc) -> None:
    """WebVTT subtitles carrying the original text."""
    atomic_write_text(path, subtitles(doc.utterances, "vtt"))
