"""Done stamps: when is a document's output finished and trustworthy?

After all of a document's outputs are written (each atomically), `<aligned>.done.json` is written
(atomically) with: the config hash, the sha256 of every input (text, and audio or transcript
log), the sha256 of every output, and the document's counts. A document is done only if its
stamp parses, its config hash and input hashes equal the current ones, and every output it lists
still has the recorded hash. So an entry killed before its stamp, an output edited or truncated
afterwards, a changed input or a changed option are all redone; nothing half-written is trusted.
Before a document is redone its stamp is removed first.
"""

from __future__ import annotations

import contextlib
import glob
import os
import logging
from pathlib import Path
from typing import Any, Optional

from .common.errors import UserError
from .common.fileio import atomic_write_json, read_json
from .common.hashing import sha256_file

log = logging.getLogger(__name__)

STAMP_FORMAT = "align-done"
STAMP_VERSION = 1


def stamp_path(aligned: Path) -> Path:
    aligned = Path(aligned)
    return aligned.with_name(aligned.name + ".done.json")


def input_hashes(job) -> dict[str, str]:
    """sha256 of the document's inputs (raises OSError for a missing one)."""
    out = {"script": sha256_file(job.script)}
    if job.audio is not None:
        out["audio"] = sha256_file(job.audio)
    else:
        out["tlog"] = sha256_file(job.tlog)
    return out


def write_stamp(job, config_hash: str, outputs: dict[str, Path], counts: dict[str, Any],
                inputs: Optional[dict[str, str]] = None) -> Path:
    path = stamp_path(job.aligned)
    atomic_write_json(path, {
        "format": STAMP_FORMAT, "version": STAMP_VERSION, "config_hash": config_hash,
        "inputs": inputs if inputs is not None else input_hashes(job),
        # paths relative to the .aligned file's directory (an output may live elsewhere, e.g. --textgrid-dir)
        "outputs": {name: {"file": os.path.relpath(p, Path(job.aligned).parent), "sha256": sha256_file(p)}
                    for name, p in sorted(outputs.items())},
        "counts": counts,
    }, pretty=True)
    return path


def remove_stamp(job, output_paths=()) -> None:
    """Before a document is redone: its stamp goes first, and so do the temporary files a killed
    run left beside its outputs (`atomic_path` names them `.<name>.<random>.tmp`)."""
    with contextlib.suppress(FileNotFoundError):
        stamp_path(job.aligned).unlink()
    for out in {Path(job.aligned), stamp_path(job.aligned), *map(Path, output_paths)}:
        for tmp in out.parent.glob(f".{glob.escape(out.name)}.*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


def read_stamp(aligned: Path) -> Optional[dict[str, Any]]:
    """The stamp's content, or None if there is none or it is damaged (logged)."""
    path = stamp_path(aligned)
    if not path.exists():
        return None
    try:
        data = read_json(path, "done stamp")
    except UserError as e:
        log.warning("ignoring a damaged done stamp (%s); the document will be redone", e)
        return None
    if not isinstance(data, dict) or data.get("format") != STAMP_FORMAT or data.get("version") != STAMP_VERSION:
        log.warning("ignoring %s: not a done stamp of this version; the document will be redone", path)
        return None
    return data


def done_counts(job, config_hash: str) -> Optional[dict[str, Any]]:
    """The recorded counts if `job` is done with this config and these inputs, else None."""
    stamp = read_stamp(job.aligned)
    if stamp is None or stamp.get("config_hash") != config_hash:
        return None
    try:
        if stamp.get("inputs") != input_hashes(job):
            return None
        outputs = stamp.get("outputs")
        if not isinstance(outputs, dict) or not outputs:
            return None
        base = Path(job.aligned).parent
        for rec in outputs.values():
            p = base / rec["file"]
            if not p.exists() or sha256_file(p) != rec["sha256"]:
                return None
    except (OSError, KeyError, TypeError):
        return None
    counts = stamp.get("counts")
    return counts if isinstance(counts, dict) else None
