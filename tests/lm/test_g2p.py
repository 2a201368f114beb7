"""Grapheme-to-phoneme: espeak-ng pronunciations mapped into the acoustic model's phone set."""

from __future__ import annotations

import logging
import random
import subprocess
from pathlib import Path

import jiwer
import pytest

from align.lm import g2p
from align.lm.lexicon import default_dict_path, load_lexicon, model_phones
from align.stt.engine_pocketsphinx import resolve_model

MISSING = ["sublicensing", "affero", "gpl", "copyleft", "relicensing", "noncommercially", "wipo", "lgpl"]


@pytest.fixture(scope="module")
def phones() -> set[str]:
    return model_phones(resolve_model(None).hmm) - {"SIL", "+NSN+", "+SPN+"}


@pytest.fixture(scope="module")
def cmudict() -> dict[str, list[str]]:
    return load_lexicon(default_dict_path())


def need_espeak():
    if g2p.espeak_path() is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng; bin/setup.sh does it)")


def test_model_phone_list_covers_cmudict(phones, cmudict):
    used = {p for prons in cmudict.values() for pr in prons for p in pr.split()}
    assert used == phones


def test_missing_words_get_model_phones(phones, cmudict):
    need_espeak()
    assert not any(w in cmudict for w in MISSING)
    got = g2p.pronounce(MISSING)
    assert set(got) == set(MISSING)
    for w, pr in got.items():
        assert pr.split(), w
        assert set(pr.split()) <= phones, (w, pr)
    # Spot checks against how these are said (letters spelled out for the acronym).
    assert got["gpl"] == "JH IY P IY EH L"
    assert got["sublicensing"].startswith("S AH B L AY S")


def test_g2p_close_to_cmudict_on_known_words(cmudict):
    """On words cmudict has, the espeak-ng mapping must reproduce its pronunciations closely."""
    need_espeak()
    sample = sorted(random.Random(7).sample(sorted(w for w in cmudict if w.isalpha()), 300))
    got = g2p.pronounce(sample)
    # Best match among cmudict's alternates: phone error rate per word.
    errs = [min(jiwer.wer(ref, got[w]) for ref in cmudict[w]) for w in sample]
    assert sum(errs) / len(errs) < 0.2
    assert sum(e == 0 for e in errs) / len(errs) > 0.5


def test_known_words_are_kept_and_one_espeak_process(monkeypatch):
    need_espeak()
    calls = []
    real_run = subprocess.run

    def counting_run(cmd, *a, **k):
        calls.append(cmd[0])
        return real_run(cmd, *a, **k)

    monkeypatch.setattr(subprocess, "run", counting_run)
    got = g2p.pronounce(["cat", "sublicensing", "affero", "gpl"], known={"cat": "K AE T"})
    assert got["cat"] == "K AE T"
    assert len([c for c in calls if Path(c).name == "espeak-ng"]) == 1


def test_letter_fallback_without_espeak(monkeypatch, phones, caplog):
    monkeypatch.setattr(g2p, "espeak_path", lambda: None)
    with caplog.at_level(logging.WARNING, logger="align.lm.g2p"):
        got = g2p.pronounce(["sublicensing", "gpl", "x"])
    assert "espeak-ng not found" in caplog.text
    for w, pr in got.items():
        assert pr.split() and set(pr.split()) <= phones, (w, pr)


def test_ipa_mapping_examples():
    # espeak-ng's IPA for "button" (glottal stop, syllabic n) and "separable" (r-coloured vowel).
    assert g2p.ipa_to_arpabet("b_ˈʌ_ʔ_n̩") == "B AH T AH N"
    assert g2p.ipa_to_arpabet("s_ˈɛ_p_ɚ_ɹ_ə_b_əl") == "S EH P ER AH B AH L"
    assert g2p.ipa_to_arpabet("") == ""
