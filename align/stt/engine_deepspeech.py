"""Mozilla DeepSpeech (0.9): an acoustic model (`*.pbmm` or `*.tflite`) and a scorer (`*.scorer`).

The `deepspeech` package only has wheels for Python <= 3.9, so this engine is for users on an
older Python; elsewhere it stops early with a message saying so.
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ..common.errors import MissingDependencyError, UserError
from ..common.fileio import atomic_path
from ..common.hashing import sha256_file
from .base import SttEngine
from .modelfiles import file_fingerprint, package_version

log = logging.getLogger(__name__)

DEFAULT_MODEL_DIR = "models/en"
# The scorer weights DeepSpeech 0.9's English model was released with (a per-document scorer
# keeps them: they weigh LM against acoustics, which does not depend on the text).
DEFAULT_ALPHA = 0.931289039105002
DEFAULT_BETA = 1.1834137581510284


def require_package() -> None:
    if importlib.util.find_spec("deepspeech") is None:
        raise MissingDependencyError(
            "the deepspeech engine (Python package `deepspeech`)",
            "it only installs on Python <= 3.9 (pip install deepspeech==0.9.3 in such an "
            "environment); here use --stt-engine pocketsphinx (the default)",
        )


def model_dir_of(spec_or_dir) -> Path:
    d = spec_or_dir if isinstance(spec_or_dir, (str, Path)) or spec_or_dir is None else spec_or_dir.model_dir
    return Path(d if d is not None else DEFAULT_MODEL_DIR)


def find_model_files(model_dir: str | Path | None) -> tuple[Path, Path | None]:
    """(acoustic model, scorer or None) in the model directory; `.pbmm` preferred over `.tflite`."""
    root = model_dir_of(model_dir)
    if not root.is_dir():
        raise UserError(f"--stt-model-dir {root}: no such directory (it should hold a DeepSpeech "
                        f"*.pbmm or *.tflite model and optionally a *.scorer)")
    models = sorted(root.glob("*.pbmm")) or sorted(root.glob("*.tflite"))
    if not models:
        raise UserError(f"--stt-model-dir {root}: no DeepSpeech model (*.pbmm or *.tflite) in it; "
                        f"download e.g. deepspeech-0.9.3-models.pbmm into it")
    if len(models) > 1:
        log.warning("several DeepSpeech models in %s: using %s", root, models[0].name)
    scorers = sorted(root.glob("*.scorer"))
    return models[0], (scorers[0] if scorers else None)


def build_document_scorer(lm, model_dir: str | Path | None) -> Path | None:
    """A scorer package for the document LM, made with DeepSpeech's `generate_scorer_package`.

    Needs the LM's KenLM binary and vocabulary, the model's `alphabet.txt` and the tool on
    PATH; returns None (after saying why) when any is missing. Cached beside the LM, keyed by
    the alphabet's hash.
    """
    tool = shutil.which("generate_scorer_package")
    alphabet = model_dir_of(model_dir) / "alphabet.txt"
    if tool is None:
        log.info("generate_scorer_package not on PATH: DeepSpeech uses the model directory's scorer")
        return None
    if not alphabet.is_file() or lm.binary_path is None or lm.vocab_path is None:
        log.warning("no %s (or no LM binary): DeepSpeech uses the model directory's scorer", alphabet)
        return None
    out = lm.arpa_path.parent / f"ds-{sha256_file(alphabet)[:16]}.scorer"
    if out.is_file() and out.stat().st_size > 0:
        return out
    with tempfile.TemporaryDirectory(prefix=".scorer-", dir=out.parent) as scratch, atomic_path(out) as tmp:
        cmd = [tool, "--alphabet", str(alphabet), "--lm", str(lm.binary_path), "--vocab", str(lm.vocab_path),
               "--package", str(tmp), "--default_alpha", repr(DEFAULT_ALPHA), "--default_beta", repr(DEFAULT_BETA)]
        proc = subprocess.run(cmd, cwd=scratch, capture_output=True, text=True, errors="replace")
        if proc.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
            tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
            raise UserError(f"generate_scorer_package failed (exit {proc.returncode}): {tail}")
    return out


def identity_for(spec) -> dict:
    model, scorer = find_model_files(spec.model_dir)
    used = Path(spec.lm_scorer) if getattr(spec, "lm_scorer", None) else scorer
    return {
        "engine": "deepspeech",
        "package": package_version("deepspeech"),
        "model": model.name,
        "model_hash": file_fingerprint(model),
        "scorer": file_fingerprint(used) if used else None,
        "lm_hash": spec.lm_hash if getattr(spec, "lm_scorer", None) else None,
        "rate": spec.model_rate,
        "decoder": {"beam_width": "model default", "alpha_beta": "scorer default"},
    }


class DeepSpeechEngine(SttEngine):
    name = "deepspeech"

    def __init__(self, spec):
        require_package()
        import deepspeech

        self._spec = spec
        model_path, scorer = find_model_files(spec.model_dir)
        self._model = deepspeech.Model(str(model_path))
        rate = int(self._model.sampleRate())
        if rate != spec.model_rate:
            raise UserError(f"the DeepSpeech model {model_path} wants {rate} Hz audio: "
                            f"pass --stt-model-rate {rate}")
        scorer = Path(spec.lm_scorer) if getattr(spec, "lm_scorer", None) else scorer
        if scorer is not None:
            self._model.enableExternalScorer(str(scorer))
        else:
            log.warning("no DeepSpeech scorer in %s: decoding without a language model", model_path.parent)

    def transcribe(self, samples: np.ndarray) -> str:
        data = np.ascontiguousarray(samples, dtype=np.int16)
        if data.size == 0:
            return ""
        return " ".join(str(self._model.stt(data)).split())

    def identity(self) -> dict:
        return identity_for(self._spec)
