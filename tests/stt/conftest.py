"""Fixtures for STT tests: GPL-3 sentences read by festival, and the GPL-3 as clean LM text."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from align.audio.records import Fragment  # noqa: E402
from tests.speechgen import GPL3, festival_missing_reason, gpl3_sentences, read_mono, speakable, synthesise, words  # noqa: E402

N_SENTENCES = 5


@pytest.fixture(scope="session")
def gpl_clean() -> str:
    """The whole GPL-3 as clean text: lower-case words separated by single spaces."""
    return " ".join(words(GPL3.read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def spoken(tmp_path_factory) -> tuple[list[Fragment], list[str]]:
    """(one fragment per sentence at 16 kHz, reference word strings): ~30 s of festival speech."""
    reason = festival_missing_reason()
    if reason:
        pytest.skip(reason)
    picked = [s for s in gpl3_sentences() if speakable(s) and 8 <= len(s.split()) <= 20][:N_SENTENCES]
    paths = synthesise(picked, tmp_path_factory.mktemp("stt-speech"))
    frags, refs = [], []
    for s, p in zip(picked, paths):
        x = read_mono(p, 16000)
        pcm = np.clip(np.rint(x * 32768.0), -32768, 32767).astype(np.int16)
        frags.append(Fragment(0.0, len(pcm) / 16.0, pcm))
        refs.append(" ".join(words(s)))
    return frags, refs
