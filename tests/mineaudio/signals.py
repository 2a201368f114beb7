"""Synthetic voiced signals of known pitch and rhythm, and wav writing (for the mine-from-audio tests).

Imported as `tests.mineaudio.signals` (a plain `conftest` import would clash with other test
directories' conftest modules)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

RATE = 16000


def voiced(f0: float, seconds: float, *, syl_rate: float | None = None, duty: float = 0.55,
           glide_to: float | None = None, amp: float = 0.3, seed: int = 0) -> np.ndarray:
    """A harmonic complex at f0 (optionally gliding to glide_to), gated into 'syllables' of
    syl_rate per second (duty = voiced part of each cycle, smooth edges), plus faint noise."""
    n = int(seconds * RATE)
    f = np.full(n, f0) if glide_to is None else np.geomspace(f0, glide_to, n)
    phase = 2 * np.pi * np.cumsum(f) / RATE
    x = sum(np.sin(k * phase) / k for k in range(1, 10))
    if syl_rate:
        t = np.arange(n) / RATE
        gate = (np.mod(t * syl_rate, 1.0) < duty).astype(float)
        k = np.hanning(161)
        gate = np.convolve(gate, k / k.sum(), mode="same")
        x = x * gate
    x = amp * x / np.max(np.abs(x))
    x = x + np.random.default_rng(seed).normal(0, 1e-4, n)
    return x.astype(np.float32)


def silence(seconds: float, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 1e-4, int(seconds * RATE)).astype(np.float32)


def write_wav(path: Path, x: np.ndarray, rate: int = RATE) -> Path:
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), x, rate, subtype="PCM_16")
    return path
