"""The speech-to-text interface every engine implements, and the parameters that choose one."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np


@dataclass(frozen=True)
class SttParams:
    engine: str = "pocketsphinx"          # pocketsphinx | deepspeech | whisper | vosk
    model_dir: Optional[str] = None       # None: the engine's default (pocketsphinx: its wheel's model)
    model_rate: int = 16000               # sample rate the model wants (Hz)
    workers: int = 1                      # worker processes, each loading the model once
    own_lm: bool = True                   # build a per-document language model from the text
    # whisper: the document's frequent long words as decoder hotwords: on, off, or auto = only when
    # the recording is noisy (the noise front end filtered it): there the language prior wins most
    prompt: str = "auto"


class SttEngine(abc.ABC):
    """One loaded model. Built once per worker process; `transcribe` is called per fragment."""

    name: str = ""

    @abc.abstractmethod
    def transcribe(self, samples: np.ndarray) -> str:
        """Mono int16 samples at the model rate -> transcript in the model's alphabet."""

    def transcribe_batch(self, batch: Sequence[np.ndarray]) -> list[str]:
        """Several fragments at once; engines that batch on the accelerator override it."""
        return [self.transcribe(x) for x in batch]

    @abc.abstractmethod
    def identity(self) -> dict:
        """What determines this engine's output (engine, model files and their hashes, LM hash,
        decoder settings): part of the `.tlog` cache key."""
