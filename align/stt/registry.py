"""Choosing, checking and loading a speech-to-text engine.

`make_engine_spec` does the early checks (engine name, package, model directory) and builds
the per-document language model in the parent process; the resulting `EngineSpec` holds only
strings and numbers, so it pickles into spawned worker processes, which each `load_engine`
once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..common.errors import UserError
from .base import SttEngine, SttParams

log = logging.getLogger(__name__)

ENGINES = ("pocketsphinx", "deepspeech", "whisper", "vosk")


@dataclass(frozen=True)
class EngineSpec:
    engine: str
    model_dir: Optional[str]
    model_rate: int
    lm_arpa: Optional[str] = None
    lm_binary: Optional[str] = None
    lm_dict: Optional[str] = None
    lm_hash: Optional[str] = None
    lm_scorer: Optional[str] = None   # DeepSpeech: scorer package built from the document LM
    prompt: Optional[str] = None      # Whisper: document words given to the decoder as hotwords
    prompt_auto: bool = False         # ... only if the audio turns out noisy (transcribe decides)
    noisy: bool = False               # pocketsphinx: the audio turned out noisy (transcribe decides): NOISY_SETTINGS
    batch: int = 1                    # fragments per decoder call (and per journal record)


def _module(engine: str):
    # Imported on demand: an engine's dependencies load only when that engine is chosen.
    import importlib

    if engine not in ENGINES:
        raise UserError(f"unknown --stt-engine {engine!r}: choose one of {', '.join(ENGINES)}")
    return importlib.import_module(f"{__package__}.engine_{engine}")


def make_engine_spec(params: SttParams, clean_text: str | None, lm_cache_dir: Path | None = None) -> EngineSpec:
    mod = _module(params.engine)
    if params.model_rate <= 0:
        raise UserError(f"--stt-model-rate must be a positive sample rate in Hz, got {params.model_rate}")
    spec = EngineSpec(engine=params.engine, model_dir=params.model_dir, model_rate=int(params.model_rate))
    want_lm = params.own_lm and bool(clean_text and clean_text.strip())

    if params.engine == "pocketsphinx":
        model = mod.resolve_model(params.model_dir)
        mod.check_rate(model, spec.model_rate)
        if not want_lm:
            if model.lm is None:
                raise UserError(f"--stt-model-dir {params.model_dir}: no language model (*.lm.bin, *.lm, "
                                f"*.arpa) in it, needed without a per-document LM; add one, or give the "
                                f"text and drop --stt-no-own-lm")
            return spec
        from ..lm.kenlm import build_document_lm

        lm = build_document_lm(clean_text, lm_cache_dir, base_dict=model.dict)
        return EngineSpec(**{**spec.__dict__, "lm_arpa": str(lm.arpa_path), "lm_dict": str(lm.dict_path),
                             "lm_hash": lm.text_hash})

    if params.engine == "deepspeech":
        mod.require_package()
        mod.find_model_files(params.model_dir)
        if not want_lm:
            return spec
        from ..lm.kenlm import build_document_lm

        lm = build_document_lm(clean_text, lm_cache_dir, want_binary=True)
        scorer = mod.build_document_scorer(lm, params.model_dir)
        if scorer is None:
            return spec
        return EngineSpec(**{**spec.__dict__, "lm_arpa": str(lm.arpa_path), "lm_binary": str(lm.binary_path),
                             "lm_hash": lm.text_hash, "lm_scorer": str(scorer)})

    if params.engine == "whisper":
        mod.require_package()
        root = mod.resolve_model(params.model_dir)
        if params.model_rate != mod.MODEL_RATE:
            raise UserError(f"--stt-engine whisper takes {mod.MODEL_RATE} Hz audio: pass --stt-model-rate {mod.MODEL_RATE}")
        dev = mod.device_settings()
        prompt = mod.prompt_words(clean_text) if params.prompt != "off" else ""
        auto = params.prompt == "auto" and bool(prompt)
        log.info("Whisper model %s on %s (%s), batches of %d fragments; %s", root, dev["device"], dev["compute_type"],
                 dev["batch"], (f"{len(prompt.split())} document words as hotwords"
                                + (" if the audio is noisy" if auto else "")) if prompt else "no prompt")
        return EngineSpec(**{**spec.__dict__, "model_dir": str(root), "prompt": prompt, "prompt_auto": auto,
                             "batch": dev["batch"]})

    # vosk: an end-to-end model without an external n-gram LM.
    mod.require_package()
    mod.check_model_dir(params.model_dir)
    rate = getattr(mod, "MODEL_RATE", None)
    if rate is not None and params.model_rate != rate:
        raise UserError(f"--stt-engine {params.engine} takes {rate} Hz audio: pass --stt-model-rate {rate}")
    if want_lm:
        log.info("the %s engine does not use a per-document language model", params.engine)
    return spec


# Cached Whisper models the default may take, in this order: the English-only ones (the engine
# decodes English), smallest first, since tiny.en already meets the speed and accuracy of the
# speech benchmark and each size up costs about twice the CPU.
AUTO_WHISPER_MODELS = ("tiny.en", "base.en", "small.en", "medium.en")


def _find_spec(name: str):
    import importlib.util

    return importlib.util.find_spec(name)


def hf_hub_cache() -> Path:
    """The Hugging Face hub cache, where faster-whisper keeps the models it downloads."""
    import os

    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]) / "hub"
    return Path.home() / ".cache" / "huggingface" / "hub"


def cached_whisper_models(cache: Optional[Path] = None) -> dict[str, Path]:
    """{model name: CTranslate2 directory} of the complete faster-whisper models in the cache (a
    snapshot holding model.bin and config.json; the newest snapshot of a model when several)."""
    cache = hf_hub_cache() if cache is None else cache
    out: dict[str, Path] = {}
    if not cache.is_dir():
        return out
    for repo in sorted(cache.glob("models--*--faster-whisper-*")):
        name = repo.name.split("faster-whisper-", 1)[1]
        snaps = [d for d in sorted((repo / "snapshots").glob("*"))
                 if (d / "model.bin").is_file() and (d / "config.json").is_file()]
        if snaps and name not in out:
            out[name] = max(snaps, key=lambda d: (d.stat().st_mtime_ns, d.name))
    return out


def choose_engine(model: Optional[str], english: bool = True,
                  cache: Optional[Path] = None) -> tuple[str, str, Optional[str]]:
    """(engine, why, model) when --stt-engine is not given: Whisper if --stt-model names a Whisper
    model; else Whisper with an English model found in the Hugging Face cache (when faster-whisper
    is installed and the text is English: the default alphabet); else pocketsphinx, which ships
    its own model."""
    if model:
        from . import engine_whisper

        if engine_whisper.looks_like_model(model):
            return "whisper", f"--stt-model {model} is a Whisper model", model
        return "pocketsphinx", f"--stt-model {model} is not a Whisper model", model
    found = cached_whisper_models(cache)
    if english and _find_spec("faster_whisper") is not None:
        for name in AUTO_WHISPER_MODELS:
            if name in found:
                return ("whisper", f"Whisper {name} is in the model cache ({found[name]}); it hears real speech "
                        f"better than pocketsphinx (--stt-engine pocketsphinx to use that instead)", str(found[name]))
    why = "the default: its US-English model ships inside the package"
    if found:
        why += (f"; Whisper models in the cache ({', '.join(sorted(found))}): --stt-engine whisper --stt-model NAME "
                f"uses one")
    return "pocketsphinx", why, None


def load_engine(spec: EngineSpec) -> SttEngine:
    mod = _module(spec.engine)
    cls = {"pocketsphinx": "PocketsphinxEngine", "deepspeech": "DeepSpeechEngine",
           "whisper": "WhisperEngine", "vosk": "VoskEngine"}[spec.engine]
    return getattr(mod, cls)(spec)


def engine_identity(spec: EngineSpec) -> dict:
    """What makes the transcripts, without loading the model (cheap: file fingerprints)."""
    return _module(spec.engine).identity_for(spec)
