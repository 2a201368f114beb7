"""`export(config)`: selection, then clips + manifests into a directory or WebDataset tar shards.

Safe reruns: the target holds a state file (`.align-export.json`) with a hash of the options and
inputs. Same hash: the run resumes (clips already there and intact are kept). Another hash, or a
non-empty directory without a state file: refused unless `--force`. Every clip, manifest and shard
is written to a temporary name and renamed, so nothing half-written ever carries a final name.
"""

from __future__ import annotations

import io
import logging
import tarfile
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

from ..common.errors import UsageError, UserError
from ..common.fileio import atomic_path, atomic_write_json, atomic_write_text, dump_json, read_json
from ..common.hashing import sha256_file, sha256_json
from ..common.progress import progress
from .audio import AudioFormat, Source, cut, encode, frame_range
from .manifests import MANIFESTS, WRITERS, Clip, sample_record
from .records import Utterance, load_aligned
from .select import SelectConfig, Selection, select

log = logging.getLogger(__name__)

STATE = ".align-export.json"
STATE_VERSION = 1


@dataclass(frozen=True)
class Document:
    audio: Optional[Path]
    aligned: Path
    doc_id: str


@dataclass(frozen=True)
class ExportConfig:
    select: SelectConfig = SelectConfig()
    audio: AudioFormat = AudioFormat()
    target_dir: Optional[Path] = None
    target_tar: Optional[Path] = None
    shard_size: int = 1000
    manifests: tuple[str, ...] = MANIFESTS
    original_text: bool = False        # also write the raw original text (CSV column, tar .original.txt)
    output_format: str = "clips"       # clips | srt | vtt
    subtitle_timing: str = "chars"     # chars | words | lines | karaoke (align.wordsubs)
    dry_run: bool = False
    force: bool = False
    workers: int = 1
    show_progress: bool = True

    def validate(self) -> None:
        if (self.target_dir is None) == (self.target_tar is None):
            raise UsageError("give exactly one of --target-dir and --target-tar")
        if self.target_tar is not None and self.output_format != "clips":
            raise UsageError(f"--output-format {self.output_format} writes files per document: use --target-dir")
        if self.target_tar is not None and self.target_tar.suffix != ".tar":
            raise UsageError(f"--target-tar {self.target_tar}: the name must end in .tar (shards are NAME-LIST-000000.tar)")
        if self.shard_size < 1:
            raise UsageError(f"--shard-size must be >= 1, got {self.shard_size}")
        if self.workers < 1:
            raise UsageError(f"--workers must be >= 1, got {self.workers}")
        if self.audio.rate < 1 or not 1 <= self.audio.channels <= 8:
            raise UsageError("--rate must be positive and --channels between 1 and 8")
        unknown = set(self.manifests) - set(MANIFESTS)
        if unknown:
            raise UsageError(f"--manifests: unknown {', '.join(sorted(unknown))}; choose from {', '.join(MANIFESTS)}")
        self.select.validate()

    def output_key(self) -> dict[str, Any]:
        """What the outputs depend on (not dry-run, force, workers, progress)."""
        return {"select": asdict(self.select), "audio": asdict(self.audio), "shard_size": self.shard_size,
                "manifests": list(self.manifests), "original_text": self.original_text,
                "output_format": self.output_format, "subtitle_timing": self.subtitle_timing}


@dataclass
class ExportReport:
    selection: Selection
    written: Counter = field(default_factory=Counter)     # list -> clips
    reused: int = 0
    skipped: Counter = field(default_factory=Counter)     # reason -> utterances not written
    failed: list[str] = field(default_factory=list)       # documents that failed, with cause
    files: list[str] = field(default_factory=list)        # manifests / shards / subtitle files
    seconds: Counter = field(default_factory=Counter)     # list -> audio seconds written

    def summary_lines(self) -> list[str]:
        lines = self.selection.summary_lines()
        for name, n in self.written.items():
            lines.append(f"written {name}: {n} clips, {self.seconds[name] / 3600:.3f} h")
        if self.reused:
            lines.append(f"kept from an earlier run: {self.reused} clips")
        for reason, n in sorted(self.skipped.items()):
            lines.append(f"not written, {reason}: {n}")
        for f in self.failed:
            lines.append(f"FAILED {f}")
        return lines


def doc_ids(names: Sequence[str]) -> list[str]:
    """File-name-safe, unique document ids (a name that occurs twice gets `.1`, `.2`, ...)."""
    stems = ["".join(c if c.isalnum() or c in "-_." else "_" for c in n) or "doc" for n in names]
    count = Counter(stems)
    seen: Counter = Counter()
    out = []
    for s in stems:
        if count[s] > 1:
            seen[s] += 1
            out.append(f"{s}.{seen[s]}")
        else:
            out.append(s)
    return out


def _state_path(cfg: ExportConfig) -> Path:
    if cfg.target_dir is not None:
        return cfg.target_dir / STATE
    assert cfg.target_tar is not None
    return cfg.target_tar.with_name(cfg.target_tar.stem + STATE)


def _inputs_key(docs: Sequence[Document]) -> list[Any]:
    out = []
    for d in docs:
        st = d.audio.stat() if d.audio and d.audio.exists() else None
        out.append([d.doc_id, str(d.audio), st.st_size if st else None, st.st_mtime_ns if st else None,
                    sha256_file(d.aligned)])
    return out


def _check_target(cfg: ExportConfig, key: str) -> Optional[dict]:
    """Refuse a target holding something else; return the old state when resuming or forcing."""
    state_path = _state_path(cfg)
    old = None
    if state_path.exists():
        try:
            old = read_json(state_path, "export state file")
        except UserError as e:
            log.warning("%s; treating the target as foreign", e)
            old = None
        if old is not None and (not isinstance(old, dict) or old.get("version") != STATE_VERSION):
            old = None
    target = cfg.target_dir if cfg.target_dir is not None else cfg.target_tar
    if old is not None and old.get("key") == key:
        return old
    if cfg.force:
        return old
    if old is not None:
        raise UserError(f"{target}: holds an export made with other options or inputs; use --force to "
                        f"replace it, or another target")
    if cfg.target_dir is not None and cfg.target_dir.exists():
        if not cfg.target_dir.is_dir():
            raise UserError(f"--target-dir {cfg.target_dir} is a file")
        # our own state file's temp name (a run killed before its first write) does not count
        if any(not (p.name.startswith(f".{STATE}.") and p.name.endswith(".tmp")) for p in cfg.target_dir.iterdir()):
            raise UserError(f"--target-dir {cfg.target_dir} is not empty and holds no align-export state; use "
                            f"--force to write into it anyway, or an empty or new directory")
    if cfg.target_tar is not None and any(cfg.target_tar.parent.glob(cfg.target_tar.stem + "-*.tar")):
        raise UserError(f"{cfg.target_tar.parent}: shards named {cfg.target_tar.stem}-*.tar exist and no export "
                        f"state; use --force to overwrite them")
    return None


def _write_state(cfg: ExportConfig, key: str, complete: bool, files: Sequence[str]) -> None:
    atomic_write_json(_state_path(cfg), {"version": STATE_VERSION, "key": key, "complete": complete,
                                         "files": sorted(files)}, pretty=True)


# --- the per-document work (runs in worker processes) ---------------------------------------------

@dataclass(frozen=True)
class _Task:
    audio: Path
    fmt: AudioFormat
    items: tuple[tuple[str, float, float], ...]      # (relative path, start ms, end ms)
    target_dir: Optional[Path]                      # write files there; None: return bytes
    resume: bool


@dataclass
class _Result:
    done: list[tuple[str, int, int, Optional[bytes]]]   # (path, nbytes, frames, data when not written)
    skipped: list[tuple[str, str]]                      # (path, reason)
    reused: int = 0
    error: Optional[str] = None                         # the document failed (its other clips are dropped)


def _intact(path: Path, fmt: AudioFormat, frames: int) -> Optional[int]:
    """Size of an existing clip that decodes with the expected format and length, else None."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception:
        return None
    if info.samplerate != fmt.rate or info.channels != fmt.channels or info.frames != frames:
        return None
    return path.stat().st_size


def _run_task(task: _Task) -> _Result:
    """Cut one document's clips; a broken source fails this document only (reported, not raised)."""
    try:
        return _cut_document(task)
    except UserError as e:
        return _Result([], [], error=str(e))
    except Exception as e:   # libsndfile/soxr on a damaged file: name the file, keep the others going
        return _Result([], [], error=f"{task.audio}: cannot read the audio: {e}")


def _cut_document(task: _Task) -> _Result:
    res = _Result([], [])
    todo = []
    for rel, s, e in task.items:
        if task.resume and task.target_dir is not None:
            a, b = frame_range(s, e, task.fmt.rate)
            size = _intact(task.target_dir / rel, task.fmt, b - a)
            if size is not None:
                res.done.append((rel, size, b - a, None))
                res.reused += 1
                continue
        todo.append((rel, s, e))
    if not todo:
        return res
    with Source(task.audio, task.fmt) as audio:
        for rel, s, e in todo:
            frames = cut(audio, s, e, task.fmt.rate)
            if frames is None:
                res.skipped.append((rel, "outside the audio"))
                continue
            data = encode(frames, task.fmt)
            if task.target_dir is not None:
                with atomic_path(task.target_dir / rel) as tmp:
                    tmp.write_bytes(data)
                res.done.append((rel, len(data), len(frames), None))
            else:
                res.done.append((rel, len(data), len(frames), data))
    res.done.sort(key=lambda t: t[0])
    return res


# --- tar shards -----------------------------------------------------------------------------------

class _ShardWriter:
    """WebDataset-style shards of one list: NAME-LIST-000000.tar, each written to a temp name first."""

    def __init__(self, base: Path, list_name: str, size: int):
        self.base, self.list_name, self.size = base, list_name, size
        self.index, self.count = 0, 0
        self.tar: Optional[tarfile.TarFile] = None
        self._ctx = None
        self.files: list[str] = []

    def _open(self) -> None:
        path = self.base.with_name(f"{self.base.stem}-{self.list_name}-{self.index:06d}.tar")
        self._ctx = atomic_path(path)
        tmp = self._ctx.__enter__()
        self.tar = tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT)
        self.files.append(path.name)

    def add(self, key: str, members: list[tuple[str, bytes]]) -> None:
        if self.tar is None:
            self._open()
        assert self.tar is not None
        for suffix, data in members:
            info = tarfile.TarInfo(f"{key}{suffix}")
            info.size, info.mtime, info.mode = len(data), 0, 0o644   # fixed: byte-identical reruns
            self.tar.addfile(info, io.BytesIO(data))
        self.count += 1
        if self.count == self.size:
            self.close()

    def close(self, error: Optional[BaseException] = None) -> None:
        if self.tar is None:
            return
        self.tar.close()
        ctx, self.tar, self._ctx = self._ctx, None, None
        assert ctx is not None
        if error is None:
            ctx.__exit__(None, None, None)
        else:
            ctx.__exit__(type(error), error, None)
        self.index += 1
        self.count = 0


# --- the export ------------------------------------------------------------------------------------

def load_documents(docs: Sequence[Document], report_failed: list[str]) -> list[tuple[Document, list[Utterance]]]:
    out = []
    for d in docs:
        try:
            out.append((d, load_aligned(d.aligned)))
        except UserError as e:
            report_failed.append(str(e))
            log.error("%s: skipped", e)
    return out


def export(docs: Sequence[Document], cfg: ExportConfig) -> ExportReport:
    failed: list[str] = []
    loaded = load_documents(docs, failed)
    selection = select([(d.doc_id, u) for d, u in loaded], cfg.select, where=[str(d.aligned) for d, _ in loaded])
    report = ExportReport(selection, failed=failed)
    if cfg.dry_run:
        return report
    loaded_docs = [d for d, _ in loaded]
    key = sha256_json({"config": cfg.output_key(), "inputs": _inputs_key(loaded_docs)})
    old = _check_target(cfg, key)
    if cfg.output_format in ("srt", "vtt"):
        _export_subtitles(loaded_docs, selection, cfg, report, key)
        return report
    for d in loaded_docs:
        if d.audio is None:
            raise UserError(f"{d.aligned}: no audio file given for it (the catalog entry needs \"audio\")")
    resume = old is not None and old.get("key") == key
    if cfg.target_dir is not None:
        _export_dir(loaded_docs, selection, cfg, report, key, old, resume)
    elif resume and old and old.get("complete") and all(
            (cfg.target_tar.parent / f).exists() for f in old.get("files", [])):  # type: ignore[union-attr]
        log.info("%s: this export is already complete (same options and inputs)", cfg.target_tar)
        report.files = list(old.get("files", []))
    else:
        _export_tar(loaded_docs, selection, cfg, report, key)
    return report


def _plan(docs: Sequence[Document], selection: Selection, cfg: ExportConfig, target_dir: Optional[Path],
          resume: bool) -> tuple[list[_Task], dict[str, Any]]:
    by_doc: dict[int, list[tuple[str, float, float]]] = defaultdict(list)
    where: dict[str, Any] = {}
    for name, samples in selection.lists.items():
        for s in samples:
            rel = f"{name}/{s.uid}.{cfg.audio.ext}"
            by_doc[s.doc].append((rel, s.utt.start, s.utt.end))
            where[rel] = (name, s)
    tasks = [_Task(docs[d].audio, cfg.audio, tuple(items), target_dir, resume)  # type: ignore[arg-type]
             for d, items in sorted(by_doc.items())]
    return tasks, where


def _results(tasks: list[_Task], cfg: ExportConfig) -> Iterator[_Result]:
    total = sum(len(t.items) for t in tasks)
    bar = progress(total=total, enabled=cfg.show_progress, desc="export", unit="clip")
    try:
        if cfg.workers == 1 or len(tasks) == 1:
            for t in tasks:
                r = _run_task(t)
                bar.update(len(t.items))
                yield r
        else:
            with ProcessPoolExecutor(max_workers=min(cfg.workers, len(tasks))) as ex:
                for t, r in zip(tasks, ex.map(_run_task, tasks)):
                    bar.update(len(t.items))
                    yield r
    finally:
        bar.close()


def _export_dir(docs, selection, cfg: ExportConfig, report: ExportReport, key: str, old: Optional[dict],
                resume: bool) -> None:
    target = cfg.target_dir
    assert target is not None
    target.mkdir(parents=True, exist_ok=True)
    tasks, where = _plan(docs, selection, cfg, target, resume)
    manifest_files = [f"{name}{suffix}" for name in selection.lists for kind in cfg.manifests
                      for suffix, _ in WRITERS[kind]]
    planned = set(where) | set(manifest_files)
    if old is not None and not resume:
        # --force over another export: its files that this one will not rewrite are removed.
        for rel in old.get("files", []):
            if rel not in planned and isinstance(rel, str) and ".." not in Path(rel).parts:
                (target / rel).unlink(missing_ok=True)
    for name in selection.lists:      # temp files of a killed run (never under a final name)
        for tmp in (target / name).glob(".*.tmp") if (target / name).is_dir() else ():
            tmp.unlink(missing_ok=True)
    for tmp in target.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)
    _write_state(cfg, key, False, sorted(planned))
    clips: dict[str, Clip] = {}
    for t, r in zip(tasks, _results(tasks, cfg)):
        if r.error:
            report.failed.append(r.error)
            log.error("%s: skipped (%d utterances)", r.error, len(t.items))
            continue
        report.reused += r.reused
        for rel, nbytes, frames, _ in r.done:
            clips[rel] = Clip(where[rel][1], rel, nbytes, frames)
        for rel, reason in r.skipped:
            report.skipped[reason] += 1
            log.warning("%s (%s): not written, %s", rel, where[rel][1].uid, reason)
    written = []
    for name, samples in selection.lists.items():
        lst = [clips[f"{name}/{s.uid}.{cfg.audio.ext}"] for s in samples if f"{name}/{s.uid}.{cfg.audio.ext}" in clips]
        report.written[name] = len(lst)
        report.seconds[name] = sum(c.duration(cfg.audio) for c in lst)
        for kind in cfg.manifests:
            for suffix, fn in WRITERS[kind]:
                atomic_write_text(target / f"{name}{suffix}", fn(lst, cfg.audio, cfg.original_text))
                written.append(f"{name}{suffix}")
    report.files = written
    _write_state(cfg, key, True, sorted(planned))


def _export_tar(docs, selection, cfg: ExportConfig, report: ExportReport, key: str) -> None:
    assert cfg.target_tar is not None
    cfg.target_tar.parent.mkdir(parents=True, exist_ok=True)
    tasks, where = _plan(docs, selection, cfg, None, False)
    # a killed run's temp files: shards and the state file
    for pattern in (f".{cfg.target_tar.stem}-*.tar.*.tmp", f".{_state_path(cfg).name}.*.tmp"):
        for tmp in cfg.target_tar.parent.glob(pattern):
            tmp.unlink(missing_ok=True)
    _write_state(cfg, key, False, [])
    # Samples of a list are in document order and documents are processed in order, so every
    # shard's content is the same on every run.
    writers = {name: _ShardWriter(cfg.target_tar, name, cfg.shard_size) for name in selection.lists}
    try:
        for t, r in zip(tasks, _results(tasks, cfg)):
            if r.error:
                report.failed.append(r.error)
                log.error("%s: skipped (%d utterances)", r.error, len(t.items))
                continue
            for rel, reason in r.skipped:
                report.skipped[reason] += 1
                log.warning("%s: not written, %s", where[rel][1].uid, reason)
            for rel, nbytes, frames, data in sorted(r.done, key=lambda d: where[d[0]][1].index):
                name, s = where[rel]
                clip = Clip(s, f"{s.uid}.{cfg.audio.ext}", nbytes, frames)
                members = [(f".{cfg.audio.ext}", data or b""), (".txt", s.utt.aligned.encode("utf-8"))]
                if cfg.original_text:
                    members.append((".original.txt", " ".join(s.utt.aligned_raw.split()).encode("utf-8")))
                members.append((".json", dump_json(sample_record(clip, cfg.audio)).encode("utf-8")))
                writers[name].add(s.uid, members)
                report.written[name] += 1
                report.seconds[name] += clip.duration(cfg.audio)
    except BaseException as e:
        for w in writers.values():
            w.close(e)
        raise
    files = []
    for w in writers.values():
        w.close()
        files.extend(w.files)
    # Shards of this name that this run did not write (an earlier export replaced with --force, or
    # one with more shards) would be picked up by a NAME-*.tar glob: remove them.
    for p in cfg.target_tar.parent.glob(f"{cfg.target_tar.stem}-*.tar"):
        if p.name not in files:
            p.unlink()
    report.files = files
    _write_state(cfg, key, True, files)


def _export_subtitles(docs, selection: Selection, cfg: ExportConfig, report: ExportReport, key: str) -> None:
    from ..wordsubs import subtitles_text

    target = cfg.target_dir
    assert target is not None
    target.mkdir(parents=True, exist_ok=True)
    per_doc: dict[int, list[Utterance]] = defaultdict(list)
    for samples in selection.lists.values():
        for s in samples:
            per_doc[s.doc].append(s.utt)
    files = []
    for d, utts in sorted(per_doc.items()):
        name = f"{docs[d].doc_id}.{cfg.output_format}"
        atomic_write_text(target / name, subtitles_text(utts, cfg.output_format, cfg.subtitle_timing))
        files.append(name)
        report.written[cfg.output_format] += 1
    report.files = files
    _write_state(cfg, key, True, files)
