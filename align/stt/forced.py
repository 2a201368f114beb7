"""Forced alignment of a known word sequence against speech, with pocketsphinx.

Input: mono int16 samples at 16 kHz, the words that were spoken (lower-case tokens of the clean
text), and pronunciations (cmudict, then the project's g2p for the words it lacks). Output: one
`WordTiming` per input word, in order, times in seconds from the first sample, with phone
timings on request.

pocketsphinx does the alignment in 10 ms frames (`set_align_text`: a left-to-right search
through the words' phone HMMs, with optional silence between words and alternate
pronunciations). A second pass (`set_alignment`) gives the phones; it is run only when phones
are wanted because it costs about as much again as the word pass.

Every word of the input comes back. When pocketsphinx cannot place the sequence (every path
falls off the beams, typically because a label word was not said) it retries once with very
wide beams; if that fails too, or the audio is shorter than the words' minimum durations, the
words are spread over the span in proportion to their phone counts and flagged
`aligned=False`. A word squeezed to about its minimum length with a very poor score is flagged
too (it keeps its slot). Silence-edge refinement: pocketsphinx tends to give a pause to the
word next to it (the optional silence between words is not always taken); a run of quiet
frames at a word's edge of at least `edge_quiet_ms` is handed back to the gap (`refine_edges`).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from ..common.errors import UserError

FRAME_S = 0.01           # pocketsphinx's frame rate: 100 frames per second
MIN_FRAMES_PER_PHONE = 3  # three emitting HMM states per phone, at least one frame each
_ALT = re.compile(r"\(\d+\)$")


@dataclass(frozen=True)
class ForcedParams:
    model_dir: str | None = None   # pocketsphinx model (None: the wheel's en-us model)
    phones: bool = False           # run the phone pass
    rate: int = 16000              # sample rate of the samples given to `align`
    beam: float | None = None      # pocketsphinx's search beams (None: its defaults, 1e-48)
    retry_beam: float | None = 1e-100  # beams of one retry when the search fails (None: no retry)
    downsample: int = 1            # acoustic scores every Nth frame only (pocketsphinx `ds`): faster, coarser
    # A word at most 1.5x its minimum length whose score (log-likelihood per frame) is this far
    # below the utterance's median word is flagged as not placed.
    unplaced_score: float = 3.0
    # Silence-edge refinement (0 turns it off): a quiet run at a word's edge at least this long
    # leaves the word.
    edge_quiet_ms: int = 60
    edge_quiet_db: float = 35.0    # quiet: below the loud level (95th percentile) minus this ...
    edge_floor_db: float = 6.0     # ... or below the noise floor (10th percentile) plus this


@dataclass(frozen=True)
class PhoneTiming:
    phone: str
    start: float
    end: float
    score: float                   # pocketsphinx's phone alignment score per frame (its own scaled log
                                   # units, higher is better; compare phones with phones only)

    def to_dict(self) -> dict[str, Any]:
        return {"phone": self.phone, "start": self.start, "end": self.end, "score": self.score}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "PhoneTiming":
        return cls(str(d["phone"]), float(d["start"]), float(d["end"]), float(d["score"]))


@dataclass(frozen=True)
class WordTiming:
    word: str
    start: float                   # seconds from the first sample of the aligned span
    end: float
    score: float | None            # acoustic log-likelihood per frame, None when not aligned
    aligned: bool = True           # False: not placed by the aligner, times interpolated
    phones: tuple[PhoneTiming, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"word": self.word, "start": self.start, "end": self.end,
                             "score": self.score, "aligned": self.aligned}
        if self.phones:
            d["phones"] = [p.to_dict() for p in self.phones]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "WordTiming":
        return cls(str(d["word"]), float(d["start"]), float(d["end"]),
                   None if d.get("score") is None else float(d["score"]), bool(d.get("aligned", True)),
                   tuple(PhoneTiming.from_dict(p) for p in d.get("phones", ())))

    def shifted(self, offset: float) -> "WordTiming":
        return WordTiming(self.word, round(self.start + offset, 3), round(self.end + offset, 3), self.score,
                          self.aligned, tuple(PhoneTiming(p.phone, round(p.start + offset, 3),
                                                          round(p.end + offset, 3), p.score)
                                              for p in self.phones))


def _is_filler(token: str) -> bool:
    return token.startswith(("<", "[", "+"))


def _round(t: float) -> float:
    return round(t, 3)


def interpolate(words: Sequence[str], weights: Sequence[int], duration: float) -> list[WordTiming]:
    """Words spread over [0, duration] in proportion to `weights` (phone counts), flagged."""
    total = float(sum(max(1, w) for w in weights)) or 1.0
    out, t = [], 0.0
    for word, w in zip(words, weights):
        d = duration * max(1, w) / total
        out.append(WordTiming(word, _round(t), _round(t + d), None, False))
        t += d
    return out


def frame_energy_db(samples: np.ndarray, rate: int) -> np.ndarray:
    """Energy of each 10 ms frame in dB (frames as pocketsphinx counts them)."""
    flen = int(round(rate * FRAME_S))
    n = len(samples) // flen
    if n == 0:
        return np.zeros(0)
    x = samples[: n * flen].astype(np.float64).reshape(n, flen)
    return 10.0 * np.log10((x * x).mean(axis=1) + 1.0)


def refine_edges(frames: list[list[int]], energy_db: np.ndarray, min_frames: int, quiet_db: float,
                 floor_db: float = 6.0) -> None:
    """Move word edges off runs of quiet frames, in place.

    frames: [start, end) frame pairs of consecutive words. A word whose first (last) frames are
    quiet for at least `min_frames` (below the higher of: the 95th-percentile frame energy minus
    `quiet_db`, the 10th percentile (the noise floor of a recording) plus `floor_db`)
    gives those frames back to the gap before (after) it, keeping at least one phone's minimum
    length. Why: pocketsphinx often folds a pause into the next word instead of taking the
    optional silence, which puts the boundary at the previous word's end.
    """
    if min_frames <= 0 or len(energy_db) == 0:
        return
    p10, p95 = np.percentile(energy_db, [10, 95])
    floor = max(float(p95) - quiet_db, float(p10) + floor_db)
    quiet = energy_db < floor
    n = len(quiet)
    for span in frames:
        s, e = span
        keep = MIN_FRAMES_PER_PHONE
        k = s
        while k < min(e, n) - keep and quiet[k]:
            k += 1
        if k - s >= min_frames:
            span[0] = k
        s = span[0]
        k = min(e, n)
        while k - 1 >= s + keep and quiet[k - 1]:
            k -= 1
        if min(e, n) - k >= min_frames:
            span[1] = k


class ForcedAligner:
    """A loaded pocketsphinx decoder in alignment mode. Build once, call `align` per utterance.

    `lexicon`: extra pronunciations (word -> phones) for words the model's dictionary lacks;
    words in neither are spelled by the project's g2p (espeak-ng) on first use.
    """

    def __init__(self, params: ForcedParams = ForcedParams(), lexicon: Mapping[str, str] | None = None):
        from .engine_pocketsphinx import check_rate, resolve_model

        self.params = params
        model = resolve_model(params.model_dir)
        check_rate(model, params.rate)
        self._model = model
        self._decoder = self._new_decoder(params.beam)
        self._wide = None              # wide-beam decoder, built on the first search failure
        self._added: dict[str, str] = {}
        self._extra = dict(lexicon or {})
        self._nphones: dict[str, int] = {}

    def _new_decoder(self, beam: float | None):
        from pocketsphinx import Decoder

        from .engine_pocketsphinx import DECODER_SETTINGS

        beams = {} if beam is None else {"beam": beam, "pbeam": beam, "wbeam": beam}
        if self.params.downsample > 1:
            beams["ds"] = self.params.downsample
        try:
            return Decoder(hmm=str(self._model.hmm), dict=str(self._model.dict), lm=None,
                           samprate=float(self.params.rate), logfn=os.devnull, **DECODER_SETTINGS, **beams)
        except (RuntimeError, ValueError) as e:
            raise UserError(f"pocketsphinx could not load the model {self._model.hmm} for forced alignment: {e}") from None

    def _add(self, word: str, phones: str) -> None:
        self._decoder.add_word(word, phones, update=False)
        self._added[word] = phones
        if self._wide is not None:
            self._wide.add_word(word, phones, update=False)

    # -- pronunciations -------------------------------------------------------------------
    def prepare(self, words: Sequence[str]) -> None:
        """Make sure every word has a pronunciation in the decoder (g2p for the missing ones)."""
        d = self._decoder
        missing = []
        for w in dict.fromkeys(words):
            if w in self._nphones:
                continue
            phones = d.lookup_word(w)
            if phones is None and w in self._extra:
                self._add(w, self._extra[w])
                phones = self._extra[w]
            if phones is None:
                missing.append(w)
            else:
                self._nphones[w] = len(phones.split())
        if missing:
            from ..lm.g2p import pronounce

            from ..lm.lexicon import model_phones

            allowed = model_phones(self._model.hmm)
            for w, phones in pronounce(missing).items():
                ph = " ".join(p for p in phones.split() if p in allowed) or "AH"
                self._add(w, ph)
                self._nphones[w] = len(ph.split())

    def phone_count(self, word: str) -> int:
        return self._nphones.get(word, 1)

    # -- alignment ------------------------------------------------------------------------
    def _decode(self, d, data: bytes) -> None:
        d.reinit_feat()
        d.start_utt()
        d.process_raw(data, no_search=False, full_utt=True)
        d.end_utt()

    def align(self, samples: np.ndarray, words: Sequence[str]) -> list[WordTiming]:
        """One WordTiming per word of `words`, in order; times in seconds from samples[0]."""
        words = [w for w in words if w]
        if not words:
            return []
        duration = len(samples) / self.params.rate
        self.prepare(words)
        weights = [self.phone_count(w) for w in words]
        nframes = len(samples) // int(round(self.params.rate * FRAME_S))
        if nframes < MIN_FRAMES_PER_PHONE * sum(weights):
            return interpolate(words, weights, duration)
        data = np.ascontiguousarray(samples, dtype="<i2").tobytes()
        segs = self._word_pass(self._decoder, data, words)
        if segs is None and self.params.retry_beam is not None:
            # Every path fell off the default beams (a word that is not in the audio does
            # this): retry once with very wide beams before giving up on the utterance.
            if self._wide is None:
                self._wide = self._new_decoder(self.params.retry_beam)
                for w, ph in self._added.items():
                    self._wide.add_word(w, ph, update=False)
            segs = self._word_pass(self._wide, data, words)
            d = self._wide
        else:
            d = self._decoder
        if segs is None:
            return interpolate(words, weights, duration)
        frames = [[s.start_frame, s.end_frame + 1] for s in segs]
        scores = []
        for s, (a, b) in zip(segs, frames):
            ll = math.log(s.ascore) if s.ascore > 0 else float("-inf")
            scores.append(round(ll / max(1, b - a), 3) if math.isfinite(ll) else None)
        phones: list[tuple[PhoneTiming, ...]] = [()] * len(words)
        if self.params.phones:
            phones = self._phones(d, data, words)
            # The phone pass is a second search: take its word edges so words and phones agree.
            for k, ph in enumerate(phones):
                if ph:
                    frames[k] = [int(round(ph[0].start / FRAME_S)), int(round(ph[-1].end / FRAME_S))]
        if self.params.edge_quiet_ms > 0:
            energy = frame_energy_db(samples, self.params.rate)
            refine_edges(frames, energy, int(round(self.params.edge_quiet_ms / 10)), self.params.edge_quiet_db,
                         self.params.edge_floor_db)
        placed = self._placed(words, frames, scores)
        out = []
        for k, (w, (a, b)) in enumerate(zip(words, frames)):
            ph = phones[k]
            if ph:
                # Keep phones inside the (possibly refined) word span.
                ph = tuple(PhoneTiming(p.phone, max(p.start, a * FRAME_S), min(p.end, b * FRAME_S), p.score)
                           for p in ph if p.end > a * FRAME_S and p.start < b * FRAME_S)
                ph = tuple(PhoneTiming(p.phone, _round(p.start), _round(p.end), p.score) for p in ph)
            out.append(WordTiming(w, _round(a * FRAME_S), _round(min(b * FRAME_S, duration)), scores[k],
                                  placed[k], ph))
        return out

    def _placed(self, words: Sequence[str], frames: Sequence[Sequence[int]], scores: Sequence[float | None]) -> list[bool]:
        """False for a word the alignment squeezed in without evidence: at most 1.5 times its
        minimum length and scoring far below the utterance's median word (a word of the label
        that was not said, typically). It keeps the slot the alignment gave it."""
        known = [s for s in scores if s is not None]
        if len(known) < 3:
            return [s is not None for s in scores]
        med = float(np.median(known))
        out = []
        for w, (a, b), s in zip(words, frames, scores):
            short = (b - a) <= 1.5 * MIN_FRAMES_PER_PHONE * self.phone_count(w)
            out.append(s is not None and not (short and s < med - self.params.unplaced_score))
        return out

    def _word_pass(self, d, data: bytes, words: Sequence[str]):
        """Word segments of the alignment (fillers left out), or None when it failed."""
        try:
            d.set_align_text(" ".join(words))
            self._decode(d, data)
        except RuntimeError:
            return None
        # No hypothesis (every path fell off the beam): seg() is None.
        segs = [s for s in (d.seg() or ()) if not _is_filler(s.word)]
        return segs if [_ALT.sub("", s.word) for s in segs] == list(words) else None

    def _phones(self, d, data: bytes, words: Sequence[str]) -> list[tuple[PhoneTiming, ...]]:
        try:
            d.set_alignment()
            self._decode(d, data)
            al = d.get_alignment()
        except RuntimeError:
            return [()] * len(words)
        if al is None:
            return [()] * len(words)
        per_word = []
        for w in al:
            if _is_filler(w.name):
                continue
            per_word.append(tuple(
                PhoneTiming(p.name, p.start * FRAME_S, (p.start + p.duration) * FRAME_S,
                            round(p.score / max(1, p.duration), 2))
                for p in w))
        if len(per_word) != len(words):
            return [()] * len(words)
        return per_word
