"""Per-recording calibration of the second pass's proof (align/stt/constrained.py).

The proof compares each decoded word with a free phone decode of the same audio. How far real
words fall below free phones depends on the recording, not only on whether the words are there:
a clean studio voice says its own text at about -1.2 nats per frame, the same voice through a
telephone band at about -2.1, reverberation -1.9, noise at 10 dB SNR -2.5. Runs of words the
audio does not hold stay near -4 to -5 in all of them. A fixed threshold (-1.6) therefore proves
clean speech and nothing of a phone call.

So each recording is measured on itself, on placements the first pass is sure of (a transcript
that says nearly exactly the words it was placed on, 5 words or more):
- its own level: the median score of those fragments decoded against their own words;
- its impostor level: the same fragments decoded against a stretch of text far from their own
  (half the document away), taking the best-scoring run of two or more consecutive words the
  decoder found there, none of them a word the fragment says, and neither of its edge words
  below the edge threshold the own level would set (the proof trims such words off, so it never
  keeps that run). That is what chance can reach in this recording with a window of text.

The thresholds move down only (never above the fixed ones), to the own level minus `margin`,
but stay `impostor_margin` above the impostor level and never go below `lowest`. Every
threshold of the proof (mean, edge words, whole prompts) moves by the same amount.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .stt.constrained import unscored

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CalibrationParams:
    enabled: bool = True               # --second-pass-no-calibrate turns it off
    fragments: int = 4                 # sure placements decoded (the shortest that qualify)
    min_words: int = 5                 # ... of at least this many words
    min_similarity: float = 0.8        # ... whose transcript says this share of their words (Levenshtein on words)
    clean_level: float = -1.3          # an own level at or above this needs no impostor decodes: nothing moves
    margin: float = 0.5                # threshold = own level - margin (when that is below the fixed one)
    impostor_margin: float = 0.4       # ... but this far above the impostor level
    lowest: float = -3.2               # ... and never below this
    impostor_words: int = 40           # length of the far stretch of text each fragment is decoded against


@dataclass
class Calibration:
    own: float = float("nan")          # median own-text score (nats/frame vs free phones)
    impostor: float = float("nan")     # best impostor run's score
    shift: float = 0.0                 # added to every proof threshold (<= 0)
    fragments: int = 0

    def line(self) -> str:
        if not self.fragments:
            return "proof calibration: too few sure placements; fixed thresholds"
        imp = "not needed" if np.isnan(self.impostor) else f"{self.impostor:.2f}"
        return (f"proof calibration on {self.fragments} sure fragments: own text {self.own:.2f}, impostor "
                f"{imp} nats/frame; thresholds moved by {self.shift:+.2f}")


def run_mean(hits) -> float:
    """Frame-weighted mean score of `hits` (NaN when empty)."""
    if not hits:
        return float("nan")
    frames = np.array([h.end_ms - h.start_ms for h in hits], dtype=float)
    return float(np.dot(frames, [h.score for h in hits]) / max(frames.sum(), 1e-9))


def best_subrun(hits, min_len: int = 2, exclude: frozenset = frozenset(), edge_min: float = -np.inf) -> float:
    """The best frame-weighted mean over runs of at least `min_len` consecutive hits (what edge
    trimming could leave of them) that hold none of the words in `exclude` and whose first and
    last words score at least `edge_min` (the proof trims weaker edge words off: it never keeps
    such a run); -inf if none."""
    best = -np.inf
    n = len(hits)
    for a in range(n):
        if hits[a].score < edge_min:
            continue
        for b in range(a, n):
            if hits[b].word in exclude:
                break
            if b + 1 - a >= min_len and hits[b].score >= edge_min:
                best = max(best, run_mean(hits[a:b + 1]))
    return float(best)


def sure_placements(entries, placed: dict, words_of: Callable[[int, int], list[str]], p: CalibrationParams):
    """(fragment, its placed words) the first pass is sure of: the `p.fragments` shortest in
    audio among those with `p.min_words`+ words and a transcript this close to them."""
    from rapidfuzz.distance import Levenshtein

    out = []
    for i, (cs, ce) in placed.items():
        words = words_of(cs, ce)
        if len(words) < p.min_words:
            continue
        said = entries[i].transcript.split()
        if Levenshtein.normalized_similarity(said, words) >= p.min_similarity:
            out.append((entries[i].end - entries[i].start, i, words))
    out.sort()
    return [(i, w) for _d, i, w in out[:p.fragments]]


def calibrate(entries, placed: dict, clean_words: Sequence[str], word_at: Callable[[int], int],
              words_of: Callable[[int, int], list[str]], samples: np.ndarray, rate: int,
              p: CalibrationParams, run_raw, decode=None) -> Calibration:
    """Measure this recording (see the module docstring). `clean_words`: the document's words;
    `word_at(clean offset)`: index of the word there; `run_raw(tasks)`: (hits, raw) per
    (samples, words) task, as the second pass decodes; `decode`: the fixed ConstrainedParams,
    when given an impostor run counts only with edge words the proof would keep at the
    threshold the own level alone would set."""
    cal = Calibration()
    if not p.enabled:
        return cal
    sure = sure_placements(entries, placed, words_of, p)
    n = len(clean_words)
    if len(sure) < 2 or n < 3 * p.impostor_words:
        return cal

    def audio(i):
        e = entries[i]
        return samples[int(e.start * rate / 1000):int(e.end * rate / 1000)]

    own = []
    for (i, words), (_h, raw) in zip(sure, run_raw([(audio(i), words) for i, words in sure])):
        if raw and not unscored(raw):
            own.append(run_mean(raw))
    if len(own) < 2:
        return cal
    cal.fragments = len(own)
    cal.own = float(np.median(own))
    if cal.own >= p.clean_level:
        return cal
    tasks = []
    for i, _words in sure:
        first = word_at(placed[i][0])
        lo = (first + n // 2) % n
        window = [clean_words[(lo + k) % n] for k in range(p.impostor_words)]
        tasks.append((audio(i), window))
    # a word the fragment says may recur in the far stretch ("of clubs" in a list of cards): a run
    # holding one is not chance, so only runs of other words count
    edge_min = -np.inf
    if decode is not None:
        t0 = max(min(decode.min_mean_score, cal.own - p.margin), p.lowest)
        edge_min = t0 + (decode.min_edge_score - decode.min_mean_score)
    imp = [best_subrun(raw, exclude=frozenset(words), edge_min=edge_min)
           for (_i, words), (_h, raw) in zip(sure, run_raw(tasks)) if raw and not unscored(raw)]
    cal.impostor = max(imp) if imp else -np.inf
    return cal


def thresholds(cal: Calibration, fixed: float, p: CalibrationParams) -> float:
    """The calibrated mean-score threshold for a fixed one."""
    if not cal.fragments or np.isnan(cal.own) or cal.own >= p.clean_level or np.isnan(cal.impostor):
        return fixed    # clean, or nothing measured: chance was not measured either
    t = min(fixed, cal.own - p.margin)
    t = max(t, cal.impostor + p.impostor_margin, p.lowest)
    return min(t, fixed)


def apply(cal: Calibration, decode_params, phrase_min: float, p: CalibrationParams):
    """(decode params, phrase threshold) moved by the calibration; `cal.shift` set."""
    t = thresholds(cal, decode_params.min_mean_score, p)
    cal.shift = t - decode_params.min_mean_score
    if cal.shift >= 0:
        cal.shift = 0.0
        return decode_params, phrase_min
    moved = dataclasses.replace(decode_params, min_mean_score=t, min_edge_score=decode_params.min_edge_score + cal.shift)
    return moved, phrase_min + cal.shift
