"""Verse through the `align` CLI with defaults: a reader pauses at every line end, and a training set
of read poetry wants a line per utterance, not the sentences that run over several lines."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.audio.test_e2e_cli import run_align
from tests.speechgen import build_speech, edge_equal, words

pytestmark = pytest.mark.skipif(shutil.which("lmplz") is None, reason="KenLM lmplz not installed (bin/setup.sh builds it)")

LINES = [
    "Shall I compare thee to a summer's day?",
    "Thou art more lovely and more temperate:",
    "Rough winds do shake the darling buds of May,",
    "And summer's lease hath all too short a date;",
    "Sometime too hot the eye of heaven shines,",
    "And often is his gold complexion dimm'd;",
]


@pytest.fixture(scope="module")
def sonnet(speech_cache, tmp_path_factory):
    d = tmp_path_factory.mktemp("sonnet")
    speech = build_speech(LINES, [700.0, 650.0, 700.0, 1200.0, 650.0], speech_cache)
    speech.write_wav(d / "sonnet.wav")
    # a title and an author line nobody reads, then the quatrains
    (d / "sonnet.txt").write_text("Sonnet 18\n\nby William Shakespeare\n\n" + "\n".join(LINES[:4]) + "\n\n"
                                  + "\n".join(LINES[4:]) + "\n", encoding="utf-8")
    return d, speech


def aligned(d: Path, *extra: str) -> list[dict]:
    out = d / f"out{len(extra)}.aligned"
    r = run_align("--audio", d / "sonnet.wav", "--script", d / "sonnet.txt", "--aligned", out, "--force", *extra)
    assert r.returncode == 0, r.stderr
    return json.loads(out.read_text(encoding="utf-8"))


def test_each_line_is_one_utterance_by_default(sonnet):
    d, speech = sonnet
    utts = aligned(d)
    assert len(utts) == len(LINES)
    for u, s in zip(utts, speech.sentences):
        assert edge_equal(words(u["aligned-raw"]), words(s.text))
        assert "\n" not in u["aligned-raw"]
        assert abs(u["start"] - s.start_ms) <= 250 and abs(u["end"] - s.end_ms) <= 250


def test_wrapped_reads_it_as_prose_sentences(sonnet):
    d, _ = sonnet
    utts = aligned(d, "--text-lines", "wrapped")
    # sentences: line 1; lines 2-4 (one sentence over three lines); lines 5-6
    assert len(utts) < len(LINES)
    assert any("temperate:\nRough" in u["aligned-raw"] for u in utts)
