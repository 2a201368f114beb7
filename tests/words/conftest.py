"""Fixtures for word timing tests: festival sentences with festival's own word timings."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.speechgen import festival_missing_reason, gpl3_sentences, read_mono, speakable, synthesise_timed, words  # noqa: E402

VOICES = ("cmu_us_slt_arctic_hts", "kal_diphone")
N_SENTENCES = 3


@pytest.fixture(scope="session")
def timed_sentences(tmp_path_factory):
    """[(voice, int16 samples at 16 kHz, [TimedWord])]: 3 GPL-3 sentences per voice (~40 s)."""
    reason = festival_missing_reason()
    if reason:
        pytest.skip(reason)
    cache = tmp_path_factory.mktemp("timed")
    texts = [s for s in gpl3_sentences() if speakable(s) and 8 <= len(s.split()) <= 25][:N_SENTENCES]
    out = []
    rng = np.random.default_rng(1)
    for voice in VOICES:
        for text, (wav, truth) in zip(texts, synthesise_timed(texts, cache, voice)):
            assert [w.word for w in truth] == words(text)
            x = read_mono(wav, 16000)
            x = x + rng.normal(0.0, 1e-3, len(x)).astype(np.float32)
            out.append((voice, np.clip(np.rint(x * 32768), -32768, 32767).astype(np.int16), truth))
    return out
