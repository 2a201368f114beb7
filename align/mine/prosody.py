"""A built-in prosodic embedder: a fixed-size vector per segment from numpy alone, no model.

The audio (mono float, 16 kHz) is cut into 40 ms frames every 10 ms. Per frame:
- F0 by the YIN method: the cumulative-mean-normalised difference function d'(tau) from an
  FFT cross-correlation and running energies, the first dip below `YIN_THRESHOLD` (then the local
  minimum after it), parabolic interpolation; a frame is voiced when its dip is below
  `VOICED_MAX` and it is active. Range 60-400 Hz.
- level in dB (mean square of the frame), a smoothed band level (300-2500 Hz, where vowels are
  loud) for syllable nuclei, spectral centroid and tilt from a Hann-windowed power spectrum.
- active = level within `ACTIVE_RANGE_DB` of the segment's loud frames (95th percentile) and above
  an absolute floor, so the vector does not depend on the recording level.

The statistics (`FEATURES`, each documented in algo.md) are normalised with fixed centres and
scales (typical speech values), so every segment is embedded on its own (no corpus pass, resume
per shard stays exact) and the dimensions are comparable; each is clipped to +-4. A segment
without any active frame gets the zero vector (cosine 0 with everything).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RATE = 16000
HOP = 160            # 10 ms
WIN = 640            # 40 ms: two periods of 60 Hz
# Pitch runs on the audio decimated to 8 kHz (a [1,3,3,1]/8 low-pass, then every second sample):
# F0 is below 400 Hz, and half the rate halves every FFT.
PRATE = 8000
PHOP, PWIN = HOP // 2, WIN // 2
FMIN, FMAX = 60.0, 400.0
TAU_MIN = int(PRATE / FMAX)          # 20
TAU_MAX = int(np.ceil(PRATE / FMIN))  # 134
NFFT_XCORR = 1024   # >= PWIN + (PWIN + TAU_MAX): linear (not circular) cross-correlation
NFFT_SPEC = WIN
YIN_THRESHOLD = 0.15
VOICED_MAX = 0.35
ACTIVE_RANGE_DB = 35.0
ABS_FLOOR_DB = -70.0  # dBFS
PAUSE_MIN_S = 0.15   # inactive runs at least this long (inside the speech) are pauses
NUCLEUS_PROMINENCE_DB = 3.0
NUCLEUS_MIN_GAP = 8  # frames (80 ms) between syllable nuclei

# (name, centre, scale): z = (raw - centre) / scale, clipped to +-4. The centres are typical speech
# values; the scales are about one typical spread, halved for what marks a speaking style (pitch
# level, rate, spectral tilt) and doubled for what mostly follows the words (contour quarters,
# pause counts): measured with bench/prosody_style.py (algo.md section 13).
FEATURES: tuple[tuple[str, float, float], ...] = (
    ("f0_median_st", 5.0, 3.0),
    ("f0_range_st", 6.0, 3.0),
    ("f0_std_st", 2.5, 1.5),
    ("f0_slope_st_per_s", -1.0, 3.0),
    ("f0_delta_st", 0.3, 0.3),
    ("f0_q1_st", 0.0, 4.0),
    ("f0_q2_st", 0.0, 4.0),
    ("f0_q3_st", 0.0, 4.0),
    ("f0_q4_st", 0.0, 4.0),
    ("voiced_frac", 0.6, 0.2),
    ("energy_std_db", 8.0, 4.0),
    ("energy_range_db", 20.0, 8.0),
    ("energy_slope_db_per_s", -2.0, 5.0),
    ("energy_delta_db", 1.5, 1.0),
    ("energy_q1_db", 0.0, 8.0),
    ("energy_q2_db", 0.0, 8.0),
    ("energy_q3_db", 0.0, 8.0),
    ("energy_q4_db", 0.0, 8.0),
    ("articulation_rate", 5.0, 1.25),
    ("speech_rate", 4.0, 1.25),
    ("pause_frac", 0.15, 0.15),
    ("pauses_per_s", 0.4, 0.8),
    ("mean_pause_s", 0.3, 0.6),
    ("mean_run_s", 1.5, 1.5),
    ("centroid_log2_khz", 0.5, 0.5),
    ("tilt_db", 10.0, 4.0),
)
DIM = len(FEATURES)
NAMES = tuple(f[0] for f in FEATURES)
_CENTRE = np.array([f[1] for f in FEATURES], dtype=np.float64)
_SCALE = np.array([f[2] for f in FEATURES], dtype=np.float64)


@dataclass
class Frames:
    """Per-frame analysis of one segment (exposed for tests and the docs)."""

    f0: np.ndarray       # Hz, NaN where unvoiced
    db: np.ndarray       # frame level, dBFS
    band_db: np.ndarray  # 300-2500 Hz level, dB
    active: np.ndarray   # bool
    centroid: np.ndarray  # Hz
    tilt: np.ndarray     # dB (0-1 kHz over 1-4 kHz)


def _frames(x: np.ndarray, n: int, hop: int, length: int) -> np.ndarray:
    """(n, length) frames every `hop` samples, zero-padded at the end (a view where possible)."""
    need = (n - 1) * hop + length
    if len(x) < need:
        x = np.concatenate([x, np.zeros(need - len(x), dtype=x.dtype)])
    return np.lib.stride_tricks.as_strided(x, shape=(n, length), strides=(x.strides[0] * hop, x.strides[0]),
                                           writeable=False)


def analyse(x: np.ndarray) -> Frames:
    """Frame-level pitch, level, activity and spectral shape of mono float samples at 16 kHz."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    n = max(1, 1 + (len(x) - WIN) // HOP)
    frames16 = _frames(x, n, HOP, WIN)
    db = 10.0 * np.log10(np.maximum(np.einsum("ij,ij->i", frames16, frames16) / WIN, 1e-12))

    x8 = np.convolve(x, np.array([1.0, 3.0, 3.0, 1.0]) / 8.0, mode="same")[::2]
    fr = _frames(x8, n, PHOP, PWIN + TAU_MAX)   # each frame holds PWIN samples plus the lags
    head = fr[:, :PWIN]
    e0 = np.einsum("ij,ij->i", head, head)

    # YIN: d(tau) = e0 + e_tau - 2 r(tau), r = cross-correlation of the head with the whole frame.
    spec_head = np.fft.rfft(head, NFFT_XCORR)
    spec_all = np.fft.rfft(fr, NFFT_XCORR)
    r = np.fft.irfft(np.conj(spec_head) * spec_all, NFFT_XCORR)[:, : TAU_MAX + 1]
    csum = np.concatenate([np.zeros((len(fr), 1)), np.cumsum(fr * fr, axis=1)], axis=1)
    taus = np.arange(TAU_MAX + 1)
    e_tau = csum[:, taus + PWIN] - csum[:, taus]
    d = np.maximum(e0[:, None] + e_tau - 2.0 * r, 0.0)
    d[:, 0] = 0.0
    cum = np.cumsum(d[:, 1:], axis=1)
    dn = np.ones_like(d)
    dn[:, 1:] = d[:, 1:] * taus[1:] / np.maximum(cum, 1e-12)
    sub = dn[:, TAU_MIN : TAU_MAX]           # candidate lags TAU_MIN .. TAU_MAX-1
    below = sub < YIN_THRESHOLD
    first = np.where(below.any(axis=1), below.argmax(axis=1), -1)
    # local minima of d' (the dip after the first crossing), interior lags only
    lm = np.zeros_like(below)
    lm[:, 1:-1] = (sub[:, 1:-1] <= sub[:, :-2]) & (sub[:, 1:-1] <= sub[:, 2:])
    idx = np.arange(sub.shape[1])
    after = lm & (idx[None, :] >= np.maximum(first, 0)[:, None])
    dip = np.where(after.any(axis=1), after.argmax(axis=1), sub.argmin(axis=1))
    dip = np.where(first >= 0, dip, sub.argmin(axis=1))
    rows = np.arange(len(sub))
    best = sub[rows, dip]
    # parabolic interpolation of the dip
    lo = sub[rows, np.maximum(dip - 1, 0)]
    hi = sub[rows, np.minimum(dip + 1, sub.shape[1] - 1)]
    denom = lo - 2.0 * best + hi
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where((dip > 0) & (dip < sub.shape[1] - 1) & (np.abs(denom) > 1e-12), 0.5 * (lo - hi) / denom, 0.0)
    tau = TAU_MIN + dip + np.clip(shift, -1.0, 1.0)

    loud = np.percentile(db, 95)
    active = (db >= loud - ACTIVE_RANGE_DB) & (db >= ABS_FLOOR_DB)
    voiced = active & (best < VOICED_MAX)
    f0 = np.where(voiced, PRATE / tau, np.nan)

    # Spectral shape from a Hann-windowed power spectrum of the head.
    p = np.abs(np.fft.rfft(frames16 * np.hanning(WIN), NFFT_SPEC)) ** 2
    freqs = np.fft.rfftfreq(NFFT_SPEC, 1.0 / RATE)
    tot = p.sum(axis=1) + 1e-12
    centroid = (p @ freqs) / tot
    band = p[:, (freqs >= 300) & (freqs <= 2500)].sum(axis=1)
    low = p[:, freqs < 1000].sum(axis=1)
    high = p[:, (freqs >= 1000) & (freqs < 4000)].sum(axis=1)
    band_db = 10.0 * np.log10(band + 1e-12)
    tilt = 10.0 * np.log10((low + 1e-12) / (high + 1e-12))
    return Frames(f0=f0, db=db, band_db=band_db, active=active, centroid=centroid, tilt=tilt)


def _slope(y: np.ndarray, t: np.ndarray) -> float:
    if len(y) < 3 or np.ptp(t) <= 0:
        return 0.0
    tc = t - t.mean()
    return float((tc @ (y - y.mean())) / (tc @ tc))


def _quarters(y: np.ndarray, t: np.ndarray, t0: float, t1: float, ref: float) -> list[float]:
    out = []
    edges = np.linspace(t0, t1, 5)
    for a, b in zip(edges[:-1], edges[1:]):
        sel = (t >= a) & (t <= b)
        out.append(float(y[sel].mean() - ref) if sel.any() else 0.0)
    return out


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, lengths) of the True runs of a boolean array."""
    m = np.concatenate([[False], mask, [False]]).astype(np.int8)
    dm = np.diff(m)
    starts = np.flatnonzero(dm == 1)
    ends = np.flatnonzero(dm == -1)
    return starts, ends - starts


def nuclei(band_db: np.ndarray, active: np.ndarray, voiced: np.ndarray) -> np.ndarray:
    """Frame indices of syllable nuclei in the smoothed band level: a hysteresis peak counter. A
    nucleus is counted where the level, in a voiced frame, has risen NUCLEUS_PROMINENCE_DB above the
    lowest point since the previous nucleus; the counter re-arms once the level has fallen that much
    below the highest point since. Inactive frames count as the segment's floor. Nuclei closer than
    NUCLEUS_MIN_GAP frames merge."""
    if len(band_db) == 0:
        return np.zeros(0, dtype=np.int64)
    env = np.convolve(band_db, np.ones(5) / 5.0, mode="same")
    floor = float(env[active].min()) if active.any() else float(env.min())
    env = np.where(active, env, floor).tolist()
    vo = voiced.tolist()
    out: list[int] = []
    armed = True
    low = high = env[0]
    for i, e in enumerate(env):
        if armed:
            low = min(low, e)
            if vo[i] and e - low >= NUCLEUS_PROMINENCE_DB:
                if not out or i - out[-1] >= NUCLEUS_MIN_GAP:
                    out.append(i)
                armed, high = False, e
        else:
            high = max(high, e)
            if high - e >= NUCLEUS_PROMINENCE_DB:
                armed, low = True, e
    return np.asarray(out, dtype=np.int64)


def raw_features(x: np.ndarray) -> np.ndarray | None:
    """The FEATURES of one segment in their own units (None: no active frame)."""
    fa = analyse(x)
    act = np.flatnonzero(fa.active)
    if act.size == 0:
        return None
    dt = HOP / RATE
    t = np.arange(len(fa.db)) * dt
    a0, a1 = int(act[0]), int(act[-1])
    span = (a1 - a0 + 1) * dt
    voiced = np.isfinite(fa.f0)
    v = np.flatnonzero(voiced)
    st = 12.0 * np.log2(fa.f0[v] / 100.0) if v.size else np.zeros(0)
    if v.size:
        med = float(np.median(st))
        p10, p90 = np.percentile(st, [10, 90])
        consecutive = np.diff(v) == 1
        delta = float(np.abs(np.diff(st))[consecutive].mean()) if consecutive.any() else 0.0
        pitch = [med, float(p90 - p10), float(st.std()), _slope(st, t[v]), delta,
                 *_quarters(st, t[v], t[a0], t[a1], med)]
    else:
        pitch = [_CENTRE[0], 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]  # centre: no pitch information
    e = fa.db[act]
    emean = float(e.mean())
    consecutive = np.diff(act) == 1
    e_delta = float(np.abs(np.diff(e))[consecutive].mean()) if consecutive.any() else 0.0
    p10, p90 = np.percentile(e, [10, 90])
    energy = [float(e.std()), float(p90 - p10), _slope(e, t[act]), e_delta, *_quarters(e, t[act], t[a0], t[a1], emean)]

    inside = ~fa.active[a0 : a1 + 1]
    starts, lengths = _runs(inside)
    min_pause = int(round(PAUSE_MIN_S / dt))
    pauses = lengths[lengths >= min_pause] * dt
    pause_time = float(pauses.sum())
    phonation = max(span - pause_time, dt)
    n_nuc = len(nuclei(fa.band_db, fa.active, voiced))
    runs = len(pauses) + 1
    rate = [n_nuc / phonation, n_nuc / span, pause_time / span, len(pauses) / span,
            float(pauses.mean()) if len(pauses) else 0.0, phonation / runs]
    centroid = float(np.log2(max(np.mean(fa.centroid[act]), 1.0) / 1000.0))
    tilt = float(np.mean(fa.tilt[act]))
    return np.array([*pitch, float(v.size / act.size), *energy, *rate, centroid, tilt], dtype=np.float64)


def normalise(raw: np.ndarray) -> np.ndarray:
    return np.clip((raw - _CENTRE) / _SCALE, -4.0, 4.0)


def embed(x: np.ndarray) -> np.ndarray:
    """float32 (DIM,) prosody vector of mono samples at 16 kHz (float in [-1, 1] or int16)."""
    if x.dtype == np.int16:
        x = x.astype(np.float32) / 32768.0
    raw = raw_features(x)
    if raw is None:
        return np.zeros(DIM, dtype=np.float32)
    return normalise(raw).astype(np.float32)
