"""Reconciliation writer (--output-unaligned): text and speech that no utterance covers."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..common.fileio import atomic_write_json
from ..unaligned import report, summary_line, unaligned_audio, unaligned_text
from . import register_writer

log = logging.getLogger(__name__)


def _skipped(extra: dict[str, Any]) -> list[tuple[int, int, str | None]]:
    """Ranges an utterance left out inside itself (its `skipped` list: [start, end] pairs, or
    {start, end, kind} objects); without a kind, the reconciliation guesses it."""
    out = []
    for item in extra.get("skipped") or ():
        if isinstance(item, dict):
            s = item.get("text-start", item.get("start"))
            e = item.get("text-end", item.get("end"))
            kind = item.get("kind")
        elif isinstance(item, (list, tuple)) and len(item) >= 2:
            s, e, kind = item[0], item[1], str(item[2]) if len(item) > 2 else None
        else:
            continue
        if isinstance(s, int) and isinstance(e, int) and e > s:
            out.append((s, e, kind))
    return out


@register_writer("unaligned", suffix=".unaligned.json",
                 description="text and speech no utterance covers, with kinds and totals")
def write_unaligned(path: Path, doc) -> None:
    """Text and speech no utterance covers, with kinds and totals."""
    p = doc.config.unaligned
    utts = doc.utterances
    text = unaligned_text(doc.original, [(u.text_start, u.text_end) for u in utts],
                          [r for u in utts for r in _skipped(u.extra)], p)
    audio = unaligned_audio([(e.start, e.end) for e in doc.entries], [(u.start, u.end) for u in utts], p)
    atomic_write_json(path, report(text, audio), pretty=doc.config.pretty)
    doc.result.notes.append(summary_line(text, audio))
