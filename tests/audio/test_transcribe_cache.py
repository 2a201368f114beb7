"""transcribe_audio and its .tlog cache, with the real pocketsphinx engine and document LM."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import soundfile as sf

from align import transcribe as tr
from align.audio.vad import VadParams
from align.common import fileio
from align.stt import pool
from align.stt.base import SttParams
from align.tlog import TLOG_FORMAT, load_tlog
from tests.audio.conftest import SENTENCES

pytest.importorskip("pocketsphinx")
needs_lmplz = pytest.mark.skipif(shutil.which("lmplz") is None, reason="KenLM lmplz not installed (bin/setup.sh builds it)")

CLEAN = " ".join(s.lower().replace(",", "").replace(".", "") for s in SENTENCES)
VAD = VadParams(aggressiveness=2)
STT = SttParams()


@pytest.fixture
def counting(monkeypatch):
    """Counts calls of the real transcribe_fragments (the work the cache saves)."""
    calls = []
    real = pool.transcribe_fragments

    def wrapper(fragments, spec, workers=1, show_progress=True, **kw):
        calls.append(len(fragments))
        return real(fragments, spec, workers, show_progress, **kw)

    monkeypatch.setattr(pool, "transcribe_fragments", wrapper)
    return calls


@pytest.fixture
def wav(four_sentences_wav, tmp_path) -> Path:
    return Path(shutil.copy(four_sentences_wav, tmp_path / "speech.wav"))


@pytest.fixture(scope="module")
def lm_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("lm-cache")


def run(wav, tlog, lm_cache, text=CLEAN, vad=VAD, stt=STT):
    return tr.transcribe_audio(wav, tlog, text, vad, stt, lm_cache_dir=lm_cache, show_progress=False)


def words(s: str) -> set[str]:
    return set(s.lower().replace(",", "").replace(".", "").split())


@needs_lmplz
def test_transcribes_writes_and_reuses(wav, lm_cache, counting, caplog):
    tlog = wav.with_suffix(".tlog")
    first = run(wav, tlog, lm_cache)
    assert counting == [4]
    assert len(first) == 4
    for e, s in zip(first, SENTENCES):
        # real recognition with the document LM: most of each sentence's words come back
        got = set(e.transcript.split())
        assert len(got & words(s)) >= 0.7 * len(words(s)), (e.transcript, s)
    data = json.loads(tlog.read_text())
    assert data["format"] == TLOG_FORMAT and data["producer"]["vad"]["aggressiveness"] == 2
    assert data["producer"]["audio_sha256"] == tr.sha256_file(wav)
    entries, producer = load_tlog(tlog)
    assert [(e.start, e.end, e.transcript) for e in entries] == [(e.start, e.end, e.transcript) for e in first]

    caplog.set_level("INFO", logger="align.transcribe")
    again = run(wav, tlog, lm_cache)
    assert counting == [4], "the second run must not transcribe again"
    assert [(e.start, e.end, e.transcript) for e in again] == [(e.start, e.end, e.transcript) for e in first]
    assert "reusing transcript log" in caplog.text


@needs_lmplz
@pytest.mark.parametrize("change", ["vad", "frame", "tail", "text", "audio"])
def test_changed_inputs_invalidate(wav, lm_cache, counting, change):
    tlog = wav.with_suffix(".tlog")
    run(wav, tlog, lm_cache)
    before = json.loads(tlog.read_text())["producer"]
    kwargs = {}
    if change == "vad":
        kwargs["vad"] = VadParams(aggressiveness=1)
    elif change == "frame":
        kwargs["vad"] = VadParams(aggressiveness=2, frame_ms=30, padding=10)
    elif change == "text":
        kwargs["text"] = CLEAN + " an extra sentence for the model"
    elif change == "tail":
        kwargs["vad"] = VadParams(aggressiveness=2, tail_ms=200)
    else:
        x, r = sf.read(wav, dtype="int16")
        x[100] ^= 1  # one sample, same path and length
        sf.write(wav, x, r, subtype="PCM_16")
    run(wav, tlog, lm_cache, **kwargs)
    assert len(counting) == 2, f"a changed {change} must recompute"
    after = json.loads(tlog.read_text())["producer"]
    assert after != before


@needs_lmplz
def test_worker_count_does_not_invalidate(wav, lm_cache, counting):
    tlog = wav.with_suffix(".tlog")
    run(wav, tlog, lm_cache)
    run(wav, tlog, lm_cache, stt=SttParams(workers=2))
    assert len(counting) == 1


@needs_lmplz
@pytest.mark.parametrize("damage", ["truncated", "garbage", "wrong-object", "edited-body", "v1-no-checksum"])
def test_damaged_or_foreign_tlog_is_recomputed(wav, lm_cache, counting, damage):
    tlog = wav.with_suffix(".tlog")
    run(wav, tlog, lm_cache)
    good = tlog.read_text()
    if damage == "truncated":
        tlog.write_text(good[: len(good) // 2])
    elif damage == "edited-body":
        # same producer record, a transcript changed by hand: not trusted as a cache
        data = json.loads(good)
        data["fragments"][1]["transcript"] = "something nobody said"
        tlog.write_text(json.dumps(data))
    elif damage == "v1-no-checksum":
        data = json.loads(good)
        del data["fragments_sha256"]
        data["version"] = 1
        tlog.write_text(json.dumps(data))
    elif damage == "garbage":
        tlog.write_bytes(b"\xff\xfe not json")
    else:
        tlog.write_text(json.dumps({"format": "something-else", "fragments": []}))
    entries = run(wav, tlog, lm_cache)
    assert len(counting) == 2
    assert len(entries) == 4
    assert json.loads(tlog.read_text()) == json.loads(good)  # rewritten, same content (deterministic)


@needs_lmplz
def test_plain_list_tlog_is_never_replaced(wav, lm_cache, counting):
    """Another tool's transcripts (a plain list) at the .tlog path: refused, file untouched."""
    from align.common.errors import UserError

    tlog = wav.with_suffix(".tlog")
    theirs = json.dumps([{"start": 0, "end": 900, "transcript": "their own words"}])
    tlog.write_text(theirs)
    with pytest.raises(UserError, match="another tool.*will not overwrite.*--tlog NEW.tlog"):
        run(wav, tlog, lm_cache)
    assert tlog.read_text() == theirs
    assert counting == []
    assert sorted(p.name for p in wav.parent.iterdir()) == ["speech.tlog", "speech.wav"]


@needs_lmplz
def test_crash_while_writing_leaves_no_tlog(wav, lm_cache, monkeypatch):
    tlog = wav.with_suffix(".tlog")

    def crash(fd):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(fileio.os, "fsync", crash)
    with pytest.raises(OSError, match="simulated"):
        run(wav, tlog, lm_cache)
    assert not tlog.exists()
    # no temp file left behind; the journal of finished fragments stays for the rerun
    assert sorted(p.name for p in wav.parent.iterdir()) == ["speech.tlog.journal", "speech.wav"]


@needs_lmplz
def test_crash_keeps_previous_tlog_intact(wav, lm_cache, monkeypatch):
    tlog = wav.with_suffix(".tlog")
    run(wav, tlog, lm_cache)
    good = tlog.read_bytes()
    monkeypatch.setattr(fileio.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError("simulated")))
    with pytest.raises(OSError):
        run(wav, tlog, lm_cache, vad=VadParams(aggressiveness=1))
    assert tlog.read_bytes() == good


def test_missing_audio_is_a_user_error(tmp_path):
    from align.common.errors import UserError

    with pytest.raises(UserError, match="not found.*nope.wav"):
        tr.transcribe_audio(tmp_path / "nope.wav", tmp_path / "nope.tlog", "x", VAD, STT, show_progress=False)
    assert not (tmp_path / "nope.tlog").exists()
