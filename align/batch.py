"""Align many documents: `run_catalog(jobs, config, executor) -> RunReport`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from .common.errors import UserError
from .common.progress import progress
from .config import AlignConfig
from .pipeline import DocumentJob, align_document

log = logging.getLogger(__name__)


@dataclass
class EntryOutcome:
    index: int
    job: DocumentJob
    status: str                       # done | skipped | failed
    reason: str = ""                  # failed: the cause; skipped: why
    audio_seconds: float = 0.0
    kept_seconds: float = 0.0
    utterances: int = 0


@dataclass
class RunReport:
    entries: list[EntryOutcome] = field(default_factory=list)

    def by_status(self, status: str) -> list[EntryOutcome]:
        return [e for e in self.entries if e.status == status]

    @property
    def done(self) -> list[EntryOutcome]:
        return self.by_status("done")

    @property
    def skipped(self) -> list[EntryOutcome]:
        return self.by_status("skipped")

    @property
    def failed(self) -> list[EntryOutcome]:
        return self.by_status("failed")

    def summary_lines(self) -> list[str]:
        lines = [f"{len(self.done)} documents aligned, {len(self.skipped)} already done, {len(self.failed)} failed"]
        for e in self.failed:
            lines.append(f"  failed entry {e.index} ({e.job.name}): {e.reason}")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {"entries": [{"index": e.index, **e.job.to_dict(), "status": e.status, "reason": e.reason,
                             "audio_seconds": e.audio_seconds, "kept_seconds": e.kept_seconds,
                             "utterances": e.utterances} for e in self.entries]}


def run_catalog(jobs: Sequence[DocumentJob], config: AlignConfig, executor: Optional[Any] = None, *,
                alphabet=None) -> RunReport:
    """Align every job; a failing entry is logged and reported, the others go on."""
    if alphabet is None:
        alphabet = config.load_alphabet()
    report = RunReport()
    for k, job in enumerate(progress(jobs, enabled=config.run.show_progress, desc="documents", unit="doc")):
        if job.aligned.exists() and not config.run.force:
            report.entries.append(EntryOutcome(k, job, "skipped", "already done"))
            continue
        try:
            r = align_document(job, config, alphabet=alphabet, show_progress=False)
        except UserError as e:
            report.entries.append(EntryOutcome(k, job, "failed", str(e)))
            log.error("entry %d (%s) skipped: %s", k, job.name, e)
            continue
        except Exception as e:  # a bug or an engine crash on one document must not stop the batch
            report.entries.append(EntryOutcome(k, job, "failed", f"unexpected {type(e).__name__}: {e}"))
            log.exception("entry %d (%s) skipped after an unexpected error", k, job.name)
            continue
        report.entries.append(EntryOutcome(k, job, "done", "", r.audio_seconds, r.kept_seconds, len(r.utterances)))
    return report
