"""Constrained re-decoding of a fragment against a known stretch of text, with proof.

For a fragment the first pass could not place (or placed with words missing at an edge), the
text it may hold is known: the words between its aligned neighbours. `ConstrainedDecoder` decodes
the fragment with pocketsphinx and a finite-state grammar that allows exactly one contiguous run
of those words, with a garbage loop (spoken-noise and noise models) before and after it for audio
the run does not explain.

A grammar always produces some of its words, so its output proves nothing by itself. Each
decoded word is therefore scored against an unconstrained phone decode (pocketsphinx's allphone
search) of the same audio: the word's acoustic log-likelihood per frame minus the phone decode's
over the same frames. Real words of the window score close to the phone decode (they explain
the audio as well as free phones do); words forced onto audio that says something else score far
below it. Edge words under `min_edge_score` are trimmed and the remaining run is kept only when its
frame-weighted mean is at least `min_mean_score` and it has `min_words` words: unspoken text
(headers, prefaces) is never produced unless the audio shows it.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

log = logging.getLogger(__name__)

FRAME_MS = 10.0
_LOG_BASE = math.log(1.0001)       # pocketsphinx scores are integers in log base 1.0001
_ALT = re.compile(r"\(\d+\)$")
GARBAGE = ("+SPN+", "+NSN+")        # the model's spoken-noise and noise units, as garbage words


@dataclass(frozen=True)
class ConstrainedParams:
    """Second-pass decoding (--second-pass-*). Scores are nats per 10 ms frame relative to the
    phone decode (0 = as good as free phones, negative = worse)."""

    min_mean_score: float = -1.6     # a run's frame-weighted mean score must reach this (--second-pass-min-score)
    min_edge_score: float = -2.2     # edge words below this are trimmed off the run
    min_words: int = 3               # shortest run kept
    garbage_prob: float = 0.5        # grammar probability of one more garbage unit at an edge
    max_window_words: int = 400      # longer windows are cut to the words nearest the fragment
    phone_bound: float = 0.05        # |phone decode score| per frame taken to be at most this (measured: < 0.011)


@dataclass(frozen=True)
class Acceptance:
    """What a caller will accept of a decode (see ConstrainedDecoder.decode): the run `prove`
    keeps with `params`' thresholds, or a run of exactly window positions a..b (one of `runs`)
    with a frame-weighted mean of at least `run_min`. `min_words`: the caller's shortest run (for
    the record: `prove`'s walk and mean decide the run whatever it is)."""

    params: ConstrainedParams
    min_words: int = 3
    runs: tuple = ()
    run_min: float = float("-inf")


@dataclass(frozen=True)
class WordHit:
    index: int          # position in the window
    word: str
    start_ms: float     # relative to the fragment start
    end_ms: float
    score: float        # nats per frame relative to the phone decode


def _ln(p: float) -> float:
    """pocketsphinx's Python API reports scores exponentiated; back to natural-log units."""
    return math.log(p) if p > 0 else -1e30


class ConstrainedDecoder:
    """One pocketsphinx decoder with the document's dictionary, reused for many fragments."""

    def __init__(self, spec, params: ConstrainedParams = ConstrainedParams()):
        from pocketsphinx import Decoder, get_model_path

        from .engine_pocketsphinx import DECODER_SETTINGS, resolve_model

        self.params = params
        model = resolve_model(spec.model_dir)
        self._d = Decoder(hmm=str(model.hmm), dict=spec.lm_dict or str(model.dict), lm=None,
                          samprate=float(spec.model_rate), logfn=os.devnull, **DECODER_SETTINGS)
        phone_lm = model.hmm.parent / "en-us-phone.lm.bin"
        if not phone_lm.is_file():
            phone_lm = None if spec.model_dir is not None else get_model_path("en-us/en-us-phone.lm.bin")
        self._d.add_allphone_file("_phones", None if phone_lm is None else str(phone_lm))
        self._garbage = []
        for k, unit in enumerate(GARBAGE):
            name = f"__garbage{k}"
            try:
                self._d.add_word(name, unit, True)
                self._garbage.append(name)
            except RuntimeError:   # a model without this unit
                pass
        self._n = 0
        self._phones: dict = {}     # sha1 of audio -> its phone decode (the 64 most recent)
        self.last: list[WordHit] = []

    def _run(self, search: str, samples: np.ndarray, open_end: bool = False):
        d = self._d
        d.activate_search(search)
        d.reinit_feat()
        d.start_utt()
        d.process_raw(np.ascontiguousarray(samples, dtype="<i2").tobytes(), no_search=False, full_utt=True)
        segs = None
        if open_end and d.hyp() is not None:
            # audio cut off mid-speech: the best path to the last word that ended (before end_utt,
            # which wants the grammar's final state: unreachable when the cut splits a word)
            segs = [s for s in d.seg() if s.word != "(NULL)"]
        d.end_utt()
        if not open_end:
            segs = d.seg() if d.hyp() is not None else None   # no hypothesis: the grammar never reached its end
        return [(s.word, s.start_frame, s.end_frame, _ln(s.ascore)) for s in (segs or [])], d.n_frames()

    def _grammar(self, words: Sequence[str]) -> str | None:
        """Start -> garbage* -> one contiguous run of `words` -> garbage* -> end."""
        d, p = self._d, self.params
        known = [d.lookup_word(w) is not None for w in words]
        if not any(known):
            return None
        n = len(words)
        g1, g2, final = n + 1, n + 2, n + 3
        chain = n + 4       # chain state of position i is chain + i
        trans = [(0, g1, 1.0)]
        for g in self._garbage:
            trans += [(g1, g1, p.garbage_prob, g), (g2, g2, p.garbage_prob, g)]
        enter = 1.0 / max(1, sum(known))
        for i, w in enumerate(words):
            if known[i]:
                trans += [(chain + i, chain + i + 1, 1.0, w), (g1, chain + i, enter), (chain + i + 1, g2, enter)]
        trans.append((g2, final, 1.0))
        self._n += 1
        name = f"_window{self._n}"
        d.add_fsg(name, d.create_fsg(name, 0, final, trans))
        return name

    def decode(self, samples: np.ndarray, words: Sequence[str], need: int = 0,
               reach: tuple[int, int] | None = None, open_end: bool = False,
               accept: Acceptance | None = None) -> list[WordHit]:
        """The proven run of `words` spoken in `samples` (empty when nothing is proven).

        `need`: the caller has no use for a run of `need` words or fewer; `reach` (a, b): nor for
        a run without a word of window positions a..b-1. A proof only trims the decoded run, so
        when the grammar decode itself yields no such run, the phone decode (three quarters of
        the cost) is skipped and nothing is returned (`last` then holds the decoded words with a
        NaN score). `open_end`: the audio stops in the middle of speech (an edge cut off a
        fragment): the run may end with the last word that ended in it.

        `accept`: what the caller will accept (None: it wants the exact scores whatever they are,
        e.g. to measure the recording). The phone decode (three quarters of a decode's cost) is
        then run only where it could change a verdict: its score per frame is the reference
        subtracted from the words' own, and it stays near 0 (pocketsphinx reports it relative to
        the best path, which is the phone decode's own: within 0.011 nats per frame on every
        fragment measured, clean, noisy, reverberant and band-limited). Where no quantity the
        caller compares lies within `phone_bound` of its threshold (`_certain`), the words are
        scored without it: the same run is kept, the same verdicts drawn, and the scores differ
        from the exact ones by less than the bound."""
        self.last = []
        words = [w for w in words if w]
        if not words or len(samples) == 0:
            return []
        search = self._grammar(words)
        if search is None:
            return []
        try:
            segs, n_frames = self._run(search, samples, open_end)
        finally:
            self._d.activate_search("_phones")
            self._d.remove_search(search)
        hyp = [(_ALT.sub("", w), s, e, a) for w, s, e, a in segs
               if not (w.startswith("<") or w.startswith("[") or w.startswith("+") or w.startswith("__garbage"))]
        if not hyp:
            return []
        start = _locate([w for w, *_ in hyp], words)
        if start is None:
            return []
        if len(hyp) <= need or (reach is not None and not (start < reach[1] and start + len(hyp) > reach[0])):
            self.last = [WordHit(start + k, w, s * FRAME_MS, (e + 1) * FRAME_MS, float("nan"))
                         for k, (w, s, e, _a) in enumerate(hyp)]
            return []
        ref = np.zeros(max(n_frames, 1) + 1)
        if accept is None or not _certain([(a, e - s + 1) for _w, s, e, a in hyp], start, accept,
                                          self.params.phone_bound):
            # the same audio is often decoded again (calibration, then the rounds, the short-
            # placement check, the sentence cuts): its phone decode does not depend on the window
            key = hashlib.sha1(np.ascontiguousarray(samples, dtype="<i2").tobytes()).digest()
            phones = self._phones.pop(key, None)
            if phones is None:
                phones, _ = self._run("_phones", samples)
            self._phones[key] = phones
            while len(self._phones) > 64:
                del self._phones[next(iter(self._phones))]
            for _w, s, e, a in phones:
                if e >= s:
                    ref[s:e + 1] = a / (e - s + 1)
        hits = []
        for k, (w, s, e, a) in enumerate(hyp):
            nf = max(1, e - s + 1)
            score = (a - float(ref[s:e + 1].sum())) / nf
            hits.append(WordHit(start + k, w, s * FRAME_MS, (e + 1) * FRAME_MS, score))
        self.last = hits    # for DEBUG logs
        return self._proven(hits)

    def _proven(self, hits: list[WordHit]) -> list[WordHit]:
        return prove(hits, self.params)


def unscored(hits) -> bool:
    """Whether `hits` carry no scores: the decoder left out the phone decode (NaN scores; see
    ConstrainedDecoder.decode's `need` and `reach`)."""
    return any(h.score != h.score for h in hits)


def prove(hits: list[WordHit], p: ConstrainedParams, min_words: int | None = None) -> list[WordHit]:
    """The run of `hits` the audio proves: weak edge words trimmed, then all or nothing."""
    while hits and hits[0].score < p.min_edge_score:
        hits = hits[1:]
    while hits and hits[-1].score < p.min_edge_score:
        hits = hits[:-1]
    if not hits or len(hits) < (p.min_words if min_words is None else min_words):
        return []
    frames = np.array([h.end_ms - h.start_ms for h in hits])
    mean = float(np.dot(frames, [h.score for h in hits]) / frames.sum())
    return hits if mean >= p.min_mean_score else []


def _certain(words: Sequence[tuple[float, int]], start: int, accept: Acceptance, bound: float) -> bool:
    """Whether every verdict the caller draws (see Acceptance) is the same for any phone-decode
    score within `bound` per frame of 0: `prove`'s walk in from each edge meets no word within
    `bound` of `min_edge_score`, the kept run's mean is not within `bound` of `min_mean_score`,
    and a whole run the caller may accept does not have its mean within `bound` of `run_min`.
    Then the scores without the phone decode give the same kept run and verdicts as with it."""
    p = accept.params
    frames = [max(1, f) for _a, f in words]
    score = [a / f for (a, _f), f in zip(words, frames)]
    lo, hi = 0, len(words)
    while lo < hi:
        if abs(score[lo] - p.min_edge_score) <= bound:
            return False
        if score[lo] >= p.min_edge_score:
            break
        lo += 1
    while hi > lo:
        if abs(score[hi - 1] - p.min_edge_score) <= bound:
            return False
        if score[hi - 1] >= p.min_edge_score:
            break
        hi -= 1

    def mean(i, j):
        return sum(words[k][0] for k in range(i, j)) / sum(frames[i:j])

    if hi > lo and abs(mean(lo, hi) - p.min_mean_score) <= bound:
        return False
    if words and (start, start + len(words) - 1) in accept.runs and abs(mean(0, len(words)) - accept.run_min) <= bound:
        return False
    return True


def _locate(run: Sequence[str], words: Sequence[str]) -> int | None:
    """Where the decoded run starts in the window (the grammar only allows contiguous runs)."""
    k = len(run)
    for i in range(len(words) - k + 1):
        if list(words[i:i + k]) == list(run):
            return i
    return None
