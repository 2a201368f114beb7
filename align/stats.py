"""Statistics over `.aligned` files (or the outputs of catalogs): `align-stats`.

Per file: utterances, hours kept, and from the file's done stamp (written with every output) the
fragments, the audio hours and the dropped fragments by reason. Per metric present in the files
(`--output-<id>`): a histogram of hours kept by metric value.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from .common.errors import UserError
from .common.fileio import read_json
from .records import load_aligned
from .resume import read_stamp


@dataclass
class FileStats:
    path: Path
    utterances: int
    kept_seconds: float
    audio_seconds: Optional[float]       # from the stamp (None: no stamp)
    fragments: Optional[int]
    dropped: dict[str, int]
    metrics: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # metric -> (value, seconds)


@dataclass
class Histogram:
    metric: str
    edges: list[float]
    hours: list[float]


@dataclass
class StatsReport:
    files: list[FileStats]

    def totals(self) -> dict[str, Any]:
        dropped: Counter = Counter()
        for f in self.files:
            dropped.update(f.dropped)
        known = [f for f in self.files if f.audio_seconds is not None]
        return {
            "files": len(self.files),
            "utterances": sum(f.utterances for f in self.files),
            "kept_hours": sum(f.kept_seconds for f in self.files) / 3600.0,
            "audio_hours": sum(f.audio_seconds for f in known) / 3600.0,
            "files_without_stamp": len(self.files) - len(known),
            "fragments": sum(f.fragments or 0 for f in known),
            "kept_fragments": sum((f.fragments or 0) - sum(f.dropped.values()) for f in known),
            "dropped": dict(sorted(dropped.items(), key=lambda kv: (-kv[1], kv[0]))),
        }

    def metric_names(self) -> list[str]:
        from .text.metrics import METRIC_IDS

        have = {m for f in self.files for m in f.metrics}
        return [m for m in METRIC_IDS if m in have]

    def histogram(self, metric: str, bins: int = 10) -> Histogram:
        pairs = [p for f in self.files for p in f.metrics.get(metric, [])]
        values = np.array([v for v, _ in pairs], dtype=np.float64)
        weights = np.array([s for _, s in pairs], dtype=np.float64) / 3600.0
        lo, hi = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
        if 0.0 <= lo and hi <= 1.0 and metric not in ("tlen", "mlen"):
            lo, hi = 0.0, 1.0   # fractions: the whole range, comparable across runs
        if hi <= lo:
            hi = lo + 1.0
        counts, edges = np.histogram(values, bins=bins, range=(lo, hi), weights=weights)
        return Histogram(metric, [float(e) for e in edges], [float(c) for c in counts])

    def to_dict(self, bins: int = 10) -> dict[str, Any]:
        return {
            "totals": self.totals(),
            "files": [{"path": str(f.path), "utterances": f.utterances, "kept_seconds": round(f.kept_seconds, 3),
                       "audio_seconds": f.audio_seconds, "fragments": f.fragments, "dropped": f.dropped}
                      for f in self.files],
            "histograms": {m: {"edges": h.edges, "hours": h.hours}
                           for m in self.metric_names() for h in [self.histogram(m, bins)]},
        }


def _is_catalog(path: Path) -> bool:
    if path.suffix == ".aligned":
        return False
    data = read_json(path, "catalog or aligned file")
    return isinstance(data, list) and bool(data) and isinstance(data[0], dict) and "script" in data[0]


def expand_inputs(paths: Sequence[str | os.PathLike]) -> list[Path]:
    """`.aligned` files: as given, or the outputs of the entries of a catalog."""
    from .catalog import read_catalog

    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(p.rglob("*.aligned")))
        elif p.exists() and _is_catalog(p):
            out.extend(j.aligned for j in read_catalog(p))
        else:
            out.append(p)
    return out


def file_stats(path: Path) -> FileStats:
    utts = load_aligned(path)
    metrics: dict[str, list[tuple[float, float]]] = {}
    for u in utts:
        for m, v in u.metrics.items():
            if isinstance(v, (int, float)) and math.isfinite(v):
                metrics.setdefault(m, []).append((float(v), u.duration_s))
    stamp = read_stamp(path)
    counts = stamp.get("counts", {}) if stamp else {}
    return FileStats(path, len(utts), sum(u.duration_s for u in utts), counts.get("audio_seconds"),
                     counts.get("fragments"), dict(counts.get("dropped", {})), metrics)


def collect_stats(paths: Sequence[str | os.PathLike], *, ignore_missing: bool = False) -> StatsReport:
    files = []
    for p in expand_inputs(paths):
        if not p.exists():
            if ignore_missing:
                continue
            raise UserError(f"aligned file not found: {p} (--ignore-missing skips it)")
        files.append(file_stats(p))
    if not files:
        raise UserError("no .aligned file to summarise")
    return StatsReport(files)


def report_lines(report: StatsReport, bins: int = 10, width: int = 40) -> list[str]:
    t = report.totals()
    lines = [f"files: {t['files']}, utterances: {t['utterances']}, hours kept: {t['kept_hours']:.3f}, "
             f"audio hours: {t['audio_hours']:.3f}"
             + (f" ({t['files_without_stamp']} file(s) without a done stamp not counted)" if t["files_without_stamp"] else "")]
    if t["fragments"]:
        n = t["fragments"]
        lines.append(f"fragments: {n}, kept: {t['kept_fragments']} ({100.0 * t['kept_fragments'] / n:.2f}%)")
        for reason, c in t["dropped"].items():
            lines.append(f"  dropped, {reason}: {c} ({100.0 * c / n:.2f}%)")
    for m in report.metric_names():
        h = report.histogram(m, bins)
        top = max(h.hours) or 1.0
        lines.append(f"{m}: hours kept by value")
        for lo, hi, v in zip(h.edges, h.edges[1:], h.hours):
            lines.append(f"  [{lo:8.3f}, {hi:8.3f})  {v:9.4f} h  {'#' * int(round(width * v / top))}")
    return lines


def save_plots(report: StatsReport, out_dir: Path, bins: int = 10) -> list[Path]:
    """One PNG per metric (matplotlib, the `plot` extra)."""
    try:
        import matplotlib
    except ImportError:
        from .common.errors import MissingDependencyError

        raise MissingDependencyError("--plot-dir (PNG histograms)", "pip install matplotlib (or pip install -e .[plot])") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .common.fileio import atomic_path

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for m in report.metric_names():
        h = report.histogram(m, bins)
        fig, ax = plt.subplots(figsize=(6, 3.5))
        widths = np.diff(h.edges)
        ax.bar(h.edges[:-1], h.hours, width=widths, align="edge", edgecolor="black")
        ax.set_xlabel(m)
        ax.set_ylabel("hours kept")
        ax.set_title(f"{m}: hours of utterances by value")
        fig.tight_layout()
        path = out_dir / f"{m}.png"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", metadata={"Software": None})
        plt.close(fig)
        written.append(path)
    return written
