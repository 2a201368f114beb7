"""Whisper through faster-whisper (an extra): a local CTranslate2 model directory."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from ..common.errors import MissingDependencyError, UserError
from .base import SttEngine
from .modelfiles import dir_fingerprint, package_version
from .textnorm import plain_words

MODEL_RATE = 16000
# Deterministic decoding: beam search with a single temperature of 0 (faster-whisper's
# default falls back to sampling at higher temperatures, which would make reruns differ), no
# conditioning on previous text (each fragment is independent), English.
DECODER_SETTINGS = {"beam_size": 5, "temperature": 0.0, "language": "en",
                    "condition_on_previous_text": False, "compute_type": "int8"}


def require_package() -> None:
    if importlib.util.find_spec("faster_whisper") is None:
        raise MissingDependencyError("the whisper engine (package faster-whisper)",
                                     "pip install 'faster-whisper>=1.0' (or pip install '.[whisper]')")


def check_model_dir(model_dir: str | None) -> Path:
    if model_dir is None:
        raise UserError("--stt-engine whisper needs --stt-model-dir: a CTranslate2 Whisper model "
                        "directory (config.json, model.bin), e.g. made with ct2-transformers-converter")
    root = Path(model_dir)
    if not root.is_dir():
        raise UserError(f"--stt-model-dir {root}: no such directory")
    missing = [n for n in ("model.bin", "config.json") if not (root / n).is_file()]
    if missing:
        raise UserError(f"--stt-model-dir {root}: not a CTranslate2 Whisper model (missing {', '.join(missing)})")
    return root


def identity_for(spec) -> dict:
    root = check_model_dir(spec.model_dir)
    return {"engine": "whisper", "package": package_version("faster-whisper"),
            "ctranslate2": package_version("ctranslate2"), "model_dir": root.name,
            "model_hash": dir_fingerprint(root), "rate": spec.model_rate, "decoder": DECODER_SETTINGS}


class WhisperEngine(SttEngine):
    name = "whisper"

    def __init__(self, spec):
        require_package()
        from faster_whisper import WhisperModel

        self._spec = spec
        root = check_model_dir(spec.model_dir)
        if spec.model_rate != MODEL_RATE:
            raise UserError(f"Whisper models take {MODEL_RATE} Hz audio: pass --stt-model-rate {MODEL_RATE}")
        # One thread per worker process: parallelism comes from --stt-workers.
        self._model = WhisperModel(str(root), device="cpu", compute_type=DECODER_SETTINGS["compute_type"],
                                   cpu_threads=1, num_workers=1)

    def transcribe(self, samples: np.ndarray) -> str:
        audio = np.asarray(samples, dtype=np.float32) / 32768.0
        if audio.size == 0:
            return ""
        segments, _info = self._model.transcribe(
            audio, language=DECODER_SETTINGS["language"], beam_size=DECODER_SETTINGS["beam_size"],
            temperature=DECODER_SETTINGS["temperature"],
            condition_on_previous_text=DECODER_SETTINGS["condition_on_previous_text"],
            vad_filter=False, without_timestamps=True,
        )
        return plain_words(" ".join(s.text for s in segments))

    def identity(self) -> dict:
        return identity_for(self._spec)
