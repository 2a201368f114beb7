"""Shared fixtures for audio tests: festival speech with planted pauses, cached per test session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # so `tests.speechgen` imports under plain `pytest` too
    sys.path.insert(0, str(ROOT))

from tests.speechgen import Speech, build_speech, festival_missing_reason  # noqa: E402

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "We hold these truths to be self evident.",
    "Free software is a matter of liberty, not price.",
    "Please call me back when you have a moment.",
]
PAUSES_MS = [700.0, 900.0, 1200.0]


@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory) -> Path:
    reason = festival_missing_reason()
    if reason:
        pytest.skip(reason)
    return tmp_path_factory.mktemp("speech-cache")


@pytest.fixture(scope="session")
def four_sentences(speech_cache) -> Speech:
    """~13 s: four sentences with 0.7-1.2 s planted pauses, 16 kHz."""
    return build_speech(SENTENCES, PAUSES_MS, speech_cache, rate=16000)


@pytest.fixture(scope="session")
def four_sentences_wav(four_sentences, tmp_path_factory) -> Path:
    return four_sentences.write_wav(tmp_path_factory.mktemp("wav") / "four.wav")
