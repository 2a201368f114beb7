"""The prosody embedder on synthetic voiced signals whose pitch, pitch movement, syllable rate and
pauses are planted (the oracle), plus the properties the mining blend relies on."""

import numpy as np
import pytest
from tests.mineaudio.signals import silence, voiced

from align.mine import prosody

IDX = {n: i for i, n in enumerate(prosody.NAMES)}


def raw(x):
    return dict(zip(prosody.NAMES, prosody.raw_features(x)))


@pytest.mark.parametrize("f0", [70.0, 110.0, 180.0, 260.0, 380.0])
def test_pitch_of_a_steady_tone(f0):
    fa = prosody.analyse(voiced(f0, 1.5))
    f = fa.f0[np.isfinite(fa.f0)]
    assert len(f) > 0.9 * len(fa.f0)
    assert np.median(f) == pytest.approx(f0, rel=0.01)
    assert raw(voiced(f0, 1.5))["f0_median_st"] == pytest.approx(12 * np.log2(f0 / 100), abs=0.2)


def test_pitch_glide_slope_and_contour():
    # 100 -> 200 Hz over 2 s: +12 semitones, 6 st/s; the quarters rise from below to above the median
    r = raw(voiced(100, 2.0, glide_to=200))
    assert r["f0_slope_st_per_s"] == pytest.approx(6.0, rel=0.05)
    assert r["f0_range_st"] == pytest.approx(12 * 0.8, rel=0.1)   # p90 - p10 of a linear ramp in st
    q = [r[f"f0_q{i}_st"] for i in range(1, 5)]
    assert q == sorted(q) and q[0] < -3 < 3 < q[3]
    flat = raw(voiced(150, 2.0))
    assert abs(flat["f0_slope_st_per_s"]) < 0.1 and flat["f0_std_st"] < 0.1


@pytest.mark.parametrize("rate", [2.5, 4.0, 6.0])
def test_syllable_rate(rate):
    r = raw(voiced(140, 4.0, syl_rate=rate))
    assert r["articulation_rate"] == pytest.approx(rate, rel=0.12)
    assert r["pause_frac"] == 0.0     # gaps between syllables are shorter than a pause


def test_pauses():
    # 1 s speech, 0.6 s pause, 1 s speech, 0.3 s pause, 1 s speech
    x = np.concatenate([voiced(150, 1.0, syl_rate=4), silence(0.6), voiced(150, 1.0, syl_rate=4, seed=2),
                        silence(0.3), voiced(150, 1.0, syl_rate=4, seed=3)])
    r = raw(x)
    # each 1 s block ends with the off phase of its last 0.25 s syllable cycle (0.1125 s), so the
    # planted pauses are 0.7125 s and 0.4125 s in a span of 3.9 - 0.1125 s
    span = 3.9 - 0.1125
    assert r["pauses_per_s"] * span == pytest.approx(2, abs=0.05)
    assert r["mean_pause_s"] == pytest.approx(0.5625, abs=0.05)
    assert r["pause_frac"] == pytest.approx(1.125 / span, abs=0.03)
    assert r["articulation_rate"] == pytest.approx(4.0, rel=0.15)


def test_level_invariance_and_zero_vector():
    x = voiced(150, 2.0, syl_rate=4)
    np.testing.assert_allclose(prosody.embed(x), prosody.embed(x * 0.25), atol=0.05)
    assert not prosody.embed(np.zeros(16000, np.float32)).any()
    assert prosody.embed(np.zeros(100, np.float32)).shape == (prosody.DIM,)
    assert prosody.embed((x * 32767).astype(np.int16)) == pytest.approx(prosody.embed(x), abs=0.05)


def test_same_style_closer_than_other_style():
    # styles = (pitch, rate); different seeds and lengths within a style
    def vec(f0, rate, seed, dur):
        return prosody.embed(np.concatenate([voiced(f0 * (1 + 0.03 * seed), dur, syl_rate=rate * (1 + 0.04 * seed),
                                                    seed=seed), silence(0.4), voiced(f0, 1.0, syl_rate=rate)]))

    styles = [(100, 3.0), (200, 3.0), (100, 6.0), (220, 5.5)]
    vecs = {s: [vec(*s, seed, 1.5 + 0.3 * seed) for seed in range(3)] for s in styles}

    def cos(a, b):
        return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))

    same = [cos(v[i], v[j]) for v in vecs.values() for i in range(3) for j in range(i + 1, 3)]
    cross = [cos(a, b) for s in styles for t in styles if s < t for a in vecs[s] for b in vecs[t]]
    wins = np.mean([a > b for a in same for b in cross])
    assert wins >= 0.95, (np.mean(same), np.mean(cross))


def test_features_are_documented_and_normalised():
    assert prosody.DIM == len(prosody.FEATURES) == len(set(prosody.NAMES))
    v = prosody.embed(voiced(150, 3.0, syl_rate=4))
    assert v.dtype == np.float32 and np.all(np.abs(v) <= 4.0)
    import pathlib

    algo = (pathlib.Path(__file__).resolve().parents[2] / "algo.md").read_text(encoding="utf-8")
    missing = [n for n in prosody.NAMES if f"`{n}`" not in algo]
    assert not missing, f"undocumented prosody dimensions in algo.md: {missing}"
