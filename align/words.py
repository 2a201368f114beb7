"""Word (and phone) timings inside aligned utterances, and utterance edges refined from them.

For each utterance, the words of its clean label (the spoken form: numbers already verbalised)
are force-aligned (align/stt/forced.py) against the utterance's audio span. Each word record
carries its original-text range: the clean text keeps, for every clean character, the offset
of the original character it came from, so a word maps to [first char's offset, last char's
offset + 1). A verbalised number ("2" -> "two", "21" -> "twenty one") maps every word it became
to the number's characters.

Word record (times in ms of the audio, like the utterance's start/end):
    {word, start, end, score, aligned, text-start, text-end[, phones: [{phone, start, end, score}]]}
`aligned: false` marks a word the aligner could not place; its times are interpolated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .stt.forced import ForcedAligner, WordTiming


@dataclass(frozen=True)
class WordParams:
    words: bool = False            # --output-words
    phones: bool = False           # --output-phones (implies words)
    refine_bounds: bool = False    # --words-refine-bounds: utterance edges from its words
    end_pad_ms: float = 50.0       # --words-end-pad-ms: added after the last word's end
    start_pad_ms: float = 0.0      # --words-start-pad-ms: kept before the first word's start
    downsample: int = 1            # --words-downsample: acoustic scores every Nth frame (2: ~40% less CPU)


def label_words(clean: str, start: int, end: int) -> list[tuple[str, int, int]]:
    """(word, clean_start, clean_end) of each space-separated token of clean[start:end]."""
    out = []
    k = start
    while k < end:
        while k < end and clean[k] == " ":
            k += 1
        s = k
        while k < end and clean[k] != " ":
            k += 1
        if k > s:
            out.append((clean[s:k], s, k))
    return out


def original_range(positions: np.ndarray, cs: int, ce: int, ends: np.ndarray | None = None) -> tuple[int, int]:
    """Original [start, end) of clean[cs:ce]. `positions[k]`/`ends[k]`: the original range that
    produced clean[k] (a verbalised "21:30" gives every character of "twenty one thirty" the
    range of "21:30"); without `ends`, each character came from one original character."""
    start = int(positions[cs:ce].min())
    end = int(ends[cs:ce].max()) if ends is not None else int(positions[cs:ce].max()) + 1
    return start, end


def word_records(timings: Sequence[WordTiming], spans: Sequence[tuple[int, int]], offset_ms: float,
                 phones: bool) -> list[dict[str, Any]]:
    """JSON word records: times shifted by `offset_ms` and in ms (rounded to 0.1 ms)."""
    out = []
    for t, (os_, oe) in zip(timings, spans):
        rec: dict[str, Any] = {
            "word": t.word,
            "start": round(offset_ms + t.start * 1000.0, 1),
            "end": round(offset_ms + t.end * 1000.0, 1),
            "score": t.score,
            "aligned": t.aligned,
            "text-start": os_,
            "text-end": oe,
        }
        if phones:
            rec["phones"] = [{"phone": p.phone, "start": round(offset_ms + p.start * 1000.0, 1),
                              "end": round(offset_ms + p.end * 1000.0, 1), "score": p.score}
                             for p in t.phones]
        out.append(rec)
    return out


RETRY_MARGIN_MS = 200.0


def utterance_words(aligner: ForcedAligner, samples: np.ndarray, rate: int, start_ms: float, end_ms: float,
                    clean: str, positions: np.ndarray, clean_start: int, clean_end: int,
                    phones: bool = False, ends: np.ndarray | None = None) -> list[dict[str, Any]]:
    """Word records of one utterance: its label clean[clean_start:clean_end] aligned against
    samples[start_ms:end_ms] of the document's audio (mono int16 at `rate`)."""
    toks = label_words(clean, clean_start, clean_end)
    if not toks:
        return []
    a = max(0, int(round(start_ms * rate / 1000.0)))
    b = min(len(samples), int(round(end_ms * rate / 1000.0)))
    said = [w.lower() for w, _, _ in toks]
    timings = aligner.align(samples[a:b], said)

    def failed(ts) -> bool:
        # times interpolated (the word pass failed), or phones wanted and the phone pass failed
        return all(t.score is None for t in ts) or (phones and not any(t.phones for t in ts))

    if failed(timings):
        # pocketsphinx's alignment needs a few frames before the first phone: an utterance trimmed
        # to within ~100 ms of its first word fails (the phone pass first). Once more with
        # RETRY_MARGIN_MS of the audio around it; the times are kept inside the utterance below.
        m = int(RETRY_MARGIN_MS * rate / 1000.0)
        a2, b2 = max(0, a - m), min(len(samples), b + m)
        if (a2, b2) != (a, b):
            again = aligner.align(samples[a2:b2], said)
            if not failed(again):
                timings, a = again, a2
    spans = [original_range(positions, s, e, ends) for _, s, e in toks]
    records = word_records(timings, spans, a * 1000.0 / rate, phones)
    # Sample rounding of the span must not put a word a hair outside its utterance.
    for r in records:
        for item in (r, *r.get("phones", ())):
            item["start"] = min(max(item["start"], start_ms), end_ms)
            item["end"] = min(max(item["end"], start_ms), end_ms)
    return records


def refined_bounds(words: Sequence[dict[str, Any]], start_ms: float, end_ms: float,
                   params: WordParams) -> tuple[float, float]:
    """Utterance (start, end) moved to its first word's onset and last word's offset (+ pads),
    never outside the original span; unchanged when no word was placed by the aligner."""
    if not any(w.get("aligned") for w in words):
        return start_ms, end_ms
    s = max(start_ms, words[0]["start"] - params.start_pad_ms)
    e = min(end_ms, words[-1]["end"] + params.end_pad_ms)
    return (round(s, 1), round(e, 1)) if e > s else (start_ms, end_ms)


def add_word_timings(ctx) -> None:
    """Post-processing stage (align.pipeline.POSTPROCESSORS): `words` in every utterance's record
    (with `phones` on request), and with `refine_bounds` the utterance edges moved to its words."""
    from .audio.document import DocumentAudio
    from .common.errors import UserError
    from .common.progress import progress
    from .stt.forced import ForcedParams

    p: WordParams = ctx.config.words
    if not (p.words or p.phones) or not ctx.utterances:
        return
    if ctx.job.audio is None:
        raise UserError(f"{ctx.job.name}: word timings need the audio; give --audio (or an \"audio\" in the catalog)")
    stt = ctx.config.stt
    # The speech-to-text's own pocketsphinx model when it has one (at its rate), else the packaged one.
    own = stt.engine == "pocketsphinx" and stt.model_dir is not None
    model_dir = stt.model_dir if own else None
    rate = stt.model_rate if own else 16000
    samples = (ctx.audio or DocumentAudio(ctx.job.audio)).samples(rate)
    aligner = ForcedAligner(ForcedParams(model_dir=model_dir, phones=p.phones, rate=rate, downsample=p.downsample))
    ct = ctx.clean
    for u in progress(ctx.utterances, enabled=ctx.config.run.show_progress, desc="words", unit="utt"):
        cs, ce = u.clean_start, u.clean_end
        if cs is None or ce is None:
            raise UserError(f"{ctx.job.name}: utterance {u.id} has no clean-text span (word timings need a fresh alignment)")
        words = utterance_words(aligner, samples, rate, u.start, u.end, ct.clean, ct.positions, cs, ce,
                                phones=p.phones, ends=getattr(ct, "ends", None))
        if p.refine_bounds:
            u.start, u.end = refined_bounds(words, u.start, u.end, p)
        u.extra["words"] = words


def check_words(words: Sequence[dict[str, Any]], start_ms: float, end_ms: float) -> bool:
    """True when the word times are monotone and inside [start_ms, end_ms]."""
    t = start_ms
    for w in words:
        if not (t <= w["start"] <= w["end"] <= end_ms):
            return False
        t = w["end"]
    return True
