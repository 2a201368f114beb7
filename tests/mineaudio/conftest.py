"""Fixtures for `mine segment` / `mine embed` (signal helpers in tests/mineaudio/signals.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.mineaudio.signals import RATE, silence, voiced, write_wav  # noqa: E402

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
