"""Utterance edges trimmed to the sound (align/bounds.py), against planted signals: tone bursts
and decays in seeded noise at known sample positions."""

from __future__ import annotations

import numpy as np
import pytest

from align.bounds import (BoundsParams, cap_at_last_word, frame_db, long_tail, trim_span, trim_utterances,
                          voiced_frames)
from align.common.errors import UsageError
from align.records import Utterance

RATE = 16000
NOPAD = BoundsParams(start_pad_ms=0.0, end_pad_ms=0.0)


def ms(t: float) -> int:
    return int(round(t * RATE / 1000))


def noise(total_ms: float, db: float = -60.0, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 10 ** (db / 20) * 32768, ms(total_ms))


def tone(dur_ms: float, db: float = -12.0, f: float = 220.0) -> np.ndarray:
    t = np.arange(ms(dur_ms)) / RATE
    return np.sqrt(2) * 10 ** (db / 20) * 32768 * np.sin(2 * np.pi * f * t)


def put(x: np.ndarray, at_ms: float, y: np.ndarray) -> None:
    x[ms(at_ms):ms(at_ms) + len(y)] += y


def as_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)


def test_frame_db_matches_a_direct_computation():
    x = as_int16(noise(1234.5, -30.0, seed=3))
    db = frame_db(x, RATE, block=7)      # several blocks and a dropped partial frame
    frames = x[: len(x) // 160 * 160].astype(np.float64).reshape(-1, 160)
    want = 10 * np.log10(np.maximum((frames ** 2).mean(axis=1), 1.0) / 32768.0 ** 2)
    assert db.shape == want.shape and np.allclose(db, want, atol=1e-3)
    assert frame_db(np.zeros(1600, np.int16), RATE).max() == pytest.approx(-90.3, abs=0.1)


def test_quiet_edges_are_cut_to_the_planted_sound():
    x = noise(6000.0)
    put(x, 2000.0, tone(1500.0))                 # sound 2000-3500 ms
    db = frame_db(as_int16(x), RATE)
    s, e = trim_span(db, 1700.0, 3730.0, NOPAD)
    assert 2000.0 - 10 <= s <= 2000.0 and 3500.0 <= e <= 3500.0 + 10
    s, e = trim_span(db, 1700.0, 3730.0, BoundsParams(start_pad_ms=30.0, end_pad_ms=50.0))
    assert 1960.0 <= s <= 1970.0 and 3550.0 <= e <= 3560.0


def test_a_soft_decay_above_the_background_is_kept():
    """A vowel dying away exponentially: every frame still 6 dB above the background stays in."""
    x = noise(5000.0)
    put(x, 1000.0, tone(1000.0))
    tau_ms = 60.0                                 # amplitude decay: -8.7 dB per 60 ms
    t = np.arange(ms(800.0)) / RATE * 1000.0
    put(x, 2000.0, tone(800.0) * np.exp(-t / tau_ms))
    db = frame_db(as_int16(x), RATE)
    s, e = trim_span(db, 900.0, 2700.0, NOPAD)
    # the decay (from -12 dB) reaches the background (-60 dB, its upper level about 1 dB more)
    # + 4.5 dB after about 42 dB: 42/8.69*60 ms
    crossing = 2000.0 + 42.0 / (20 * np.log10(np.e)) * tau_ms
    assert crossing - 25 <= e <= crossing + 30, (e, crossing)


def test_a_weak_final_burst_after_a_closure_is_kept():
    """Stop closure (80 ms quiet) then a 20 ms release 25 dB below the vowel: still speech."""
    x = noise(4000.0)
    put(x, 1000.0, tone(800.0))
    put(x, 1880.0, tone(20.0, db=-37.0, f=3000.0))
    db = frame_db(as_int16(x), RATE)
    s, e = trim_span(db, 950.0, 2200.0, NOPAD)
    assert 1900.0 <= e <= 1910.0


def test_background_is_local():
    """Louder noise in the second half: its quiet edge is judged against its own background."""
    x = noise(10000.0)
    x[ms(5000.0):] = noise(5000.0, -35.0, seed=1)
    put(x, 1000.0, tone(1000.0))
    put(x, 7000.0, tone(1000.0))
    db = frame_db(as_int16(x), RATE)
    assert trim_span(db, 800.0, 2300.0, NOPAD)[1] == pytest.approx(2000.0, abs=10)
    assert trim_span(db, 6800.0, 8300.0, NOPAD)[1] == pytest.approx(8000.0, abs=10)


def test_a_fluctuating_background_is_not_sound():
    """Between sentences a real room (or a lossy codec) fluctuates by 10 dB and more: a background
    whose level wanders between -58 and -48 dB frame by frame is not sound; measured from its
    quietest frames alone (spread 0) it would hold the end in the pause."""
    levels = np.random.default_rng(7).uniform(-58.0, -48.0, 600)
    x = np.concatenate([noise(10.0, lv, seed=k) for k, lv in enumerate(levels)])
    put(x, 1000.0, tone(1500.0, db=-20.0))
    db = frame_db(as_int16(x), RATE)
    spread = BoundsParams(spread_db=8.0, start_pad_ms=0.0, end_pad_ms=0.0)
    s, e = trim_span(db, 900.0, 2900.0, spread)
    assert 2500.0 <= e <= 2510.0 and 990.0 <= s <= 1000.0
    assert trim_span(db, 900.0, 2900.0, NOPAD)[1] > 2800.0       # the default keeps the pause


def test_a_weak_fricative_onset_is_kept_by_default():
    """An /f/ 6-8 dB above a quiet floor before the vowel is sound."""
    x = noise(4000.0)
    put(x, 1000.0, noise(70.0, -53.0, seed=5))    # the fricative
    put(x, 1070.0, tone(1000.0))
    db = frame_db(as_int16(x), RATE)
    assert 990.0 <= trim_span(db, 700.0, 2400.0, NOPAD)[0] <= 1000.0
    assert trim_span(db, 700.0, 2400.0, BoundsParams(margin_db=12.0, start_pad_ms=0.0))[0] > 1060.0


def test_never_widens_and_never_cuts_sound():
    x = noise(4000.0)
    put(x, 1000.0, tone(2000.0))
    db = frame_db(as_int16(x), RATE)
    assert trim_span(db, 1500.0, 2500.0, BoundsParams()) == (1500.0, 2500.0)   # sound right up to both edges
    # all quiet: nothing sounds, the span stays
    assert trim_span(db, 3300.0, 3900.0, BoundsParams()) == (3300.0, 3900.0)
    # the cut is bounded
    s, e = trim_span(db, 200.0, 3900.0, BoundsParams(max_trim_ms=300.0, start_pad_ms=0.0, end_pad_ms=0.0))
    assert s == pytest.approx(500.0) and e == pytest.approx(3600.0)
    assert trim_span(db, 200.0, 3900.0, BoundsParams(trim=True, max_trim_ms=0.0)) == (200.0, 3900.0)


def utt(start: float, end: float) -> Utterance:
    return Utterance(start=start, end=end, transcript="a", text_start=0, text_end=1, meta={}, aligned_raw="a",
                     aligned="a")


def test_trim_utterances_in_place_and_off_switch():
    x = noise(5000.0)
    put(x, 1000.0, tone(1000.0))
    put(x, 3000.0, tone(1000.0))
    samples = as_int16(x)
    us = [utt(900.0, 2150.0), utt(2850.0, 4100.0)]
    assert trim_utterances(us, samples, RATE, BoundsParams()) == 4      # default pads: 20 ms
    assert [(round(u.start, -1), round(u.end, -1)) for u in us] == [(980.0, 2020.0), (2980.0, 4020.0)]
    off = [utt(900.0, 2150.0)]
    assert trim_utterances(off, samples, RATE, BoundsParams(trim=False)) == 0 and off[0].end == 2150.0


@pytest.mark.parametrize("kw", [{"margin_db": 0.0}, {"end_pad_ms": -1.0}, {"spread_db": -1.0}, {"max_trim_ms": 1e9},
                                {"start_pad_ms": float("nan")}])
def test_bad_parameters_are_usage_errors(kw):
    with pytest.raises(UsageError, match="--trim-"):
        BoundsParams(**kw).validate()


def test_a_reverberant_tail_is_long_and_a_dry_end_is_not():
    x = noise(4000.0)
    put(x, 1000.0, tone(1000.0))
    dry = frame_db(as_int16(x), RATE)
    t = np.arange(ms(600.0)) / RATE * 1000.0
    put(x, 2000.0, noise(600.0, -18.0, seed=9) * np.exp(-t / 60.0))   # a reverberation tail: -8.7 dB per 60 ms
    wet = frame_db(as_int16(x), RATE)
    p = BoundsParams()
    s, e = trim_span(wet, 900.0, 2800.0, p)
    assert e > 2000.0 + 200                 # the energy trim keeps the tail: it is sound
    assert long_tail(wet, s, e, p)
    s, e = trim_span(dry, 900.0, 2400.0, p)
    assert e == pytest.approx(2020.0, abs=10) and not long_tail(dry, s, e, p)
    assert not long_tail(wet, s, e, BoundsParams(word_cap_ms=None))


def test_the_end_is_capped_after_the_last_word():
    p = BoundsParams(word_cap_ms=150.0)
    assert cap_at_last_word(2500.0, 2000.0, p) == 2150.0
    assert cap_at_last_word(2100.0, 2000.0, p) == 2100.0        # never later than it was
    assert cap_at_last_word(2500.0, None, p) == 2500.0          # the aligner did not place the last word
    assert cap_at_last_word(2500.0, 2000.0, BoundsParams(word_cap_ms=None)) == 2500.0


def test_trim_utterances_asks_for_words_only_on_long_tails():
    x = noise(6000.0)
    put(x, 1000.0, tone(1000.0))                                   # dry
    put(x, 3000.0, tone(1000.0))
    t = np.arange(ms(600.0)) / RATE * 1000.0
    put(x, 4000.0, noise(600.0, -18.0, seed=9) * np.exp(-t / 60.0))  # reverberant
    asked = []

    def last_word_ends(items):
        asked.extend(u.start for u, _s, _e in items)
        return [3950.0] * len(items)

    us = [utt(900.0, 2150.0), utt(2900.0, 4700.0)]
    trim_utterances(us, as_int16(x), RATE, BoundsParams(), last_word_ends)
    assert asked == [2900.0]
    assert us[1].end == pytest.approx(3950.0 + 100.0) and us[0].end == pytest.approx(2020.0, abs=10)


def test_in_noise_the_classifiers_speech_frames_are_kept():
    """10 dB below the sentence, the noise hides the last of its decay from the energy; the VAD
    classifier's speech frames (planted here) then count as sound. In clean audio they do not
    (the classifier's hang-over would hold every end late)."""
    x = noise(5000.0, -30.0)
    put(x, 1000.0, tone(1000.0, db=-18.0))
    t = np.arange(ms(300.0)) / RATE * 1000.0
    put(x, 2000.0, tone(300.0, db=-18.0) * np.exp(-t / 40.0))      # decays under the noise after ~60 ms
    db = frame_db(as_int16(x), RATE)
    voiced = np.zeros(len(db), bool)
    voiced[100:215] = True                                          # the classifier hears it to 2150 ms
    s, e = trim_span(db, 900.0, 2600.0, NOPAD)
    assert e <= 2110.0
    s, e = trim_span(db, 900.0, 2600.0, NOPAD, voiced=voiced)
    assert e == pytest.approx(2150.0)
    assert trim_span(db, 900.0, 2600.0, BoundsParams(noisy_db=5.0, start_pad_ms=0.0, end_pad_ms=0.0),
                     voiced=voiced)[1] <= 2110.0                   # "clean": the labels are not used


def test_voiced_frames_follow_the_webrtc_classifier():
    from align.audio.vad import VadParams, webrtc_frames

    x = noise(3000.0, -50.0)
    put(x, 1000.0, tone(1000.0, db=-15.0, f=180.0) * (1 + 0.5 * np.sin(2 * np.pi * 4 * np.arange(ms(1000.0)) / RATE)))
    samples = as_int16(x)
    n = len(frame_db(samples, RATE))
    got = voiced_frames(samples, RATE, VadParams(), n)
    bounds, labels = webrtc_frames(samples, RATE, VadParams())
    want = np.repeat(labels, 2)[:n]                                 # 20 ms labels on the 10 ms grid
    assert got is not None and np.array_equal(got, want) and got.any()
    assert voiced_frames(samples, RATE, VadParams(engine="silero"), n) is None


def test_the_classifier_runs_only_for_noisy_edges():
    x = noise(4000.0)
    put(x, 1000.0, tone(1000.0))
    db = frame_db(as_int16(x), RATE)
    calls = []

    def labels():
        calls.append(1)
        return np.zeros(len(db), bool)

    trim_span(db, 900.0, 2300.0, NOPAD, voiced=labels)                              # 48 dB above the noise
    assert calls == []
    trim_span(db, 900.0, 2300.0, BoundsParams(noisy_db=60.0), voiced=labels)
    assert calls
