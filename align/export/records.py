"""The utterance records the exporter reads.

Uses `align.records` (typed `Utterance`, `load_aligned`) when it exists; until then a minimal
reader of the same `.aligned` JSON with the same attribute names.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..common.errors import UserError
from ..common.fileio import read_json
from ..text.metrics import METRIC_IDS

try:  # pragma: no cover - depends on which issues have landed
    from ..records import Utterance, load_aligned  # type: ignore  # noqa: F401
except ImportError:  # pragma: no cover
    _CORE = ("start", "end", "transcript", "text-start", "text-end", "meta", "aligned-raw", "aligned")

    @dataclass
    class Utterance:  # type: ignore[no-redef]
        start: float
        end: float
        transcript: str
        text_start: int
        text_end: int
        meta: dict[str, list[Any]]
        aligned_raw: str
        aligned: str
        id: str = ""
        metrics: dict[str, float] = field(default_factory=dict)
        extra: dict[str, Any] = field(default_factory=dict)

        @property
        def duration_s(self) -> float:
            return (self.end - self.start) / 1000.0

    def load_aligned(path: str | os.PathLike) -> list[Utterance]:  # type: ignore[no-redef]
        path = Path(path)
        data = read_json(path, "aligned file")
        if not isinstance(data, list):
            raise UserError(f"{path}: an .aligned file must be a JSON list of utterance objects")
        out = []
        for i, d in enumerate(data):
            where = f"{path}: entry {i}"
            if not isinstance(d, dict):
                raise UserError(f"{where}: not a JSON object")
            for key in _CORE:
                if key not in d:
                    raise UserError(f"{where}: no \"{key}\" key (not an .aligned file?)")
            for key in ("start", "end"):
                v = d[key]
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                    raise UserError(f"{where}: \"{key}\" must be a number of milliseconds, got {v!r}")
            metrics = {m: d[m] for m in METRIC_IDS if m in d}
            extra = {k: v for k, v in d.items() if k not in _CORE and k not in metrics and k != "id"}
            out.append(Utterance(d["start"], d["end"], d["transcript"], d["text-start"], d["text-end"],
                                 d["meta"] if isinstance(d["meta"], dict) else {}, d["aligned-raw"],
                                 d["aligned"], d.get("id", "") or "", metrics, extra))
        return out
