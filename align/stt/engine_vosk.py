"""Vosk (Kaldi) through the `vosk` package (an extra): a Vosk model directory."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np

from ..common.errors import MissingDependencyError, UserError
from .base import SttEngine
from .modelfiles import dir_fingerprint, package_version
from .textnorm import plain_words


def require_package() -> None:
    if importlib.util.find_spec("vosk") is None:
        raise MissingDependencyError("the vosk engine (package vosk)", "pip install 'vosk>=0.3.45' (or pip install '.[vosk]')")


def check_model_dir(model_dir: str | None) -> Path:
    if model_dir is None:
        raise UserError("--stt-engine vosk needs --stt-model-dir: an unpacked Vosk model "
                        "(from alphacephei.com/vosk/models)")
    root = Path(model_dir)
    if not root.is_dir():
        raise UserError(f"--stt-model-dir {root}: no such directory")
    if not ((root / "am" / "final.mdl").is_file() or (root / "final.mdl").is_file()):
        raise UserError(f"--stt-model-dir {root}: not a Vosk model (no am/final.mdl)")
    return root


def identity_for(spec) -> dict:
    root = check_model_dir(spec.model_dir)
    return {"engine": "vosk", "package": package_version("vosk"), "model_dir": root.name,
            "model_hash": dir_fingerprint(root), "rate": spec.model_rate}


class VoskEngine(SttEngine):
    name = "vosk"

    def __init__(self, spec):
        require_package()
        import vosk

        vosk.SetLogLevel(-1)
        self._spec = spec
        self._model = vosk.Model(str(check_model_dir(spec.model_dir)))

    def transcribe(self, samples: np.ndarray) -> str:
        import vosk

        data = np.ascontiguousarray(samples, dtype="<i2")
        if data.size == 0:
            return ""
        # A fresh recogniser per fragment: no state carries from one fragment to the next.
        rec = vosk.KaldiRecognizer(self._model, float(self._spec.model_rate))
        rec.AcceptWaveform(data.tobytes())
        return plain_words(json.loads(rec.FinalResult()).get("text", ""))

    def identity(self) -> dict:
        return identity_for(self._spec)
