"""Per-recording calibration of the second pass's proof (align/proofcal.py): planted scores."""

from __future__ import annotations

import math

import numpy as np

from align.proofcal import Calibration, CalibrationParams, apply, best_subrun, calibrate, run_mean, thresholds
from align.stt.constrained import ConstrainedParams, WordHit
from align.tlog import TranscriptEntry

P = CalibrationParams()


def _hits(scores, words=None, ms=100):
    words = words or [f"w{k}" for k in range(len(scores))]
    return [WordHit(k, w, k * ms, (k + 1) * ms, s) for k, (w, s) in enumerate(zip(words, scores))]


def test_best_subrun_is_the_best_mean_over_runs_without_excluded_words():
    h = _hits([-1.0, -3.0, -1.0, -1.2], ["a", "b", "c", "d"])
    brute = max(run_mean(h[a:b]) for a in range(4) for b in range(a + 2, 5))
    assert math.isclose(best_subrun(h), brute)
    assert math.isclose(best_subrun(h, exclude=frozenset({"c"})), -2.0)      # only a-b is left
    assert math.isclose(best_subrun(h, exclude=frozenset({"b"})), -1.1)      # c-d
    assert best_subrun(h[:1]) == -math.inf
    # edge words under `edge_min` are trimmed by the proof: no run may start or end on one
    assert math.isclose(best_subrun(h, edge_min=-1.5), -1.1)                  # c-d; a-b-c-d is lower
    assert math.isclose(best_subrun(h, edge_min=-1.5, exclude=frozenset({"d"})), -5.0 / 3)   # a-b-c
    assert best_subrun(h, edge_min=-0.5) == -math.inf


def test_thresholds_move_down_only_and_stay_above_chance():
    fixed = -1.6
    assert thresholds(Calibration(own=-1.2, impostor=-5.0, fragments=4), fixed, P) == fixed   # clean: untouched
    assert thresholds(Calibration(own=-2.5, fragments=4), fixed, P) == fixed            # chance not measured
    assert thresholds(Calibration(own=-1.0, fragments=4), fixed, P) == fixed            # never up
    assert math.isclose(thresholds(Calibration(own=-2.5, impostor=-4.5, fragments=4), fixed, P), -3.0)
    # chance reaches -2.9 in this recording: the threshold stays 0.4 above it
    assert math.isclose(thresholds(Calibration(own=-2.5, impostor=-2.9, fragments=4), fixed, P), -2.5)
    # never below the lowest allowed, and never above the fixed one even when chance is high
    assert thresholds(Calibration(own=-4.0, impostor=-6.0, fragments=4), fixed, P) == P.lowest
    assert thresholds(Calibration(own=-2.0, impostor=-1.0, fragments=4), fixed, P) == fixed
    assert thresholds(Calibration(), fixed, P) == fixed                                 # nothing measured
    d, phrase = apply(Calibration(own=-2.5, impostor=-4.5, fragments=4), ConstrainedParams(), -2.6, P)
    assert math.isclose(d.min_mean_score, -3.0) and math.isclose(d.min_edge_score, -2.2 - 1.4)
    assert math.isclose(phrase, -4.0)


def test_calibrate_measures_own_and_impostor_levels_on_sure_placements():
    """A fake decoder stands in for pocketsphinx (the real one runs in the CLI tests): it scores a
    fragment's own words at the fragment's planted level and other words at -4.5, except one far
    word that happens to score -2.0 alone (a one-word run is not a run of two: ignored)."""
    words = [f"t{k}" for k in range(200)]
    clean = " ".join(words)
    starts = np.cumsum([0] + [len(w) + 1 for w in words[:-1]])
    entries, placed = [], {}
    for f, first in enumerate(range(0, 60, 6)):
        entries.append(TranscriptEntry(f * 3000, f * 3000 + 2000 + 10 * f, " ".join(words[first:first + 6])))
        placed[f] = (int(starts[first]), int(starts[first + 5] + len(words[first + 5])))
    own_level = {tuple(words[k:k + 6]): -2.4 - 0.01 * (k // 6) for k in range(0, 60, 6)}
    calls = []

    def run_raw(tasks):
        out = []
        for _samples, ws in tasks:
            calls.append(list(ws))
            if tuple(ws) in own_level:
                out.append(([], _hits([own_level[tuple(ws)]] * len(ws), list(ws))))
            else:
                k = ws.index("t150") - 2 if "t150" in ws else 0      # the decoder's run: 5 words
                run = list(ws[k:k + 5])
                out.append(([], _hits([-2.0 if w == "t150" else -4.5 for w in run], run)))
        return out

    cal = calibrate(entries, placed, words, lambda off: int(np.searchsorted(starts, off, side="right") - 1),
                    lambda a, b: clean[a:b].split(), np.zeros(16000 * 40, np.int16), 16000, P, run_raw)
    assert cal.fragments == P.fragments
    # the four shortest sure fragments are 0..3: own levels -2.40..-2.43, median -2.415
    assert math.isclose(cal.own, -2.415)
    # impostor windows start half the document (100 words) away from each fragment's first word
    assert [c[0] for c in calls[P.fragments:]] == ["t100", "t106", "t112", "t118"]
    assert math.isclose(cal.impostor, -3.25)    # t150 (-2.0) with a -4.5 neighbour, the best run of two
    # own level - margin = -2.915, but chance reached -3.25: the threshold stays 0.4 above it
    assert math.isclose(thresholds(cal, -1.6, P), -2.85)
    # with the proof's parameters, a run counts only with edge words the proof would keep (at the
    # threshold the own level sets, -2.915, edges go down to -3.515): the -4.5 neighbour is trimmed
    # off, and t150 alone is no run of two. Chance reached nothing: the own level decides.
    cal = calibrate(entries, placed, words, lambda off: int(np.searchsorted(starts, off, side="right") - 1),
                    lambda a, b: clean[a:b].split(), np.zeros(16000 * 40, np.int16), 16000, P, run_raw,
                    ConstrainedParams())
    assert cal.impostor == -math.inf and math.isclose(thresholds(cal, -1.6, P), -2.915)
    # a transcript unlike its placed words is not sure: with all of them garbled, nothing is measured
    garbled = [TranscriptEntry(e.start, e.end, "x y z q r s") for e in entries]
    assert calibrate(garbled, placed, words, lambda off: 0, lambda a, b: clean[a:b].split(),
                     np.zeros(16000 * 40, np.int16), 16000, P, run_raw).fragments == 0
