"""SubRip subtitles of a document's utterances (original text, cues of at most 2 x 42 characters)."""

from __future__ import annotations

from pathlib import Path

from ..common.fileio import atomic_write_text
from ..wordsubs import subtitles_text
from . import register_writer


@register_writer("srt", suffix=".srt", description="SubRip subtitles carrying the original text")
def write_srt(path: Path, doc) -> None:
    """SubRip subtitles carrying the original text."""
    # --subtitle-timing: chars (default), or from the word timings: words, lines, karaoke
    atomic_write_text(path, subtitles_text(doc.utterances, "srt", doc.config.subtitle_timing))
