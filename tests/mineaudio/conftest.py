"""Fixtures for `mine segment` / `mine embed`: synthetic voiced signals of known pitch and rhythm."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

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


@pytest.fixture
def tone_file(tmp_path) -> tuple[Path, list[tuple[int, int]]]:
    """A wav with three voiced stretches (different pitch/rate) separated by silences, and their spans
    (frames at 16 kHz)."""
    parts, spans, pos = [silence(0.5)], [], int(0.5 * RATE)
    for f0, rate, dur in ((120, 4, 2.0), (220, 6, 1.5), (160, 3, 2.5)):
        x = voiced(f0, dur, syl_rate=rate)
        spans.append((pos, pos + len(x)))
        parts += [x, silence(1.0)]
        pos += len(x) + int(1.0 * RATE)
    return write_wav(tmp_path / "tones.wav", np.concatenate(parts)), spans
