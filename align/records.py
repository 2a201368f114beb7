"""Typed records of `align`'s outputs: `Utterance` and the `.aligned` file.

An `.aligned` file is a JSON list of utterance objects. The keys written (in this order) are
`start end transcript text-start text-end meta aligned-raw aligned id`, then the metrics asked
for (`--output-<id>`, in `METRIC_IDS` order), then any further keys other stages add (word
timings, phones, ...): those are kept in `Utterance.extra` and round-trip unchanged.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from .common.errors import UserError
from .common.fileio import read_json
from .text.metrics import METRIC_IDS

# Keys with a typed field; everything else that is not a metric lands in `extra`.
CORE_KEYS = ("start", "end", "transcript", "text-start", "text-end", "meta", "aligned-raw", "aligned", "id")


def utterance_id(doc_id: str, index: int) -> str:
    """Stable id of the `index`-th kept utterance of a document (same inputs and config, same id)."""
    return f"{doc_id}-{index:06d}"


@dataclass
class Utterance:
    start: float             # ms
    end: float               # ms
    transcript: str
    text_start: int          # original-text offsets; aligned_raw == original[text_start:text_end]
    text_end: int
    meta: dict[str, list[Any]]
    aligned_raw: str
    aligned: str             # clean text of the match
    id: str = ""             # utterance_id(doc_id, index); "" until the document assigns it
    metrics: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # keys added by later stages, round-tripped
    # Working values of the aligner; not written to the file (None after `from_dict`).
    clean_start: Optional[int] = field(default=None, compare=False)
    clean_end: Optional[int] = field(default=None, compare=False)
    sws: Optional[float] = field(default=None, compare=False)
    fragment: Optional[int] = field(default=None, compare=False)   # first tlog fragment of the utterance

    @property
    def duration_s(self) -> float:
        return (self.end - self.start) / 1000.0

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "start": self.start,
            "end": self.end,
            "transcript": self.transcript,
            "text-start": self.text_start,
            "text-end": self.text_end,
            "meta": self.meta,
            "aligned-raw": self.aligned_raw,
            "aligned": self.aligned,
        }
        if self.id:
            d["id"] = self.id
        d.update(self.metrics)
        d.update(self.extra)
        return d

    @classmethod
    def from_dict(cls, d: Any, where: str = "utterance") -> "Utterance":
        """Parse and validate one object of an `.aligned` file; a bad one is a UserError naming `where`."""
        if not isinstance(d, dict):
            raise UserError(f"{where}: not a JSON object")
        for key in CORE_KEYS[:8]:
            if key not in d:
                raise UserError(f"{where}: no \"{key}\" key (not an .aligned file?)")
        for key in ("start", "end"):
            v = d[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise UserError(f"{where}: \"{key}\" must be a number of milliseconds, got {v!r}")
        for key in ("text-start", "text-end"):
            if isinstance(d[key], bool) or not isinstance(d[key], int):
                raise UserError(f"{where}: \"{key}\" must be an integer offset, got {d[key]!r}")
        for key in ("transcript", "aligned-raw", "aligned"):
            if not isinstance(d[key], str):
                raise UserError(f"{where}: \"{key}\" must be a string")
        if not isinstance(d["meta"], dict):
            raise UserError(f"{where}: \"meta\" must be an object")
        uid = d.get("id", "")
        if not isinstance(uid, str):
            raise UserError(f"{where}: \"id\" must be a string")
        metrics = {}
        for m in d:  # the file's order, so that a round trip gives the same bytes
            if m in METRIC_IDS:
                v = d[m]
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise UserError(f"{where}: metric \"{m}\" must be a number, got {v!r}")
                metrics[m] = v
        extra = {k: v for k, v in d.items() if k not in CORE_KEYS and k not in metrics}
        return cls(start=d["start"], end=d["end"], transcript=d["transcript"], text_start=d["text-start"],
                   text_end=d["text-end"], meta=d["meta"], aligned_raw=d["aligned-raw"], aligned=d["aligned"],
                   id=uid, metrics=metrics, extra=extra)


def utterances_to_json(utterances: list[Utterance]) -> list[dict[str, Any]]:
    return [u.to_dict() for u in utterances]


def load_aligned(path: str | os.PathLike) -> list[Utterance]:
    """Read and validate an `.aligned` file (one UserError naming the file and entry if broken)."""
    path = Path(path)
    data = read_json(path, "aligned file")
    if not isinstance(data, list):
        raise UserError(f"{path}: an .aligned file must be a JSON list of utterance objects")
    return [Utterance.from_dict(d, f"{path}: entry {i}") for i, d in enumerate(data)]
