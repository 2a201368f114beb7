"""`--encoder sonar`: SONAR speech encoders (w2v-BERT + attention pooling -> 1024-d, in SONAR's
multilingual sentence space), through sonar-space's `SpeechToEmbeddingModelPipeline`.

sonar-space needs fairseq2, whose native part pins one exact torch version; it cannot share an
environment with this project's torch extra. Install it in its own environment (README, "SONAR
speech embeddings"). Models are loaded by their card name, `sonar_speech_encoder_<lang>`, from
fairseq2's asset store (its cache, or a local card pointing at a downloaded checkpoint).

Input: mono float waveforms at 16 kHz in [-1, 1] as (1, samples) tensors (the pipeline scales by
2**15 for its 80-bin filterbank). Batches are formed by duration (similar lengths together, a
bounded padded size), half precision on CUDA only (its LayerNorm has no CPU half kernel).
"""

from __future__ import annotations

import logging
from typing import Optional, Sequence

import numpy as np

from ...common.errors import MissingDependencyError, UsageError
from .base import EncoderSpec, duration_batches

log = logging.getLogger(__name__)

DIM = 1024
RATE = 16000
# Speech encoder cards shipped with SONAR (ISO 639-3 codes).
LANGS = tuple(sorted("""
arb cat cym dan deu eng est fin fra ind ita kor nld pes por ron spa swh tgl tur uzn
asm bel ben bos bul ces cmn guj heb hin hrv jpn kan lao lit lvs mal mar mkd mlt npi ory pan
pol rus slk slv snd srp tam tel tha ukr urd vie yue
""".split()))
INSTALL = ("sonar-space and fairseq2 pin their own torch, so install them into a separate environment: "
           "python3 -m venv ~/sonar-env && ~/sonar-env/bin/pip install torch==2.9.1 'fairseq2>=0.5.2' "
           "'sonar-space>=0.5' && ~/sonar-env/bin/pip install -e /path/to/this/repo, then run "
           "~/sonar-env/bin/mine embed --encoder sonar ... (README: SONAR speech embeddings; own environment)")


def card_name(lang: str) -> str:
    return f"sonar_speech_encoder_{lang}"


def check_lang(lang: Optional[str]) -> None:
    if not lang:
        raise UsageError("--encoder sonar needs --lang, the ISO 639-3 code of the speech encoder "
                         f"(one of: {' '.join(LANGS)})")
    if lang not in LANGS:
        raise UsageError(f"--lang {lang!r}: SONAR has no speech encoder for it; choose one of: {' '.join(LANGS)}")


def _imports():
    try:
        import torch
        from sonar.inference_pipelines.speech import SpeechToEmbeddingModelPipeline
    except ImportError as e:
        raise MissingDependencyError(f"--encoder sonar ({e.name or 'sonar'} missing)", INSTALL) from None
    return torch, SpeechToEmbeddingModelPipeline


class SonarEncoder:
    dim = DIM
    needs = "audio"

    def __init__(self, spec: EncoderSpec):
        check_lang(spec.lang)
        torch, pipeline_cls = _imports()
        self._torch = torch
        self.device = torch.device(spec.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        fbank_dtype = torch.float16 if self.device.type == "cuda" else torch.float32
        self.card = card_name(spec.lang)
        log.info("loading %s on %s (%s)", self.card, self.device, fbank_dtype)
        self.pipeline = pipeline_cls(encoder=self.card, device=self.device, fbank_dtype=fbank_dtype)
        self.max_samples = int(spec.batch_seconds * RATE)

    def encode(self, items: Sequence[np.ndarray]) -> np.ndarray:
        torch = self._torch
        out = np.zeros((len(items), DIM), dtype=np.float32)
        for batch in duration_batches([len(x) for x in items], self.max_samples):
            tensors = [torch.from_numpy(np.ascontiguousarray(items[i], dtype=np.float32)).unsqueeze(0)
                       for i in batch]
            with torch.inference_mode():
                emb = self.pipeline.predict(tensors, batch_size=len(tensors), n_parallel=1, pad_idx=0)
            out[batch] = emb.float().cpu().numpy()
        return out
