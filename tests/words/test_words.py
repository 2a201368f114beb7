"""Word records of utterances (align/words.py): original ranges, times in the utterance, refinement."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from align.stt.forced import ForcedAligner, ForcedParams
from align.words import WordParams, check_words, label_words, original_range, refined_bounds, utterance_words

LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")


def test_label_words_and_original_ranges_of_a_verbalised_number():
    original = "Press 2, then  wait."
    # clean "press two then wait": "two" maps all three characters to the "2" at offset 6
    clean = "press two then wait"
    positions = np.array([0, 1, 2, 3, 4, 5, 6, 6, 6, 7, 9, 10, 11, 12, 13, 15, 16, 17, 18])
    assert len(positions) == len(clean)
    toks = label_words(clean, 0, len(clean))
    assert [w for w, _, _ in toks] == ["press", "two", "then", "wait"]
    spans = [original_range(positions, s, e) for _, s, e in toks]
    assert [original[s:e] for s, e in spans] == ["Press", "2", "then", "wait"]
    assert label_words(clean, 6, 14) == [("two", 6, 9), ("then", 10, 14)]


def test_refined_bounds():
    words = [{"start": 1200.0, "end": 1500.0, "aligned": True}, {"start": 1500.0, "end": 1900.0, "aligned": True},
             {"start": 1900.0, "end": 1950.0, "aligned": False}]
    p = WordParams(refine_bounds=True, end_pad_ms=50.0, start_pad_ms=0.0)
    assert refined_bounds(words, 1000.0, 2000.0, p) == (1200.0, 2000.0)   # 1950 + 50, capped
    assert refined_bounds(words[:2], 1000.0, 2000.0, p) == (1200.0, 1950.0)
    assert refined_bounds([dict(words[2])], 1000.0, 2000.0, p) == (1000.0, 2000.0)


@pytest.mark.skipif(not (LIBRIVOX / "transcription").exists(), reason="pocketsphinx-testdata not installed")
def test_librivox_words_monotone_inside_and_mapped():
    import soundfile as sf

    aligner = ForcedAligner(ForcedParams())
    lines = (LIBRIVOX / "transcription").read_text().splitlines()[:2]
    for line in lines:
        m = re.match(r"\s*<s>(.*)</s>\s*\((\S+)\)", line)
        text, fid = " ".join(m[1].split()), m[2]
        x, rate = sf.read(LIBRIVOX / f"{fid}.wav", dtype="int16")
        original = "  " + text.upper() + "!"       # offsets shift by 2 in the original
        positions = np.arange(len(text)) + 2
        dur = len(x) * 1000.0 / rate
        start, end = 150.0, dur - 100.0
        words = utterance_words(aligner, x, rate, start, end, text, positions, 0, len(text))
        assert [w["word"] for w in words] == text.split()
        assert check_words(words, start, end)
        assert all(w["aligned"] for w in words)
        assert all(original[w["text-start"]:w["text-end"]].lower() == w["word"] for w in words)
        # words lie on the speech: frames inside words are much louder than frames between them
        flen = rate // 100
        e = 10 * np.log10((x[: len(x) // flen * flen].astype(float).reshape(-1, flen) ** 2).mean(1) + 1)
        inside = np.zeros(len(e), bool)
        for w in words:
            inside[int(w["start"] / 10): int(w["end"] / 10)] = True
        inside_out = np.zeros(len(e), bool)
        inside_out[int(start / 10): int(end / 10)] = True
        assert e[inside].mean() > e[inside_out & ~inside].mean() + 15   # 200 ms off: < 14 dB
    assert not check_words([{"start": 10.0, "end": 20.0}, {"start": 15.0, "end": 30.0}], 0, 100)


def test_verbalised_words_point_at_the_original_token():
    """Through the project's own normalisation (numbers, symbols, abbreviations read aloud)."""
    from align.text.alphabet import ENGLISH_LABELS, Alphabet
    from align.text.normalise import Phrase, TextParams, normalise

    orig = "Press 2 to continue, at 21:30 for $5.50 & more. Dr. Smith agreed."
    ct = normalise(orig, [Phrase(0, len(orig))], Alphabet.from_labels(ENGLISH_LABELS), TextParams())
    got = [(w, orig[slice(*original_range(ct.positions, s, e, ct.ends))])
           for w, s, e in label_words(ct.clean, 0, len(ct.clean))]
    assert ("two", "2") in got and ("twenty", "21:30") in got and ("thirty", "21:30") in got
    assert ("dollars", "$5.50") in got and ("and", "&") in got and ("doctor", "Dr.") in got
    assert ("smith", "Smith") in got and ("continue", "continue") in got
