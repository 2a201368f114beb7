"""Catalogs: many documents to align in one run.

A catalog is a JSON list of objects `{audio, tlog, script, aligned, id}`:
- `script` is required, and `audio` or `tlog` (or both);
- `tlog` may be omitted: with `audio` it is the audio path with suffix `.tlog`;
- `aligned` may be omitted: the audio (else tlog) path with suffix `.aligned`;
- `id` may be omitted: the audio (else tlog) file's stem; ids must be unique in a catalog (they
  prefix the utterance ids);
- relative paths are relative to the catalog file's directory.

`build_catalog` makes one from globs of audio (or transcript logs) and texts matched by stem.
"""

from __future__ import annotations

import glob
import logging
import os
from pathlib import Path
from typing import Optional, Sequence

from .common.errors import UsageError, UserError
from .common.fileio import read_json
from .pipeline import DocumentJob

log = logging.getLogger(__name__)

KEYS = ("audio", "tlog", "script", "aligned", "id")

# The catalog's entries are the library's document jobs.
Job = DocumentJob


def read_catalog(path: str | os.PathLike) -> list[DocumentJob]:
    """Parse and check a catalog (its structure; whether the files exist is checked per entry
    when it runs, so that --ignore-missing can skip them)."""
    path = Path(path)
    data = read_json(path, "catalog")
    if not isinstance(data, list):
        raise UserError(f"{path}: a catalog must be a JSON list of {{audio, tlog, script, aligned}} objects")
    base = path.parent
    jobs = []
    for i, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise UserError(f"{path}: entry {i} is not an object")
        unknown = set(entry) - set(KEYS)
        if unknown:
            raise UserError(f"{path}: entry {i}: unknown key(s) {', '.join(sorted(unknown))}; "
                            f"use audio, tlog, script, aligned (and id)")

        def get(key: str) -> Optional[Path]:
            v = entry.get(key)
            if v is None:
                return None
            if not isinstance(v, str) or not v:
                raise UserError(f"{path}: entry {i}: \"{key}\" must be a path string")
            return base / v

        script, aligned, audio, tlog = get("script"), get("aligned"), get("audio"), get("tlog")
        doc_id = entry.get("id")
        if doc_id is not None and (not isinstance(doc_id, str) or not doc_id):
            raise UserError(f"{path}: entry {i}: \"id\" must be a non-empty string")
        if script is None:
            raise UserError(f"{path}: entry {i} has no \"script\"")
        if audio is None and tlog is None:
            raise UserError(f"{path}: entry {i} needs \"audio\" or \"tlog\"")
        if aligned is None:
            aligned = (audio if audio is not None else tlog).with_suffix(".aligned")
        for key, v in (("script", script), ("tlog", tlog), ("audio", audio)):
            if v is not None and v.resolve() == aligned.resolve():
                raise UsageError(f"{path}: entry {i}: \"aligned\" {aligned} is the same file as \"{key}\"; "
                                 f"give another output path")
        jobs.append(DocumentJob(script, aligned, audio, tlog, doc_id))
    outs: dict[Path, int] = {}
    ids: dict[str, int] = {}
    for i, j in enumerate(jobs):
        o = j.aligned.resolve()
        if o in outs:
            raise UserError(f"{path}: entries {outs[o]} and {i} write the same \"aligned\" file {j.aligned}")
        outs[o] = i
        if j.id in ids:
            msg = f"{path}: entries {ids[j.id]} and {i} have the same id {j.id!r}"
            if j.doc_id is not None and jobs[ids[j.id]].doc_id is not None:
                raise UserError(f"{msg}; ids must be unique")
            # derived ids (file stems) may repeat; the utterance ids of the two documents then do too
            log.warning("%s (the stem of their audio/tlog): their utterance ids will repeat; give them an "
                        "\"id\" key", msg)
        ids.setdefault(j.id, i)
    return jobs


def missing_inputs(job: DocumentJob) -> list[str]:
    """Inputs of `job` that do not exist (the tlog counts only without audio)."""
    need = [("script", job.script)] + ([("audio", job.audio)] if job.audio is not None else [("tlog", job.tlog)])
    return [f"{k} {p}" for k, p in need if not Path(p).is_file()]


def _match(patterns: Sequence[str], what: str) -> dict[str, Path]:
    by_stem: dict[str, Path] = {}
    for pat in patterns:
        hits = sorted(glob.glob(os.path.expanduser(pat), recursive=True))
        if not hits:
            raise UserError(f"--{what} {pat!r} matches no file")
        for h in hits:
            p = Path(h)
            if not p.is_file():
                continue
            if p.stem in by_stem and by_stem[p.stem] != p:
                raise UserError(f"two {what} files have the stem {p.stem!r}: {by_stem[p.stem]} and {p}; "
                                f"narrow the glob")
            by_stem[p.stem] = p
    return by_stem


def _rel(p: Path, base: Path) -> str:
    return Path(os.path.relpath(p.resolve(), base.resolve())).as_posix()


def build_catalog(out: Path, text_globs: Sequence[str], audio_globs: Sequence[str] = (),
                  tlog_globs: Sequence[str] = (), aligned_dir: Optional[Path] = None) -> tuple[list[dict], list[str]]:
    """Catalog entries (relative to `out`'s directory) for every audio (or tlog) file whose stem has
    a text file; returns (entries, warnings about unmatched files)."""
    if not audio_globs and not tlog_globs:
        raise UsageError("give --audio and/or --tlog globs")
    texts = _match(text_globs, "text")
    audio = _match(audio_globs, "audio") if audio_globs else {}
    tlogs = _match(tlog_globs, "tlog") if tlog_globs else {}
    base = Path(out).parent
    stems = sorted(set(audio) | set(tlogs))
    entries, warnings = [], []
    for stem in stems:
        if stem not in texts:
            warnings.append(f"no text file for {(audio.get(stem) or tlogs[stem])}")
            continue
        e: dict[str, str] = {}
        if stem in audio:
            e["audio"] = _rel(audio[stem], base)
        if stem in tlogs:
            e["tlog"] = _rel(tlogs[stem], base)
        e["script"] = _rel(texts[stem], base)
        if aligned_dir is not None:
            e["aligned"] = _rel(Path(aligned_dir) / f"{stem}.aligned", base)
        entries.append(e)
    for stem in sorted(set(texts) - set(stems)):
        warnings.append(f"no audio or transcript log for {texts[stem]}")
    if not entries:
        raise UserError("no audio (or tlog) file has a text file with the same stem; nothing to write")
    return entries, warnings
