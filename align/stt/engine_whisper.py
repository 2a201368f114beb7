"""Whisper through faster-whisper (the `whisper` extra): a model name or a CTranslate2 directory.

`--stt-model NAME_OR_DIR`: a directory holding a CTranslate2 Whisper model (config.json,
model.bin) is used as it is; a model name (tiny.en, base.en, small, ...) is looked up in the
Hugging Face cache and, only when it is not there, downloaded into it (the user asked for it by
name). The parent process resolves the name to its directory once, so workers never download.

Fragments are decoded in batches: each fragment's log-mel features padded to Whisper's 30 s
window, one encoder call and one beam search for the whole batch. On a GPU (CTranslate2 sees
CUDA) the model runs there in float16, else int8 on the CPU with one thread per worker process.
"""

from __future__ import annotations

import importlib.util
import logging
import re
from collections import Counter
from pathlib import Path
from typing import Sequence

import numpy as np

from ..common.errors import MissingDependencyError, UserError
from .base import SttEngine
from .modelfiles import dir_fingerprint, package_version
from .textnorm import plain_words

log = logging.getLogger(__name__)

MODEL_RATE = 16000
WINDOW_S = 30.0             # Whisper's input window; longer fragments go through faster-whisper's own loop
PROMPT_WORDS = 40           # at most this many document words as the decoder prompt (hotwords)
# Deterministic decoding: beam search at temperature 0 only (faster-whisper's default falls back
# to sampling at higher temperatures, which would make reruns differ), each fragment on its own,
# English.
DECODER_SETTINGS = {"beam_size": 5, "temperature": 0.0, "language": "en",
                    "condition_on_previous_text": False}
BATCH_CPU = 8
BATCH_GPU = 16


def require_package() -> None:
    if importlib.util.find_spec("faster_whisper") is None:
        raise MissingDependencyError("the whisper engine (package faster-whisper)",
                                     "pip install 'faster-whisper>=1.0' (or pip install '.[whisper]')")


def _is_model_dir(root: Path) -> bool:
    return (root / "model.bin").is_file() and (root / "config.json").is_file()


def check_model_dir(model_dir: str | None) -> Path:
    if model_dir is None:
        raise UserError("--stt-engine whisper needs --stt-model NAME_OR_DIR (--stt-model-dir): a model name "
                        "such as tiny.en or base.en, or a CTranslate2 Whisper model directory (config.json, "
                        "model.bin), e.g. made with ct2-transformers-converter")
    root = Path(model_dir)
    if not root.is_dir():
        raise UserError(f"--stt-model {root}: no such directory (and not a Whisper model name)")
    missing = [n for n in ("model.bin", "config.json") if not (root / n).is_file()]
    if missing:
        raise UserError(f"--stt-model {root}: not a CTranslate2 Whisper model (missing {', '.join(missing)})")
    return root


def known_model_names() -> list[str]:
    from faster_whisper.utils import available_models

    return list(available_models())


def looks_like_model(name: str) -> bool:
    """True when `name` is a CTranslate2 Whisper directory or a faster-whisper model name."""
    p = Path(name)
    if p.is_dir():
        return _is_model_dir(p)
    if importlib.util.find_spec("faster_whisper") is None:
        return False
    return name in known_model_names()


def resolve_model(name_or_dir: str | None) -> Path:
    """A local model directory for a directory or a model name (from the cache, else downloaded)."""
    if name_or_dir is None or Path(name_or_dir).exists() or not _known(name_or_dir):
        return check_model_dir(name_or_dir)
    from faster_whisper.utils import download_model

    try:
        path = download_model(name_or_dir, local_files_only=True)
        log.info("Whisper model %s from the local cache: %s", name_or_dir, path)
    except Exception:
        log.info("Whisper model %s is not in the local cache: downloading it (once) into the Hugging Face cache",
                 name_or_dir)
        try:
            path = download_model(name_or_dir)
        except Exception as e:
            raise UserError(f"--stt-model {name_or_dir}: could not download the model ({type(e).__name__}: {e}); "
                            f"offline, give a local CTranslate2 model directory instead") from None
    return check_model_dir(path)


def _known(name: str) -> bool:
    return name in known_model_names()


def cuda_available() -> bool:
    try:
        import ctranslate2

        return ctranslate2.get_cuda_device_count() > 0
    except Exception:  # a broken CUDA install must not stop a CPU run
        return False


def device_settings() -> dict:
    """Where and how the model runs: part of the cache key (GPU float16 and CPU int8 differ slightly)."""
    if cuda_available():
        return {"device": "cuda", "compute_type": "float16", "batch": BATCH_GPU}
    return {"device": "cpu", "compute_type": "int8", "batch": BATCH_CPU}


_WORD = re.compile(r"[a-z][a-z']+")


def prompt_words(clean_text: str | None, limit: int = PROMPT_WORDS) -> str:
    """The document's most frequent rare-looking words (7+ letters), as Whisper's hotwords.

    Long words are the ones a small model spells wrong (names, terms); frequent ones matter most.
    Ties break alphabetically, so the prompt (and the cache key) is deterministic.
    """
    if not clean_text:
        return ""
    counts = Counter(w for w in _WORD.findall(clean_text.lower()) if len(w) >= 7)
    best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return " ".join(sorted(w for w, _ in best))


def identity_for(spec) -> dict:
    root = check_model_dir(spec.model_dir)
    dev = device_settings()
    return {"engine": "whisper", "package": package_version("faster-whisper"),
            "ctranslate2": package_version("ctranslate2"), "model_dir": root.name,
            "model_hash": dir_fingerprint(root), "rate": spec.model_rate, "decoder": DECODER_SETTINGS,
            "device": dev["device"], "compute_type": dev["compute_type"], "batch": dev["batch"],
            "prompt": spec.prompt or "", "prompt_auto": spec.prompt_auto}


class WhisperEngine(SttEngine):
    name = "whisper"

    def __init__(self, spec):
        require_package()
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer

        self._spec = spec
        root = check_model_dir(spec.model_dir)
        if spec.model_rate != MODEL_RATE:
            raise UserError(f"Whisper models take {MODEL_RATE} Hz audio: pass --stt-model-rate {MODEL_RATE}")
        dev = device_settings()
        self.batch_size = dev["batch"]
        # On the CPU one thread per worker process: parallelism comes from --stt-workers.
        self._model = WhisperModel(str(root), device=dev["device"], compute_type=dev["compute_type"],
                                   cpu_threads=1 if dev["device"] == "cpu" else 0, num_workers=1)
        m = self._model
        self._tokenizer = Tokenizer(m.hf_tokenizer, m.model.is_multilingual, task="transcribe",
                                    language=DECODER_SETTINGS["language"])
        self._prompt = m.get_prompt(self._tokenizer, previous_tokens=[], without_timestamps=True,
                                    hotwords=spec.prompt or None)
        self._n_frames = int(WINDOW_S * MODEL_RATE / m.feature_extractor.hop_length)

    def transcribe(self, samples: np.ndarray) -> str:
        return self.transcribe_batch([samples])[0]

    def transcribe_batch(self, batch: Sequence[np.ndarray]) -> list[str]:
        out: list[str | None] = [None] * len(batch)
        short = []
        for k, samples in enumerate(batch):
            audio = np.asarray(samples, dtype=np.float32) / 32768.0
            if audio.size == 0:
                out[k] = ""
            elif audio.size > WINDOW_S * MODEL_RATE:
                out[k] = self._transcribe_long(audio)
            else:
                short.append((k, audio))
        if short:
            for (k, _), text in zip(short, self._decode_window([a for _, a in short])):
                out[k] = text
        return [t or "" for t in out]

    def _decode_window(self, audios: list[np.ndarray]) -> list[str]:
        from faster_whisper.audio import pad_or_trim

        m = self._model
        feats = np.stack([pad_or_trim(m.feature_extractor(a)[..., :self._n_frames], self._n_frames) for a in audios])
        enc = m.encode(feats)
        results = m.model.generate(
            enc, [list(self._prompt) for _ in audios], beam_size=DECODER_SETTINGS["beam_size"],
            max_length=m.max_length, suppress_blank=True, suppress_tokens=[-1],
        )
        texts = []
        for r in results:
            tokens = [t for t in r.sequences_ids[0] if t < self._tokenizer.eot]
            texts.append(plain_words(self._tokenizer.decode(tokens)))
        return texts

    def _transcribe_long(self, audio: np.ndarray) -> str:
        segments, _info = self._model.transcribe(
            audio, language=DECODER_SETTINGS["language"], beam_size=DECODER_SETTINGS["beam_size"],
            temperature=DECODER_SETTINGS["temperature"],
            condition_on_previous_text=DECODER_SETTINGS["condition_on_previous_text"],
            vad_filter=False, without_timestamps=True, hotwords=self._spec.prompt or None,
        )
        return plain_words(" ".join(s.text for s in segments))

    def identity(self) -> dict:
        return identity_for(self._spec)
