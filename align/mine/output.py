"""pairs.tsv.gz, summary.json and the resolved config in output_dir (all written atomically)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..common.fileio import atomic_write_gzip_text, atomic_write_json, atomic_write_text
from .select import Direction, Pairs

PAIRS_FILE = "pairs.tsv.gz"
SUMMARY_FILE = "summary.json"
CONFIG_FILE = "config.resolved.yaml"
COLUMNS = ("score", "margin", "aux", "src_row", "tgt_row", "src_meta", "tgt_meta", "direction")


def _num(x: float) -> str:
    return "" if not math.isfinite(x) else f"{x:.6f}"


def pairs_text(p: Pairs, src_meta: dict[int, str], tgt_meta: dict[int, str]) -> str:
    lines = ["\t".join(COLUMNS)]
    for score, margin, aux, s, t, d in zip(p.score.tolist(), p.margin.tolist(), p.aux.tolist(), p.src.tolist(),
                                           p.tgt.tolist(), p.direction.tolist()):
        lines.append(f"{_num(score)}\t{_num(margin)}\t{_num(aux)}\t{s}\t{t}\t{src_meta.get(s, '')}\t"
                     f"{tgt_meta.get(t, '')}\t{Direction(d).label}")
    return "\n".join(lines) + "\n"


def write_pairs(out_dir: Path, p: Pairs, src_meta: dict[int, str], tgt_meta: dict[int, str]) -> Path:
    path = Path(out_dir) / PAIRS_FILE
    atomic_write_gzip_text(path, pairs_text(p, src_meta, tgt_meta))  # gzip mtime 0: byte-identical reruns
    return path


def read_pairs(path: str | Path) -> list[dict]:
    """Parse pairs.tsv.gz back into dicts (tests, tools)."""
    import gzip

    with gzip.open(path, "rt", encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        rows = []
        for line in f:
            vals = line.rstrip("\n").split("\t")
            row = dict(zip(header, vals))
            for k in ("score", "margin", "aux"):
                row[k] = float(row[k]) if row[k] else None
            row["src_row"], row["tgt_row"] = int(row["src_row"]), int(row["tgt_row"])
            rows.append(row)
    return rows


def histogram(values: np.ndarray, width: float = 0.02) -> dict:
    v = values[np.isfinite(values)]
    if len(v) == 0:
        return {"bin_width": width, "edges": [], "counts": []}
    lo = math.floor(float(v.min()) / width) * width
    hi = math.ceil(float(v.max()) / width) * width
    nb = max(1, int(round((hi - lo) / width)))
    counts, edges = np.histogram(v, bins=nb, range=(lo, lo + nb * width))
    return {"bin_width": width, "edges": [round(float(e), 6) for e in edges], "counts": counts.tolist()}


def counts_at(values: np.ndarray, thresholds: list[float]) -> dict:
    return {f"{t:g}": int((values >= t).sum()) for t in thresholds}


def write_summary(out_dir: Path, summary: dict) -> Path:
    path = Path(out_dir) / SUMMARY_FILE
    atomic_write_json(path, summary, pretty=True)
    return path


def write_config(out_dir: Path, cfg_dict: dict) -> Path:
    import yaml

    path = Path(out_dir) / CONFIG_FILE
    atomic_write_text(path, "# resolved configuration of this run (mine --config this-file reruns it)\n"
                      + yaml.safe_dump(cfg_dict, sort_keys=False, allow_unicode=True))
    return path
