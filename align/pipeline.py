"""Align one document: the library function behind `align` (single mode, catalogs, demo, benchmarks).

    from align.config import AlignConfig
    from align.pipeline import DocumentJob, align_document

    job = DocumentJob(script=Path("book.txt"), aligned=Path("book.aligned"), audio=Path("book.mp3"))
    result = align_document(job, AlignConfig())

Steps: read and normalise the text; transcripts from the `.tlog` (or speech-to-text of the audio,
through the `.tlog` cache); rough + gap alignment, metrics and filters (`align.text.engine`);
utterance ids; post-processing stages (`POSTPROCESSORS`, then the caller's `hooks`); the
registered writers of `config.formats`.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from .common.errors import UserError
from .common.progress import DeferredProgress
from .config import AlignConfig
from .records import Utterance, utterance_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DocumentJob:
    """One document: its inputs and where its result goes. `tlog` defaults to the audio path with
    suffix `.tlog`; `doc_id` (the prefix of the utterance ids) defaults to the stem of the audio file
    (or of the transcript log without audio), so the ids name the recording, whatever the output is called."""

    script: Path
    aligned: Path
    audio: Optional[Path] = None
    tlog: Optional[Path] = None
    doc_id: Optional[str] = None

    def __post_init__(self) -> None:
        if self.audio is None and self.tlog is None:
            raise UserError(f"document {self.aligned}: give an audio file or a transcript log")

    @property
    def id(self) -> str:
        return self.doc_id or Path(self.audio if self.audio is not None else self.tlog).stem

    @property
    def name(self) -> str:
        return str(self.audio or self.tlog)

    def tlog_path(self) -> Path:
        return Path(self.tlog) if self.tlog is not None else Path(self.audio).with_suffix(".tlog")

    def output_path(self, writer) -> Path:
        """Where format `writer` goes: the `.aligned` path itself, or that path with the writer's suffix."""
        if writer.name == "aligned":
            return Path(self.aligned)
        return Path(self.aligned).with_suffix(writer.suffix)

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if v is not None else None) for k, v in
                (("audio", self.audio), ("tlog", self.tlog), ("script", self.script), ("aligned", self.aligned),
                 ("id", self.id))}


# Under this share of the speech (seconds of fragments with a transcript) aligned, the text
# probably is not this audio's: the run warns, writes what it found and exits EXIT_TEXT_MISMATCH.
TEXT_MISMATCH_SHARE = 0.1
EXIT_TEXT_MISMATCH = 3


@dataclass(frozen=True)
class DroppedFragment:
    fragment: int            # index in the transcript log (after --start)
    start: float             # ms
    end: float
    transcript: str
    reason: str              # e.g. "no match", "isolated match", "cer above 0.2"

    def to_dict(self) -> dict[str, Any]:
        return {"fragment": self.fragment, "start": self.start, "end": self.end, "transcript": self.transcript,
                "reason": self.reason}


def _hms(seconds: float) -> str:
    return f"{seconds / 3600.0:.3f} h ({seconds:.1f} s)"


@dataclass
class AlignResult:
    job: DocumentJob
    utterances: list[Utterance]
    dropped: list[DroppedFragment]
    fragments: int                         # transcript fragments considered
    audio_seconds: float                   # audio duration (tlog only: end of the last fragment)
    timings: dict[str, float]              # seconds: stt, index, rough, gap, metrics, postprocess, write
    config_hash: str = ""
    outputs: dict[str, Path] = field(default_factory=dict)   # format -> path written
    speech_seconds: float = 0.0            # duration of the fragments with a transcript
    aligned_seconds: float = 0.0           # ... of those the aligner placed (kept, or dropped by a filter)
    text_stats: dict[str, int] = field(default_factory=dict)  # furniture left out, tokens said/unsaid
    second_pass: str = ""                  # the second pass's summary line (audio only)
    notes: list[str] = field(default_factory=list)           # more summary lines from stages and writers

    @property
    def text_mismatch(self) -> bool:
        """Under TEXT_MISMATCH_SHARE of the speech aligned: the text probably is not this audio's."""
        return self.speech_seconds > 0 and self.aligned_seconds < TEXT_MISMATCH_SHARE * self.speech_seconds

    @property
    def kept_seconds(self) -> float:
        return sum(u.duration_s for u in self.utterances)

    def dropped_by_reason(self) -> Counter:
        return Counter(d.reason for d in self.dropped)

    def summary_lines(self) -> list[str]:
        n = max(self.fragments, 1)
        utts, dropped = len(self.utterances), len(self.dropped)
        used = self.fragments - dropped          # every fragment is in one utterance or dropped
        lines = [f"fragments in: {self.fragments} = {used} in utterances ({100.0 * used / n:.2f}%) + {dropped} dropped "
                 f"({100.0 * dropped / n:.2f}%); utterances out: {utts} ({used - utts} fragments merged into "
                 f"their sentence's utterance)",
                 f"audio kept: {_hms(self.kept_seconds)} of {_hms(self.audio_seconds)} "
                 f"({100.0 * self.kept_seconds / max(self.audio_seconds, 1e-9):.1f}%)"]
        if self.second_pass:
            lines.append(self.second_pass)
        for reason, c in sorted(self.dropped_by_reason().items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  dropped, {reason}: {c} ({100.0 * c / n:.2f}%)")
        t = self.text_stats
        if t:
            lines.append(f"text: {t.get('furniture', 0)} page-furniture ranges left out, {t.get('said', 0)} numbers/"
                         f"symbols said in words, {t.get('unsaid', 0)} tokens that could not be said (kept as written)")
        if self.speech_seconds == 0:
            # a truncated or silent recording, or an empty transcript log: an empty output that
            # says nothing would look like a successful run
            lines.append(f"no speech found: {self.audio_seconds:.2f} s of audio gave no fragment with a transcript; "
                         f"check that the recording is complete and holds speech")
        if self.text_mismatch:
            lines.append(f"text probably wrong: only {100.0 * self.aligned_seconds / self.speech_seconds:.1f}% of the speech aligned: "
                         f"the text probably does not belong to this audio (exit status {EXIT_TEXT_MISMATCH})")
        return lines + self.notes

    def counts(self) -> dict[str, Any]:
        return {"fragments": self.fragments, "utterances": len(self.utterances),
                "dropped": dict(sorted(self.dropped_by_reason().items())),
                "audio_seconds": self.audio_seconds, "kept_seconds": self.kept_seconds}


@dataclass
class DocumentContext:
    """What post-processing stages and writers see of one aligned document."""

    job: DocumentJob
    config: AlignConfig
    original: str                          # the original text (utterance text offsets index it)
    clean: Any                             # align.text.normalise.CleanText
    entries: list                          # the transcript entries aligned (align.tlog.TranscriptEntry)
    result: AlignResult
    audio: Any = None                      # align.audio.document.DocumentAudio (None without audio)

    @property
    def utterances(self) -> list[Utterance]:
        return self.result.utterances


# Post-processing stages run on every document, in order, after alignment and before the writers.
# Each is `fn(ctx: DocumentContext) -> None`, a module-level function (pickled to worker processes)
# that does nothing unless its own AlignConfig field turns it on; it may change `ctx.utterances`
# (e.g. put word timings in `Utterance.extra`). Add a stage here by name: "module:function".
POSTPROCESSORS: tuple[str, ...] = ("align.bounds:trim_edges", "align.words:add_word_timings")

Hook = Callable[[DocumentContext], None]


def _resolve(spec: str) -> Hook:
    import importlib

    mod, _, fn = spec.partition(":")
    return getattr(importlib.import_module(mod), fn)


def read_transcripts(job: DocumentJob, config: AlignConfig, clean_text: str, show_progress: bool, audio=None):
    """(entries, audio seconds): the `.tlog` as is, or speech-to-text of the audio via the `.tlog` cache.
    `audio`: the document's DocumentAudio, shared with the later stages."""
    from .tlog import load_tlog

    if job.audio is not None:
        from .transcribe import transcribe_audio

        lm_dir = Path(config.run.lm_cache_dir) if config.run.lm_cache_dir else None
        entries = transcribe_audio(Path(job.audio), job.tlog_path(), clean_text, config.vad, config.stt,
                                   lm_cache_dir=lm_dir, pretty=config.pretty, show_progress=show_progress,
                                   audio=audio)
        return entries, _audio_seconds(Path(job.audio), entries)
    tlog = Path(job.tlog)
    if not tlog.exists():
        raise UserError(f"transcript log not found: {tlog} (give --audio to create it)")
    entries, _ = load_tlog(tlog)
    return entries, max((e.end for e in entries), default=0.0) / 1000.0


def _audio_seconds(path: Path, entries) -> float:
    import soundfile as sf

    try:
        return float(sf.info(str(path)).duration)
    except Exception:  # formats only ffmpeg reads: the end of the last fragment is the best estimate
        return max((e.end for e in entries), default=0.0) / 1000.0


def align_document(job: DocumentJob, config: AlignConfig, *, alphabet=None, write: bool = True,
                   hooks: Sequence[Hook] = (), show_progress: Optional[bool] = None) -> AlignResult:
    """Align one document and (with `write`) write `config.formats` atomically.

    Bad inputs raise `UserError` naming the file; nothing is written then. `alphabet` may be
    passed in to load it once for many documents. While writing, the output holds an advisory
    lock: a second run writing the same output at the same time is refused (UserError).
    """
    if not write:
        return _align_document(job, config, alphabet, write, hooks, show_progress)
    from .common.locks import output_lock

    with output_lock(job.aligned, f"{job.aligned}"):
        return _align_document(job, config, alphabet, write, hooks, show_progress)


def _align_document(job: DocumentJob, config: AlignConfig, alphabet, write: bool, hooks: Sequence[Hook],
                    show_progress: Optional[bool]) -> AlignResult:
    from .text.engine import UNPLACED_REASONS, align_transcripts
    from .text.normalise import normalise
    from .text.script import read_script

    show = config.run.show_progress if show_progress is None else show_progress
    if alphabet is None:
        alphabet = config.load_alphabet()
    original, phrases = read_script(job.script, config.meaningful_newlines, config.run.text_max_bytes or None)
    if not original.strip():
        raise UserError(f"{job.script}: the text file is empty")
    if config.meaningful_newlines is None and len(phrases) > 1 and Path(job.script).suffix != ".script":
        log.info("%s: the text reads line by line (verse, or one prompt per line): each of its %d lines is a "
                 "phrase (--text-lines wrapped reads it as prose)", job.script, len(phrases))
    t0 = time.perf_counter()
    ct = normalise(original, phrases, alphabet, config.align.text)
    t_norm = time.perf_counter() - t0
    if ct.unsaid:
        s0, e0 = ct.unsaid[0]
        log.warning("%s: %d tokens with digits could not be said in words (kept as written), e.g. %r",
                    job.script, len(ct.unsaid), original[s0:e0])
    if not ct.clean.strip():
        raise UserError(f"{job.script}: the text has no character of the alphabet "
                        f"({config.alphabet or 'English'}); is it the right file and language?")

    audio = None
    if job.audio is not None:
        from .audio.document import DocumentAudio

        audio = DocumentAudio(job.audio)   # decoded and front-ended once for every stage below
    t0 = time.perf_counter()
    entries, audio_s = read_transcripts(job, config, ct.clean, show, audio)
    t_stt = time.perf_counter() - t0

    end = None if not config.num_samples else config.start + config.num_samples
    entries = entries[config.start:end]
    align_params = config.align_params_for(job.audio is not None)

    sp_stats = None
    if job.audio is not None and config.second_pass.enabled and entries:
        entries, sp_stats = run_second_pass(job, config, ct, alphabet, entries, show, audio)

    # Searches outnumber fragments (retries in sub-intervals, neighbour confirmations): a count, no total.
    # (a bar only after a second: a text-only run is usually done before, without importing tqdm)
    with DeferredProgress(enabled=show, desc="align", unit="search") as bar:
        ar = align_transcripts(entries, ct, alphabet, align_params, on_search=lambda: bar.update(1))
    for k, u in enumerate(ar.utterances):
        u.id = utterance_id(job.id, k)
    dropped = [DroppedFragment(i, entries[i].start, entries[i].end, entries[i].transcript, reason)
               for i, reason in ar.dropped_fragments]
    result = AlignResult(job, ar.utterances, dropped, ar.fragments, audio_s,
                         {"normalise": t_norm, "stt": t_stt, **ar.timings}, config.config_hash())
    if sp_stats is not None:
        result.timings["second_pass"] = sp_stats.seconds
        result.second_pass = sp_stats.line()
    result.speech_seconds = sum(e.end - e.start for e in entries if e.transcript.strip()) / 1000.0
    unplaced = {i for i, reason in ar.dropped_fragments if reason in UNPLACED_REASONS}
    result.aligned_seconds = sum(e.end - e.start for i, e in enumerate(entries)
                                 if e.transcript.strip() and i not in unplaced) / 1000.0
    result.text_stats = {"furniture": sum(1 for r in ct.removed if r.kind not in ("hyphen", "soft-hyphen")),
                         "said": ct.said, "unsaid": len(ct.unsaid)}

    ctx = DocumentContext(job, config, original, ct, list(entries), result, audio)
    t0 = time.perf_counter()
    for stage in (*map(_resolve, POSTPROCESSORS), *hooks):
        stage(ctx)
    result.timings["postprocess"] = time.perf_counter() - t0

    if write:
        t0 = time.perf_counter()
        write_outputs(ctx)
        result.timings["write"] = time.perf_counter() - t0

    for line in result.summary_lines():
        (log.warning if line.startswith(("text probably wrong", "no speech found")) else log.info)("%s", line)
    t = result.timings
    log.info("wrote %d utterances to %s (text %.2f s, speech-to-text %.2f s, alignment %.2f s: index %.2f s, "
             "rough %.2f s, gap %.2f s, edges and metrics %.2f s; post-processing %.2f s, writing %.2f s)",
             len(result.utterances), job.aligned, t_norm, t_stt, sum(ar.timings.values()), t["index"], t["rough"],
             t["gap"], t["metrics"], t["postprocess"], t.get("write", 0.0))
    return result


def run_second_pass(job: DocumentJob, config: AlignConfig, ct, alphabet, entries, show: bool, audio=None):
    """Constrained re-decoding of the fragments the first alignment left out (align.secondpass).
    `audio`: the document's DocumentAudio (made here when not given)."""
    import dataclasses

    from .audio.document import DocumentAudio
    from .secondpass import second_pass
    from .stt.base import SttParams
    from .stt.registry import make_engine_spec
    from .text.engine import MergeParams, align_transcripts

    # pocketsphinx with the document dictionary, whatever engine made the first pass
    if config.stt.engine == "pocketsphinx":
        params = config.stt
    else:
        params = SttParams(model_rate=config.stt.model_rate)
    lm_dir = Path(config.run.lm_cache_dir) if config.run.lm_cache_dir else None
    spec = make_engine_spec(params, ct.clean, lm_dir)
    if not spec.lm_dict:
        return entries, None   # no document dictionary (--stt-no-own-lm): nothing to constrain to
    # the same front end as the first pass (noise suppression when the recording needs it)
    samples, _, _ = (audio or DocumentAudio(job.audio)).prepared(spec.model_rate, config.vad.denoise,
                                                                 config.vad.denoise_below_db)
    # Per-fragment placements, without the text stage's guess of who gets the words between two
    # neighbours (claim_gaps) or which left-out fragment says them (fill): those gaps are what the
    # second pass decides from the audio.
    fragment_params = dataclasses.replace(config.align, merge=MergeParams(enabled=False),
                                          edges=dataclasses.replace(config.align.edges, claim_gaps=False, fill=False))

    final_params = dataclasses.replace(config.align, merge=MergeParams(enabled=False))

    def placed(es, params=fragment_params):
        ar = align_transcripts(es, ct, alphabet, params)
        return {u.fragment: (u.clean_start, u.clean_end) for u in ar.utterances}

    entries, stats = second_pass(entries, placed, ct.clean, samples, spec.model_rate, spec, config.second_pass,
                                 workers=config.stt.workers, show_progress=show, sentence_ends=sentence_ends(ct),
                                 final_align_fn=lambda es: placed(es, final_params), phrase_spans=phrase_spans(ct))
    return entries, stats


def phrase_spans(ct) -> frozenset:
    """The clean (start, end) of each phrase, without edge spaces, when the text has several
    (lines of a prompt list or poem, .script entries); empty for one running text."""
    import numpy as np

    if len(ct.phrases) < 2:
        return frozenset()
    of = np.asarray(ct.phrase_of)
    keep = np.flatnonzero(of >= 0)
    if not len(keep):
        return frozenset()
    ids = of[keep]
    cut = np.flatnonzero(np.diff(ids)) + 1     # phrases are contiguous in the clean text
    out = set()
    for seg in np.split(keep, cut):
        lo, hi = int(seg[0]), int(seg[-1]) + 1
        while lo < hi and ct.clean[lo] == " ":
            lo += 1
        while hi > lo and ct.clean[hi - 1] == " ":
            hi -= 1
        if hi > lo:
            out.add((lo, hi))
    return frozenset(out)


def sentence_ends(ct) -> frozenset:
    """Where the second pass cuts a fragment that runs on: word ends before a sentence end, and
    before a phrase end (a verse line, a prompt, a `.script` entry), which a reader may run into
    the next without the pause the VAD needs."""
    import numpy as np

    from .text.engine import sentence_ends as ends

    out = set(ends(ct))
    if len(ct.phrases) > 1:
        # the one separator between two phrases sits at the word end of the first
        out.update(int(j) for j in np.flatnonzero(ct.phrase_of == -1) if j > 0 and ct.clean[j - 1] != " ")
    return frozenset(out)


def write_outputs(ctx: DocumentContext) -> dict[str, Path]:
    """Run the writers of `ctx.config.formats`; each writes its file atomically."""
    from .writers import get_writer

    for name in ctx.config.formats:
        w = get_writer(name)
        path = ctx.job.output_path(w)
        # A writer may put its file elsewhere (e.g. --textgrid-dir) and return that path.
        ctx.result.outputs[name] = w.write(path, ctx) or path
    return ctx.result.outputs
