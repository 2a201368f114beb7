"""pocketsphinx on festival speech: with and without the document LM, workers, model dirs, errors."""

from __future__ import annotations

import logging
import re

import jiwer
import numpy as np
import pytest

from align.audio.records import Fragment
from align.common.errors import UserError
from align.lm.kenlm import find_kenlm_tool
from align.stt.base import SttParams
from align.stt.engine_pocketsphinx import clean_hypothesis, resolve_model
from align.stt.pool import transcribe_fragments
from align.stt.registry import engine_identity, load_engine, make_engine_spec


@pytest.fixture(scope="module")
def lm_spec(gpl_clean, tmp_path_factory):
    try:
        find_kenlm_tool("lmplz")
    except UserError as e:
        pytest.skip(str(e))
    return make_engine_spec(SttParams(), gpl_clean, lm_cache_dir=tmp_path_factory.mktemp("lm"))


@pytest.fixture(scope="module")
def lm_transcripts(spoken, lm_spec):
    return transcribe_fragments(spoken[0], lm_spec, workers=1, show_progress=False)


def test_document_lm_makes_in_document_sentences_nearly_exact(spoken, lm_transcripts):
    frags, refs = spoken
    wer = jiwer.wer(refs, lm_transcripts)
    # Measured 0.0 on these sentences; allows one slip in ~60 words.
    assert wer <= 0.03, list(zip(refs, lm_transcripts))


def test_without_document_lm_is_worse_but_works(spoken, lm_transcripts, gpl_clean):
    frags, refs = spoken
    spec = make_engine_spec(SttParams(own_lm=False), gpl_clean)
    assert spec.lm_arpa is None and spec.lm_hash is None
    hyp = transcribe_fragments(frags, spec, workers=1, show_progress=False)
    wer = jiwer.wer(refs, hyp)
    assert 0.0 < wer < 0.5  # the general LM: recognisable English, but with errors (measured ~0.2)
    assert wer > jiwer.wer(refs, lm_transcripts)


def test_transcript_format(lm_transcripts):
    for t in lm_transcripts:
        assert re.fullmatch(r"[a-z']+( [a-z']+)*", t), t


def test_two_workers_equal_one_and_order_is_kept(spoken, lm_spec, lm_transcripts):
    frags, _ = spoken
    assert transcribe_fragments(frags, lm_spec, workers=2, show_progress=False) == lm_transcripts
    # Decoding order does not leak into results (batch CMN: no state between fragments).
    rev = transcribe_fragments(frags[::-1], lm_spec, workers=1, show_progress=False)
    assert rev[::-1] == lm_transcripts


def test_empty_and_failing_fragments(spoken, lm_spec, caplog):
    frags, _ = spoken
    bad = Fragment(0.0, 10.0, np.array(["not", "audio"], dtype=object))
    empty = Fragment(0.0, 0.0, np.zeros(0, np.int16))
    with caplog.at_level(logging.WARNING, logger="align.stt.pool"):
        out = transcribe_fragments([frags[0], bad, empty], lm_spec, workers=1, show_progress=False)
    assert out[1] == "" and out[2] == "" and out[0]
    assert "STT failed on fragment 1" in caplog.text and "empty transcript" in caplog.text


def test_model_dir_in_both_layouts(tmp_path, spoken, lm_spec, lm_transcripts):
    """A copy (symlinks) of the packaged model given with --stt-model-dir gives the same transcripts."""
    src = resolve_model(None)
    am = tmp_path / "m" / "acoustic"
    am.mkdir(parents=True)
    for f in src.hmm.iterdir():
        (am / f.name).symlink_to(f)
    (tmp_path / "m" / "my.dict").symlink_to(src.dict)
    for model_dir in (tmp_path / "m", am):  # parent-with-subdirectory layout, and the AM itself
        m = resolve_model(str(model_dir))
        assert m.hmm == am and m.dict == tmp_path / "m" / "my.dict" and m.lm is None
    with pytest.raises(UserError, match="no language model"):  # no text: no LM, and none in the dir
        make_engine_spec(SttParams(model_dir=str(tmp_path / "m")), None)
    spec = type(lm_spec)(**{**lm_spec.__dict__, "model_dir": str(am)})
    assert transcribe_fragments(spoken[0][:2], spec, show_progress=False) == lm_transcripts[:2]


def test_bad_model_dirs(tmp_path):
    with pytest.raises(UserError, match="no such directory"):
        make_engine_spec(SttParams(model_dir=str(tmp_path / "nope")), None)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="not a pocketsphinx model"):
        make_engine_spec(SttParams(model_dir=str(tmp_path / "empty")), None)
    am = tmp_path / "am"
    am.mkdir()
    (am / "mdef").write_bytes(b"x")
    with pytest.raises(UserError, match="missing means, variances"):
        make_engine_spec(SttParams(model_dir=str(am)), None)


def test_unknown_engine_and_bad_rate():
    with pytest.raises(UserError, match="unknown --stt-engine 'kaldi'.*pocketsphinx"):
        make_engine_spec(SttParams(engine="kaldi"), None)
    with pytest.raises(UserError, match="--stt-model-rate"):
        make_engine_spec(SttParams(model_rate=0), None)
    with pytest.raises(UserError, match="at least 13600 Hz: pass --stt-model-rate 16000"):
        make_engine_spec(SttParams(model_rate=8000), None)


def test_identity_tracks_lm_and_is_stable(lm_spec, gpl_clean, tmp_path):
    a = engine_identity(lm_spec)
    assert a == engine_identity(lm_spec) == load_engine(lm_spec).identity()
    assert a["lm_hash"] == lm_spec.lm_hash and a["engine"] == "pocketsphinx"
    other = make_engine_spec(SttParams(), gpl_clean + " extra words", lm_cache_dir=tmp_path)
    assert engine_identity(other)["lm_hash"] != a["lm_hash"]
    assert engine_identity(make_engine_spec(SttParams(own_lm=False), None)) != a


def test_clean_hypothesis():
    assert clean_hypothesis("<s> Hello <sil> [NOISE] world(2) ++um++ </s>") == "hello world"


def test_worker_errors_cross_process_boundary(spoken, lm_spec, tmp_path, caplog):
    frags, _ = spoken
    bad = Fragment(0.0, 10.0, np.array(["not", "audio"], dtype=object))
    with caplog.at_level(logging.WARNING, logger="align.stt.pool"):
        out = transcribe_fragments([bad, frags[1]], lm_spec, workers=2, show_progress=False)
    assert out[0] == "" and out[1] and "STT failed on fragment 0" in caplog.text
    # An engine that cannot load in the workers stops the run with its own message (no hang).
    broken = type(lm_spec)(**{**lm_spec.__dict__, "model_dir": str(tmp_path / "gone")})
    with pytest.raises(UserError, match="no such directory"):
        transcribe_fragments(frags[:3], broken, workers=2, show_progress=False)


def test_no_state_carried_between_fragments(spoken):
    """Each fragment's transcript is independent of what the decoder saw before: 1.5 s pieces
    decoded in order and in reverse agree (without resetting the front end per fragment, one of
    these pieces came out differently)."""
    frags, _ = spoken
    pieces = [Fragment(0.0, 1500.0, f.samples[i : i + 24000])
              for f in frags for i in range(0, len(f.samples) - 24000, 24000)]
    assert len(pieces) >= 10
    spec = make_engine_spec(SttParams(own_lm=False), None)
    fwd = transcribe_fragments(pieces, spec, show_progress=False)
    rev = transcribe_fragments(pieces[::-1], spec, show_progress=False)[::-1]
    assert fwd == rev


def test_noisy_audio_decodes_without_the_flat_pass(spoken, lm_spec, lm_transcripts):
    """transcribe marks filtered audio noisy: the decoder then runs without its flat-lexicon pass
    (its config says so); clean speech still comes out nearly exact, the normal decoder is
    untouched, and the setting is part of the engine's identity (the .tlog key)."""
    import dataclasses

    frags, refs = spoken
    noisy = dataclasses.replace(lm_spec, noisy=True)
    fast, slow = load_engine(noisy), load_engine(lm_spec)
    assert fast._decoder.config["fwdflat"] is False and slow._decoder.config["fwdflat"] is True
    hyp = [fast.transcribe(f.samples) for f in frags]
    assert [slow.transcribe(f.samples) for f in frags] == lm_transcripts
    assert jiwer.wer(refs, hyp) <= 0.05, list(zip(refs, hyp))
    assert engine_identity(noisy)["noisy_decoder"] == {"fwdflat": False}
