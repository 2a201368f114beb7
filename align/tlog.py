"""Transcript logs (`.tlog`): the timed speech-to-text transcripts of an audio file's fragments.

Two forms are read:
- a plain JSON list of `{start, end, transcript, ...}` (ms; any STT may write it; extra keys
  become the fragment's meta);
- the cache form `align` writes: `{"format": "align-tlog", "version": 1, "producer": {...},
  "fragments": [...]}` where `producer` records what made it (see `align.stt.cache`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

from .common.errors import UserError
from .common.fileio import read_json

TLOG_FORMAT = "align-tlog"
TLOG_VERSION = 1


@dataclass
class TranscriptEntry:
    """One transcribed audio fragment: times in ms, transcript in the model's alphabet."""

    start: float
    end: float
    transcript: str
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "transcript": self.transcript, **self.meta}


def parse_entries(data: Any, path: str | os.PathLike) -> list[TranscriptEntry]:
    if not isinstance(data, list):
        raise UserError(f"{path}: a .tlog must be a JSON list of {{start, end, transcript}} objects")
    entries = []
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise UserError(f"{path}: entry {i} is not an object")
        for key in ("start", "end", "transcript"):
            if key not in item:
                raise UserError(f"{path}: entry {i} has no \"{key}\" key")
        start, end, tr = item["start"], item["end"], item["transcript"]
        for key, v in (("start", start), ("end", end)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise UserError(f"{path}: entry {i}: \"{key}\" must be a number of milliseconds, got {v!r}")
        if end < start:
            raise UserError(f"{path}: entry {i}: end ({end}) is before start ({start})")
        if tr is None:
            tr = ""
        if not isinstance(tr, str):
            raise UserError(f"{path}: entry {i}: \"transcript\" must be a string")
        meta = {k: v for k, v in item.items() if k not in ("start", "end", "transcript")}
        entries.append(TranscriptEntry(start, end, " ".join(tr.split()), meta))
    return entries


def load_tlog(path: str | os.PathLike) -> tuple[list[TranscriptEntry], dict[str, Any] | None]:
    """Return (entries, producer); producer is None for a plain list from another tool."""
    data = read_json(path, "transcript log")
    if isinstance(data, dict):
        if data.get("format") != TLOG_FORMAT or "fragments" not in data:
            raise UserError(f"{path}: not a transcript log (expected a JSON list or an align-tlog object)")
        return parse_entries(data["fragments"], path), data.get("producer")
    return parse_entries(data, path), None
