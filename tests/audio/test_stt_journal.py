"""Resumable speech-to-text: the journal of finished batches, and a run interrupted half way."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from align import transcribe as tr
from align.audio.vad import VadParams
from align.stt import pool
from align.stt.base import SttParams
from align.stt.journal import SttJournal, journal_path
from tests.audio.conftest import SENTENCES

CLEAN = " ".join(s.lower().replace(",", "").replace(".", "") for s in SENTENCES)
VAD = VadParams(aggressiveness=2)
PRODUCER = {"audio_sha256": "x", "engine": {"engine": "pocketsphinx"}}
TIMES = [(0.0, 100.0), (200.0, 300.0), (400.0, 500.0), (600.0, 700.0), (800.0, 900.0)]


def test_journal_round_trip_and_damage(tmp_path, caplog):
    p = tmp_path / "a.tlog.journal"
    j = SttJournal(p, PRODUCER, TIMES, batch=2)
    assert j.load() == {}
    j.open({})
    j.append(0, ["one", "two"])
    j.append(4, ["five"])
    j.close()
    assert SttJournal(p, PRODUCER, TIMES, batch=2).load() == {0: ["one", "two"], 4: ["five"]}

    # a torn last line (killed while writing) and a line whose checksum does not fit are ignored
    lines = p.read_text().splitlines(keepends=True)
    bad = json.loads(lines[1])
    bad["texts"] = ["ONE", "two"]
    p.write_text(lines[0] + json.dumps(bad) + "\n" + lines[2] + '{"start": 2, "times": [[400')
    caplog.set_level("WARNING")
    assert SttJournal(p, PRODUCER, TIMES, batch=2).load() == {4: ["five"]}
    assert "2 damaged or torn line(s) ignored" in caplog.text

    # other settings (producer, fragment times or batch size): nothing is reused
    assert SttJournal(p, {**PRODUCER, "audio_sha256": "y"}, TIMES, batch=2).load() == {}
    assert SttJournal(p, PRODUCER, TIMES[:4] + [(800.0, 950.0)], batch=2).load() == {}
    assert SttJournal(p, PRODUCER, TIMES, batch=1).load() == {}


def test_journal_rejects_records_that_do_not_fit_the_fragments(tmp_path):
    p = tmp_path / "j"
    j = SttJournal(p, PRODUCER, TIMES, batch=2)
    j.open({})
    j.append(0, ["a", "b"])
    j.close()
    # the same header with a record moved to another batch start is not trusted
    text = p.read_text().replace('"start": 0', '"start": 2')
    p.write_text(text)
    assert SttJournal(p, PRODUCER, TIMES, batch=2).load() == {}


@pytest.fixture
def wav(four_sentences_wav, tmp_path) -> Path:
    return Path(shutil.copy(four_sentences_wav, tmp_path / "speech.wav"))


@pytest.mark.skipif(shutil.which("lmplz") is None, reason="KenLM lmplz not installed (bin/setup.sh builds it)")
def test_interrupted_run_resumes_with_only_the_missing_fragments(wav, tmp_path, monkeypatch, caplog):
    lm = tmp_path / "lm"
    tlog = wav.with_suffix(".tlog")

    def run():
        return tr.transcribe_audio(wav, tlog, CLEAN, VAD, SttParams(), lm_cache_dir=lm, show_progress=False)

    run()
    uninterrupted = tlog.read_bytes()
    tlog.unlink()

    decoded = []
    real = pool._safe_transcribe

    def counting(engine, batch):
        decoded.append(len(batch))
        return real(engine, batch)

    monkeypatch.setattr(pool, "_safe_transcribe", counting)
    real_append = SttJournal.append

    def append_then_interrupt(self, start, texts):
        real_append(self, start, texts)
        if start == 1:   # Ctrl-C after the second of four fragments
            raise KeyboardInterrupt

    monkeypatch.setattr(SttJournal, "append", append_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        run()
    assert not tlog.exists() and journal_path(tlog).exists()
    assert decoded == [1, 1]

    monkeypatch.setattr(SttJournal, "append", real_append)
    decoded.clear()
    caplog.set_level("INFO", logger="align.transcribe")
    run()
    assert decoded == [1, 1], "only the two missing fragments are decoded again"
    assert "2 of 4 fragments already transcribed" in caplog.text
    assert tlog.read_bytes() == uninterrupted
    assert not journal_path(tlog).exists(), "the journal is removed once the .tlog is written"
