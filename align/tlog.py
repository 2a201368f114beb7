"""Transcript logs (`.tlog`): the timed speech-to-text transcripts of an audio file's fragments.

Two forms are read:
- a plain JSON list of `{start, end, transcript, ...}` (ms; any STT may write it; extra keys
  become the fragment's meta);
- the cache form `align` writes: `{"format": "align-tlog", "version": 2, "producer": {...},
  "fragments_sha256": "...", "fragments": [...]}` where `producer` records what made it (see
  `align.transcribe`) and `fragments_sha256` is the checksum of the fragment list, so a body
  edited after writing is not trusted as a cache.

Times must be finite, non-negative numbers of milliseconds; extra fields must not hold NaN or
Infinity (they reach the `.aligned` output, and JSON has no such numbers).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

from .common.errors import UserError
from .common.fileio import check_finite, read_json
from .common.hashing import sha256_text

TLOG_FORMAT = "align-tlog"
TLOG_VERSION = 2  # 2: fragments_sha256


def fragments_checksum(fragments: list) -> str:
    """sha256 of a fragment list in one canonical JSON form (same value after a JSON round trip)."""
    return sha256_text(json.dumps(fragments, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                                  allow_nan=False))


def _ms(v: Any, path, i: int, key: str) -> float:
    """A time field as a finite, non-negative number of milliseconds."""
    bad = f"{path}: entry {i}: \"{key}\" must be a non-negative number of milliseconds"
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise UserError(f"{bad}, got {v!r}")
    try:
        x = float(v)  # a 400-digit integer does not fit a float
    except OverflowError:
        raise UserError(f"{bad}, got a {len(str(abs(v)))}-digit number") from None
    if not math.isfinite(x):
        raise UserError(f"{bad}, got {v!r}")
    if x < 0:
        raise UserError(f"{bad} (an offset into the audio), got {v!r}")
    return v if isinstance(v, int) else x


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
        start, end, tr = _ms(item["start"], path, i, "start"), _ms(item["end"], path, i, "end"), item["transcript"]
        if end < start:
            raise UserError(f"{path}: entry {i}: end ({end}) is before start ({start})")
        if tr is None:
            tr = ""
        if not isinstance(tr, str):
            raise UserError(f"{path}: entry {i}: \"transcript\" must be a string")
        meta = {k: v for k, v in item.items() if k not in ("start", "end", "transcript")}
        check_finite(meta, f"{path}: entry {i}")
        entries.append(TranscriptEntry(start, end, " ".join(tr.split()), meta))
    return entries


@dataclass
class TlogFile:
    entries: list[TranscriptEntry]
    producer: dict[str, Any] | None  # None: a plain list from another tool
    intact: bool  # the fragment list matches the checksum written with it (False: none, or edited)


def read_tlog(path: str | os.PathLike) -> TlogFile:
    data = read_json(path, "transcript log")
    if isinstance(data, dict):
        if data.get("format") != TLOG_FORMAT or "fragments" not in data:
            raise UserError(f"{path}: not a transcript log (expected a JSON list or an align-tlog object)")
        entries = parse_entries(data["fragments"], path)
        want = data.get("fragments_sha256")
        return TlogFile(entries, data.get("producer"), want is not None and want == fragments_checksum(data["fragments"]))
    return TlogFile(parse_entries(data, path), None, False)


def load_tlog(path: str | os.PathLike) -> tuple[list[TranscriptEntry], dict[str, Any] | None]:
    """Return (entries, producer); producer is None for a plain list from another tool."""
    t = read_tlog(path)
    return t.entries, t.producer
