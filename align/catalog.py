"""Catalogs: many documents to align in one run.

A catalog is a JSON list of objects with `script` and `aligned`, and `audio` and/or `tlog` (at
least one of them). Relative paths are relative to the catalog file. Missing keys other than
these may be absent or null (the reference required all four keys).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from .common.errors import UsageError, UserError
from .common.fileio import read_json
from .pipeline import DocumentJob


# The catalog's entries are the library's document jobs.
Job = DocumentJob


def read_catalog(path: str | os.PathLike) -> list[Job]:
    path = Path(path)
    data = read_json(path, "catalog")
    if not isinstance(data, list):
        raise UserError(f"{path}: a catalog must be a JSON list of {{audio, tlog, script, aligned}} objects")
    base = path.parent
    jobs = []
    for i, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise UserError(f"{path}: entry {i} is not an object")
        unknown = set(entry) - {"audio", "tlog", "script", "aligned"}
        if unknown:
            raise UserError(f"{path}: entry {i}: unknown key(s) {', '.join(sorted(unknown))}; "
                            f"use audio, tlog, script, aligned")

        def get(key: str) -> Optional[Path]:
            v = entry.get(key)
            if v is None:
                return None
            if not isinstance(v, str) or not v:
                raise UserError(f"{path}: entry {i}: \"{key}\" must be a path string")
            return base / v

        script, aligned, audio, tlog = get("script"), get("aligned"), get("audio"), get("tlog")
        for key, v in (("script", script), ("aligned", aligned)):
            if v is None:
                raise UserError(f"{path}: entry {i} has no \"{key}\"")
        if audio is None and tlog is None:
            raise UserError(f"{path}: entry {i} needs \"audio\" or \"tlog\"")
        for key, v in (("script", script), ("tlog", tlog), ("audio", audio)):
            if v is not None and v.resolve() == aligned.resolve():
                raise UsageError(f"{path}: entry {i}: \"aligned\" {aligned} is the same file as \"{key}\"; "
                                 f"give another output path")
        jobs.append(Job(script, aligned, audio, tlog))
    outs = [j.aligned.resolve() for j in jobs]
    if len(set(outs)) != len(outs):
        raise UserError(f"{path}: two entries write the same \"aligned\" file")
    return jobs
