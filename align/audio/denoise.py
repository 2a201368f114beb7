"""Noise suppression in front of the VAD and the recogniser, for recordings with a noisy background.

A recording made in a noisy room (fan, traffic, hum, a phone line's hiss) keeps its background in
the pauses. At 10-15 dB signal-to-noise ratio webrtcvad cuts sentences into pieces and both
recognisers garble words (pocketsphinx's features are ruined; Whisper tiny.en hallucinates).

1. `estimate_snr_db`: the recording's signal-to-noise ratio from its 20 ms frame energies: the
   noise is the mean of the quietest `QUIET_SHARE` of the frames (pauses hold at least that much of
   any read recording), the speech the mean of the loudest `LOUD_SHARE` less the noise.
2. Only when it is under `VadParams.denoise_below_db` ("auto", the default; "on" always, "off"
   never) is the audio filtered: short-time Fourier transform (32 ms periodic Hann frames, half
   overlap, so overlap-add restores the signal exactly where the gain is 1), a Wiener gain per
   frequency bin with the "decision-directed" a-priori SNR (Ephraim and Malah 1984: the previous
   frame's cleaned power, smoothed with weight `DD_ALPHA`, keeps the gain from fluttering frame to
   frame, which is what makes plain spectral subtraction "musical"), floored at `FLOOR_DB` so the
   background is turned down, never cut to silence (a recogniser trained on real audio dislikes
   holes more than a faint even noise).
3. The noise spectrum is estimated per block of `BLOCK_S` seconds from its quietest frames, then
   each bin takes the minimum over the block and its neighbours (a block that is all speech takes
   its neighbours' pauses), interpolated frame by frame between block centres: a background that
   changes over an hour of audio is followed; memory stays at one block's spectra.

Clean recordings (synthetic voices, studio audiobooks: 30-60 dB) are left untouched by "auto",
so their fragments and transcripts do not change. Deterministic: no randomness, float64 throughout.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

DENOISE_MODES = ("auto", "on", "off")
FRAME_MS = 32           # STFT frame (512 samples at 16 kHz), hop half of it
BLOCK_S = 20.0          # noise spectrum estimated per block of this many seconds
QUIET_SHARE = 0.15      # the quietest share of frames taken as background (per block / whole file)
LOUD_SHARE = 0.30       # the loudest share of frames taken as speech (SNR estimate)
FLOOR_DB = -15.0        # lowest gain: the background is turned down by this much, not removed
DD_ALPHA = 0.98         # decision-directed smoothing of the a-priori SNR
SNR_FRAME_MS = 20
SILENCE_POWER = 1.0     # one LSB squared: the noise power of digital silence (int16 scale)


def estimate_snr_db(samples: np.ndarray, rate: int) -> float:
    """Signal-to-noise ratio (dB) of int16 `samples`: loudest frames over quietest frames."""
    flen = max(1, rate * SNR_FRAME_MS // 1000)
    n = len(samples) // flen
    if n < 10:
        return float("inf")
    e = np.sort((samples[:n * flen].astype(np.float64).reshape(n, flen) ** 2).mean(axis=1))
    noise = max(float(e[:max(1, int(n * QUIET_SHARE))].mean()), SILENCE_POWER)
    loud = float(e[n - max(1, int(n * LOUD_SHARE)):].mean())
    return 10.0 * np.log10(max(loud - noise, SILENCE_POWER) / noise)


def should_denoise(mode: str, snr_db: float, below_db: float) -> bool:
    return mode == "on" or (mode == "auto" and snr_db < below_db)


def prepare_samples(samples: np.ndarray, rate: int, mode: str, below_db: float) -> tuple[np.ndarray, bool, str]:
    """(samples to run VAD and speech-to-text on, whether they were filtered, a log line saying why)."""
    if mode == "off":
        return samples, False, "noise suppression off"
    snr = estimate_snr_db(samples, rate)
    if not should_denoise(mode, snr, below_db):
        return samples, False, f"noise suppression not needed: estimated SNR {snr:.1f} dB >= {below_db:g} dB"
    why = "on" if mode == "on" else f"estimated SNR {snr:.1f} dB < {below_db:g} dB"
    return denoise(samples, rate), True, f"noise suppression applied ({why})"


def _frames(rate: int) -> tuple[int, int, np.ndarray]:
    n = 1 << int(round(np.log2(rate * FRAME_MS / 1000.0)))
    hop = n // 2
    win = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)   # periodic Hann: halves sum to 1
    return n, hop, win


def _spectra(x: np.ndarray, first: int, count: int, n: int, hop: int, win: np.ndarray) -> np.ndarray:
    """Spectra of frames first..first+count-1 of the padded signal `x`."""
    idx = (first + np.arange(count))[:, None] * hop + np.arange(n)[None, :]
    return np.fft.rfft(x[idx] * win, axis=1)


def _noise_per_block(x: np.ndarray, m: int, n: int, hop: int, win: np.ndarray, block: int) -> np.ndarray:
    starts = list(range(0, m, block))
    est = np.empty((len(starts), n // 2 + 1))
    for k, f0 in enumerate(starts):
        p = np.abs(_spectra(x, f0, min(block, m - f0), n, hop, win)) ** 2
        e = p.sum(axis=1)
        q = e <= np.quantile(e, QUIET_SHARE)
        est[k] = p[q].mean(axis=0)
    # a block that is all speech takes its neighbours' background
    lo = np.minimum(est, np.vstack([est[:1], est[:-1]]))
    return np.maximum(np.minimum(lo, np.vstack([est[1:], est[-1:]])), SILENCE_POWER * n / 2)


def denoise(samples: np.ndarray, rate: int) -> np.ndarray:
    """Wiener-filtered copy of mono int16 `samples` (same length, int16)."""
    n, hop, win = _frames(rate)
    x = np.concatenate([np.zeros(n), samples.astype(np.float64), np.zeros(n + hop)])
    m = (len(x) - n) // hop + 1
    block = max(8, int(BLOCK_S * rate / hop))
    noise = _noise_per_block(x, m, n, hop, win, block)
    centres = np.arange(len(noise)) * block + block / 2.0
    gmin = 10.0 ** (FLOOR_DB / 20.0)
    y = np.zeros(len(x))
    prev_clean = np.zeros(n // 2 + 1)   # |cleaned spectrum|^2 of the previous frame
    for f0 in range(0, m, block):
        cnt = min(block, m - f0)
        spec = _spectra(x, f0, cnt, n, hop, win)
        t = f0 + np.arange(cnt)
        nz = np.empty((cnt, n // 2 + 1))
        for b in range(n // 2 + 1):
            nz[:, b] = np.interp(t, centres, noise[:, b])
        gains, prev_clean = _dd_gains(np.abs(spec) ** 2, nz, prev_clean, gmin)
        frames = np.fft.irfft(spec * gains, n=n, axis=1)
        for i in range(cnt):
            s = (f0 + i) * hop
            y[s:s + n] += frames[i]
    out = y[n:n + len(samples)]
    return np.clip(np.rint(out), -32768, 32767).astype(np.int16)


def _dd_gains(power: np.ndarray, noise: np.ndarray, prev_clean: np.ndarray, gmin: float):
    """Wiener gains frame by frame (decision-directed a-priori SNR), and the last frame's clean power."""
    gains = np.empty_like(power)
    post = power / noise
    for i in range(len(power)):
        prio = DD_ALPHA * prev_clean / noise[i] + (1.0 - DD_ALPHA) * np.maximum(post[i] - 1.0, 0.0)
        g = np.maximum(prio / (1.0 + prio), gmin)
        gains[i] = g
        prev_clean = g * g * power[i]
    return gains, prev_clean
