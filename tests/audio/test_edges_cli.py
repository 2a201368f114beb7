"""Utterance edges through the `align` CLI with defaults: trimmed to the sound (align/bounds.py),
checked against the planted sentence times of synthesised speech."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.audio.conftest import SENTENCES
from tests.audio.test_e2e_cli import run_align, write_doc
from tests.speechgen import edge_equal, words

pytestmark = pytest.mark.skipif(shutil.which("lmplz") is None, reason="KenLM lmplz not installed (bin/setup.sh builds it)")


def errors(aligned, speech):
    out = []
    for s in speech.sentences:
        u = next(u for u in aligned if edge_equal(words(u["aligned-raw"]), words(s.text)))
        out.append((u["start"] - s.start_ms, u["end"] - s.end_ms))
    return out


def test_default_edges_meet_the_planted_times(four_sentences, tmp_path):
    wav = four_sentences.write_wav(tmp_path / "talk.wav")
    write_doc(tmp_path / "talk.txt", [(s, True) for s in SENTENCES])
    out, raw = tmp_path / "talk.aligned", tmp_path / "raw.aligned"
    proc = run_align("--audio", wav, "--script", tmp_path / "talk.txt", "--aligned", out)
    assert proc.returncode == 0, proc.stderr
    proc = run_align("--audio", wav, "--script", tmp_path / "talk.txt", "--aligned", raw, "--no-trim-edges")
    assert proc.returncode == 0, proc.stderr
    trimmed, untrimmed = errors(json.loads(out.read_text()), four_sentences), errors(json.loads(raw.read_text()), four_sentences)
    # the VAD's fragments keep ~100 ms of pause after the speech for the recogniser
    assert sum(e for _, e in untrimmed) / len(untrimmed) > 70, untrimmed
    for (ds, de), (us, ue) in zip(trimmed, untrimmed):
        # ends now at the sound (+ the 20 ms pad), never cut into it; starts were already there
        assert -30 <= de <= 40 and ue - de >= 60, (trimmed, untrimmed)
        assert us <= ds <= us + 20 and abs(ds) <= 40, (trimmed, untrimmed)


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox not installed (bin/setup.sh installs it)")
def test_reverberation_tails_are_cut_back_to_the_last_word(four_sentences, tmp_path):
    """sox reverberation after the dry sentences (the truth): the tail is sound to the energy
    trim, so the ends are ~200 ms late; the forced-aligned last word caps them."""
    import subprocess

    import numpy as np
    import soundfile as sf

    dry = four_sentences.write_wav(tmp_path / "dry.wav")
    wav = tmp_path / "talk.wav"
    subprocess.run(["sox", str(dry), str(tmp_path / "wet.wav"), "reverb", "40", "50", "70", "gain", "-3"], check=True)
    x, r = sf.read(tmp_path / "wet.wav", dtype="int16")
    sf.write(wav, x[:len(four_sentences.samples)], r, subtype="PCM_16")
    write_doc(tmp_path / "talk.txt", [(s, True) for s in SENTENCES])
    out, energy = tmp_path / "talk.aligned", tmp_path / "energy.aligned"
    proc = run_align("--audio", wav, "--script", tmp_path / "talk.txt", "--aligned", out)
    assert proc.returncode == 0, proc.stderr
    proc = run_align("--audio", wav, "--script", tmp_path / "talk.txt", "--aligned", energy, "--trim-word-cap-ms", "none")
    assert proc.returncode == 0, proc.stderr
    capped = [de for _, de in errors(json.loads(out.read_text()), four_sentences)]
    uncapped = [de for _, de in errors(json.loads(energy.read_text()), four_sentences)]
    assert np.median(uncapped) > 150, uncapped
    assert np.median(capped) <= min(110, np.median(uncapped) - 80) and min(capped) >= -60, (capped, uncapped)


def test_last_word_ends_in_workers_equal_in_process(four_sentences, monkeypatch):
    """Forced alignment of the long tails: the same ends from worker processes as in this
    process, and each near its sentence's planted end."""
    from align import bounds

    r = four_sentences.rate
    tasks = [(four_sentences.samples[int(s.start_ms * r / 1000) - 1600:int(s.end_ms * r / 1000) + 3200],
              words(s.text), r) for s in four_sentences.sentences]
    local = bounds.last_word_ends(tasks, workers=1)
    monkeypatch.setattr(bounds, "POOL_MIN_S", 0.0)
    pooled = bounds.last_word_ends(tasks, workers=2)
    assert pooled == local
    for s, end in zip(four_sentences.sentences, local):
        assert end is not None and abs(end - 100.0 - (s.end_ms - s.start_ms)) <= 60, (end, s)
