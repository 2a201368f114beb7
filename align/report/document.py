"""Gather one document's inputs for the review page and write it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..common.errors import UserError
from ..common.fileio import atomic_write_text
from ..export.records import load_aligned
from ..export.select import BASE_FIELDS, field_lookup
from ..export.expr import ExprEvalError, MissingField, compile_expr
from .page import ReportData, ReportParams, render

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportJob:
    aligned: Path
    script: Path
    out: Path
    audio: Optional[Path] = None
    tlog: Optional[Path] = None
    meaningful_newlines: bool = False


def write_report(job: ReportJob, params: ReportParams = ReportParams()) -> Path:
    from ..text.script import read_script

    utts = load_aligned(job.aligned)
    original, _ = read_script(job.script, job.meaningful_newlines)
    for i, u in enumerate(utts):
        if not 0 <= u.text_start <= u.text_end <= len(original):
            raise UserError(f"{job.aligned}: entry {i}: text-start/text-end {u.text_start}..{u.text_end} lie outside "
                            f"{job.script} ({len(original)} characters); is it the text this file was aligned with?")
    fragments = None
    if job.tlog is not None:
        from ..tlog import load_tlog

        entries, _ = load_tlog(job.tlog)
        fragments = [(e.start, e.end) for e in entries]
    audio_seconds = None
    if job.audio is not None:
        if not job.audio.is_file():
            raise UserError(f"audio file not found: {job.audio}")
        import soundfile as sf

        try:
            audio_seconds = sf.info(str(job.audio)).duration
        except Exception:       # a format libsndfile cannot read: the browser may still play it
            audio_seconds = None
    filtered: set[int] = set()
    if params.filter:
        expr = compile_expr(params.filter, BASE_FIELDS + ("quality",), "--filter")
        doc_id = job.aligned.stem
        for i, u in enumerate(utts):
            try:
                if expr.evaluate(field_lookup(u, doc_id, i, 1.0)):
                    filtered.add(i)
            except MissingField as e:
                raise UserError(f"{job.aligned}: utterance {i} has no field {str(e)!r} used in --filter") from None
            except ExprEvalError as e:
                raise UserError(f"{job.aligned}: utterance {i}: {e}") from None
    if params.metric is not None and not any(params.metric in u.metrics for u in utts) and utts:
        raise UserError(f"{job.aligned}: no utterance has the metric {params.metric!r} (align with --output-{params.metric})")
    data = ReportData(title=(job.audio or job.aligned).name, original=original, utterances=utts, audio=job.audio,
                      audio_seconds=audio_seconds, fragments=fragments, filtered=filtered)
    atomic_write_text(job.out, render(data, job.out, params))
    return job.out
