"""`--encoder wav2vec2-pooled`: AutoPCP's input features, the states of one wav2vec2 layer
mean-pooled over the frames of each segment, from a LOCAL model directory in transformers format
(`config.json`, `model.safetensors` or `pytorch_model.bin`, `preprocessor_config.json`), e.g. a
copy of wav2vec2-large-xlsr-53 (1024-d; AutoPCP-multilingual-v2 uses layer 9). Nothing is
downloaded: loading is `local_files_only`.

Only layers 0..layer run (the upper ones are dropped after loading, as the reference does), so
`hidden_states[layer]` is the same as in the full model. Pooling is a masked mean over the real
frames of each segment; the reference divides by the padded length of the batch, which makes a
segment's features depend on its batch mates: ours do not.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from ...common.errors import MissingDependencyError, UserError
from .base import EncoderSpec, duration_batches

log = logging.getLogger(__name__)

RATE = 16000
INSTALL = "pip install torch==2.13.0 transformers (or pip install -e '.[autopcp]')"


def _imports():
    try:
        import torch
        import transformers
    except ImportError as e:
        raise MissingDependencyError(f"--encoder wav2vec2-pooled ({e.name} missing)", INSTALL) from None
    return torch, transformers


def check_model_dir(model_dir: str) -> Path:
    d = Path(model_dir).expanduser()
    if not d.is_dir():
        raise UserError(f"--model-dir '{d}' is not a directory (give a local wav2vec2 model directory in "
                        f"transformers format)")
    if not (d / "config.json").is_file():
        raise UserError(f"--model-dir '{d}': no config.json (a transformers-format wav2vec2 model directory "
                        f"has config.json, model.safetensors or pytorch_model.bin, preprocessor_config.json)")
    if not any((d / n).is_file() for n in ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json",
                                           "pytorch_model.bin.index.json")):
        raise UserError(f"--model-dir '{d}': no weights (model.safetensors or pytorch_model.bin)")
    if not (d / "preprocessor_config.json").is_file():
        raise UserError(f"--model-dir '{d}': no preprocessor_config.json (the feature extractor's settings)")
    return d


class Wav2Vec2PooledEncoder:
    needs = "audio"

    def __init__(self, spec: EncoderSpec):
        d = check_model_dir(spec.model_dir)
        torch, transformers = _imports()
        self._torch = torch
        self.device = torch.device(spec.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        try:
            self.fex = transformers.Wav2Vec2FeatureExtractor.from_pretrained(str(d), local_files_only=True)
            model = transformers.Wav2Vec2Model.from_pretrained(str(d), local_files_only=True)
        except (OSError, ValueError) as e:
            raise UserError(f"--model-dir '{d}': cannot load a wav2vec2 model from it ({e})") from None
        n_layers = len(model.encoder.layers)
        if spec.layer > n_layers:
            raise UserError(f"--layer {spec.layer}: the model in '{d}' has {n_layers} layers (0..{n_layers})")
        # Run layers 0..layer only: hidden_states[layer] is the input of layer `layer`+1, unchanged.
        model.encoder.layers = torch.nn.ModuleList(list(model.encoder.layers)[: spec.layer + 1])
        self.model = model.to(self.device).eval()
        self.layer = spec.layer
        self.dim = int(model.config.hidden_size)
        self.max_samples = int(spec.batch_seconds * RATE)
        log.info("wav2vec2 %s: layer %d of %d, %d-d, on %s", d, spec.layer, n_layers, self.dim, self.device)

    def encode(self, items: Sequence[np.ndarray]) -> np.ndarray:
        torch = self._torch
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        for batch in duration_batches([len(x) for x in items], self.max_samples):
            feats = self.fex([np.asarray(items[i], dtype=np.float32) for i in batch], sampling_rate=RATE,
                             padding=True, return_attention_mask=True, return_tensors="pt")
            feats = {k: v.to(self.device) for k, v in feats.items()}
            with torch.inference_mode():
                res = self.model(**feats, output_hidden_states=True)
                states = res.hidden_states[self.layer]  # (b, frames, dim)
                mask = self.model._get_feature_vector_attention_mask(states.shape[1], feats["attention_mask"])
                mask = mask.to(states.dtype).unsqueeze(-1)
                pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            out[batch] = pooled.float().cpu().numpy()
        return out
