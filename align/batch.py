"""Align many documents: `run_catalog(jobs, config, executor) -> RunReport`.

Every entry runs in a worker (see `align.common.executors`); the worker checks the entry's done
stamp (`align.resume`), aligns it if needed, writes its outputs and then its stamp. An entry that
fails (bad or missing input, engine error, a worker that dies) is logged with its cause and
reported; the others go on. `RunReport` gives the summary table and the `--report` JSON.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

from .common.errors import UserError
from .common.executors import DIED, Executor, SerialExecutor
from .common.progress import progress
from .config import AlignConfig
from .pipeline import AlignResult, DocumentJob, align_document

log = logging.getLogger(__name__)

DONE, SKIPPED, FAILED = "done", "skipped", "failed"


@dataclass
class EntryOutcome:
    index: int
    job: DocumentJob
    status: str                       # done | skipped | failed
    reason: str = ""                  # skipped: why (already done, missing input); failed: the category
    detail: str = ""                  # failed: the cause, as logged
    audio_seconds: float = 0.0
    kept_seconds: float = 0.0
    utterances: int = 0
    fragments: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0              # wall time of the entry
    text_mismatch: bool = False       # done, but under 10% of the speech aligned (pipeline.TEXT_MISMATCH_SHARE)

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, **self.job.to_dict(), "status": self.status, "reason": self.reason,
                "detail": self.detail, "audio_seconds": round(self.audio_seconds, 3),
                "kept_seconds": round(self.kept_seconds, 3), "utterances": self.utterances,
                "fragments": self.fragments, "dropped": self.dropped, "seconds": round(self.seconds, 3),
                "text_mismatch": self.text_mismatch}


@dataclass
class RunReport:
    entries: list[EntryOutcome] = field(default_factory=list)
    config_hash: str = ""
    executor: str = ""
    workers: int = 1
    seconds: float = 0.0
    interrupted: bool = False

    def by_status(self, status: str) -> list[EntryOutcome]:
        return [e for e in self.entries if e.status == status]

    @property
    def done(self) -> list[EntryOutcome]:
        return self.by_status(DONE)

    @property
    def skipped(self) -> list[EntryOutcome]:
        return self.by_status(SKIPPED)

    @property
    def failed(self) -> list[EntryOutcome]:
        return self.by_status(FAILED)

    def totals(self) -> dict[str, Any]:
        ok = [e for e in self.entries if e.status == DONE or e.reason == "already done"]
        return {
            "entries": len(self.entries), "done": len(self.done), "skipped": len(self.skipped),
            "failed": len(self.failed),
            "skipped_by_reason": dict(sorted(Counter(e.reason for e in self.skipped).items())),
            "failed_by_reason": dict(sorted(Counter(e.reason for e in self.failed).items())),
            "audio_hours": sum(e.audio_seconds for e in ok) / 3600.0,
            "kept_hours": sum(e.kept_seconds for e in ok) / 3600.0,
            "utterances": sum(e.utterances for e in ok),
        }

    def summary_lines(self) -> list[str]:
        t = self.totals()
        lines = [f"{t['done']} documents aligned, {t['skipped']} skipped, {t['failed']} failed "
                 f"(of {t['entries']}; {self.executor}, {self.workers} worker(s), {self.seconds:.1f} s)"]
        rows = [("done", t["done"])]
        rows += [(f"skipped: {r}", c) for r, c in t["skipped_by_reason"].items()]
        rows += [(f"failed: {r}", c) for r, c in t["failed_by_reason"].items()]
        rows += [("audio hours (aligned documents)", f"{t['audio_hours']:.3f}"),
                 ("hours kept", f"{t['kept_hours']:.3f}"), ("utterances", t["utterances"])]
        w = max(len(r) for r, _ in rows)
        lines += [f"  {r:<{w}}  {v:>9}" for r, v in rows]
        for e in self.failed:
            lines.append(f"  failed entry {e.index} ({e.job.name}): {e.detail}")
        for e in sorted(self.entries, key=lambda e: e.index):
            if e.text_mismatch:
                lines.append(f"  text probably wrong, entry {e.index} ({e.job.name}): under 10% of the speech aligned")
        if self.interrupted:
            lines.append("  interrupted: entries not listed were not run; rerun to resume")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {"config_hash": self.config_hash, "executor": self.executor, "workers": self.workers,
                "seconds": round(self.seconds, 3), "interrupted": self.interrupted, "totals": self.totals(),
                "entries": [e.to_dict() for e in sorted(self.entries, key=lambda e: e.index)]}


def classify(message: str) -> str:
    """A short failure category for the table (the full cause is in `detail`)."""
    m = message.lower()
    if "not found" in m or "no such file" in m:
        return "missing input"
    if "empty" in m:
        return "empty input"
    if message == DIED:
        return "worker died"
    if "audio" in m or "decode" in m or "ffmpeg" in m:
        return "bad audio"
    if message.startswith("unexpected "):
        return "internal error"
    return "bad input"


def align_entry(job: DocumentJob, config: AlignConfig, *, alphabet=None, index: int = 0,
                show_progress: bool = False) -> EntryOutcome:
    """One catalog entry: skipped if done (stamp), else aligned, written and stamped."""
    from .catalog import missing_inputs
    from .resume import done_counts, input_hashes, remove_stamp, write_stamp

    t0 = time.perf_counter()
    missing = missing_inputs(job)
    if missing:
        status = SKIPPED if config.run.ignore_missing else FAILED
        return EntryOutcome(index, job, status, "missing input", f"input not found: {', '.join(missing)}",
                            seconds=time.perf_counter() - t0)
    chash = config.config_hash()
    if not config.run.force:
        counts = done_counts(job, chash)
        if counts is not None:
            return EntryOutcome(index, job, SKIPPED, "already done", "", counts.get("audio_seconds", 0.0),
                                counts.get("kept_seconds", 0.0), counts.get("utterances", 0),
                                counts.get("fragments", 0), counts.get("dropped", {}), time.perf_counter() - t0)
    from .writers import get_writer

    # from here until the new stamp, the entry is not done
    remove_stamp(job, [job.output_path(get_writer(f)) for f in config.formats])
    inputs = input_hashes(job)
    r: AlignResult = align_document(job, config, alphabet=alphabet, show_progress=show_progress)
    write_stamp(job, chash, r.outputs, r.counts(), inputs)
    return EntryOutcome(index, job, DONE, "", "", r.audio_seconds, r.kept_seconds, len(r.utterances), r.fragments,
                        dict(sorted(r.dropped_by_reason().items())), time.perf_counter() - t0, r.text_mismatch)


# --- worker side: the config and alphabet are loaded once per worker ------------------------

_WORKER: dict = {}   # per worker process only (the serial executor: this process)


def _setup_worker(config: AlignConfig, loglevel: int) -> None:
    import logging as _logging

    if not _logging.getLogger().handlers:  # a spawned worker: its own WARNING+ lines on stderr
        from .cli.common import setup_logging

        setup_logging(max(loglevel, _logging.WARNING))
    _WORKER["config"] = config
    _WORKER["alphabet"] = config.load_alphabet()


def _run_one(item: tuple[int, DocumentJob]) -> EntryOutcome:
    index, job = item
    try:
        return align_entry(job, _WORKER["config"], alphabet=_WORKER["alphabet"], index=index)
    except UserError as e:
        return EntryOutcome(index, job, FAILED, classify(str(e)), str(e))
    except Exception as e:  # an engine error or a bug on one document must not stop the batch
        log.debug("entry %d (%s) failed", index, job.name, exc_info=True)
        msg = f"unexpected {type(e).__name__}: {e}"
        return EntryOutcome(index, job, FAILED, classify(msg), msg)


def run_catalog(jobs: Sequence[DocumentJob], config: AlignConfig, executor: Optional[Executor] = None, *,
                loglevel: int = logging.WARNING, report_path: Optional[Path] = None) -> RunReport:
    """Align every job with `executor` (default: serial in this process).

    One progress bar for the whole run: entries, audio hours aligned, ETA. Ctrl-C stops the
    executor (entries in flight are lost; their outputs are atomic and their stamps absent, so a
    rerun redoes exactly them) and re-raises after the partial report is written.
    """
    executor = executor or SerialExecutor()
    report = RunReport(config_hash=config.config_hash(), executor=executor.name, workers=executor.workers)
    t0 = time.perf_counter()
    bar = progress(total=len(jobs), enabled=config.run.show_progress, desc="documents", unit="doc")
    hours = 0.0
    try:
        results = executor.imap_unordered(_run_one, list(enumerate(jobs)), setup=(_setup_worker, (config, loglevel)))
        for res in results:
            if res.ok:
                out: EntryOutcome = res.value
            else:  # the worker died or the task could not run at all
                out = EntryOutcome(res.index, jobs[res.index], FAILED, classify(res.error), res.error)
            report.entries.append(out)
            if out.status == FAILED:
                log.error("entry %d (%s) failed: %s", out.index, out.job.name, out.detail)
            hours += out.audio_seconds / 3600.0
            bar.set_postfix_str(f"{hours:.2f} h audio, {len(report.failed)} failed", refresh=False)
            bar.update(1)
    except KeyboardInterrupt:
        report.interrupted = True
        raise
    finally:
        bar.close()
        report.entries.sort(key=lambda e: e.index)
        report.seconds = time.perf_counter() - t0
        if report_path is not None:
            from .common.fileio import atomic_write_json

            atomic_write_json(report_path, report.to_dict(), pretty=True)
    return report
