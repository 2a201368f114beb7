"""DeepSpeech cannot be installed here (wheels for Python <= 3.9 only): the missing-package path is
tested for real; the model discovery/loading code is exercised with a fake `deepspeech` module,
and the per-document scorer with a fake `generate_scorer_package` on PATH (real lmplz/build_binary)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import stat
import sys
import types

import numpy as np
import pytest

from align.common.errors import MissingDependencyError, UserError
from align.lm.kenlm import find_kenlm_tool
from align.stt.base import SttParams
from align.stt.registry import engine_identity, load_engine, make_engine_spec


def test_without_package_says_python_39(tmp_path):
    if importlib.util.find_spec("deepspeech") is not None:
        pytest.skip("deepspeech is installed here")
    with pytest.raises(MissingDependencyError, match=r"Python <= 3.9"):
        make_engine_spec(SttParams(engine="deepspeech", model_dir=str(tmp_path)), "some text")


@pytest.fixture
def fake_deepspeech(monkeypatch):
    made = []

    class Model:
        def __init__(self, path):
            self.path, self.scorer = path, None
            made.append(self)

        def sampleRate(self):
            return 16000

        def enableExternalScorer(self, path):
            self.scorer = path

        def stt(self, audio):
            assert audio.dtype == np.int16
            return f"  heard   {len(audio)} samples "

    mod = types.ModuleType("deepspeech")
    mod.__spec__ = importlib.machinery.ModuleSpec("deepspeech", None)
    mod.Model = Model
    monkeypatch.setitem(sys.modules, "deepspeech", mod)
    return made


def test_loads_pbmm_and_scorer(tmp_path, fake_deepspeech):
    (tmp_path / "b.tflite").write_bytes(b"tflite")
    (tmp_path / "a.pbmm").write_bytes(b"pbmm")
    (tmp_path / "kenlm.scorer").write_bytes(b"scorer")
    spec = make_engine_spec(SttParams(engine="deepspeech", model_dir=str(tmp_path), own_lm=False), None)
    eng = load_engine(spec)
    m = fake_deepspeech[-1]
    assert m.path == str(tmp_path / "a.pbmm") and m.scorer == str(tmp_path / "kenlm.scorer")
    assert eng.transcribe(np.zeros(1600, np.int16)) == "heard 1600 samples"
    assert eng.transcribe(np.zeros(0, np.int16)) == ""
    ident = engine_identity(spec)
    (tmp_path / "a.pbmm").write_bytes(b"other weights")
    assert engine_identity(spec)["model_hash"] != ident["model_hash"]


def test_tflite_only_and_rate_mismatch(tmp_path, fake_deepspeech):
    (tmp_path / "m.tflite").write_bytes(b"tflite")
    load_engine(make_engine_spec(SttParams(engine="deepspeech", model_dir=str(tmp_path), own_lm=False), None))
    assert fake_deepspeech[-1].path.endswith("m.tflite") and fake_deepspeech[-1].scorer is None
    spec = make_engine_spec(SttParams(engine="deepspeech", model_dir=str(tmp_path), own_lm=False, model_rate=8000), None)
    with pytest.raises(UserError, match="--stt-model-rate 16000"):
        load_engine(spec)


def test_missing_model_files(tmp_path, fake_deepspeech, monkeypatch):
    with pytest.raises(UserError, match=r"no DeepSpeech model \(\*\.pbmm or \*\.tflite\)"):
        make_engine_spec(SttParams(engine="deepspeech", model_dir=str(tmp_path)), "text")
    with pytest.raises(UserError, match="no such directory"):
        make_engine_spec(SttParams(engine="deepspeech", model_dir=str(tmp_path / "nope")), "text")
    monkeypatch.chdir(tmp_path)  # the default model dir is models/en, relative to the working directory
    with pytest.raises(UserError, match="models/en: no such directory"):
        make_engine_spec(SttParams(engine="deepspeech"), "text")


def test_document_scorer_with_generate_scorer_package(tmp_path, fake_deepspeech, monkeypatch):
    try:
        find_kenlm_tool("lmplz"), find_kenlm_tool("build_binary")
    except UserError as e:
        pytest.skip(str(e))
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "x.pbmm").write_bytes(b"pbmm")
    (model_dir / "general.scorer").write_bytes(b"general")
    (model_dir / "alphabet.txt").write_text(" \na\nb\n")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    tool = bindir / "generate_scorer_package"
    # Fake tool: checks its inputs exist and records them in the package it writes.
    tool.write_text('#!/bin/sh\nset -e\nout=""; while [ $# -gt 0 ]; do case "$1" in\n'
                    '  --package) out="$2";; --lm|--vocab|--alphabet) test -s "$2";; esac; shift; done\n'
                    'echo "fake scorer" > "$out"\n')
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bindir}:{__import__('os').environ['PATH']}")
    text = "free software is a matter of liberty not price"
    spec = make_engine_spec(SttParams(engine="deepspeech", model_dir=str(model_dir)), text,
                            lm_cache_dir=tmp_path / "lm")
    assert spec.lm_scorer and spec.lm_binary and spec.lm_hash
    load_engine(spec)
    assert fake_deepspeech[-1].scorer == spec.lm_scorer
    assert engine_identity(spec)["lm_hash"] == spec.lm_hash
    # Without the tool: the model directory's scorer is used.
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    plain = make_engine_spec(SttParams(engine="deepspeech", model_dir=str(model_dir)), text,
                             lm_cache_dir=tmp_path / "lm")
    assert plain.lm_scorer is None
    load_engine(plain)
    assert fake_deepspeech[-1].scorer == str(model_dir / "general.scorer")
