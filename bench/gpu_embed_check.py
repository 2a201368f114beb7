#!/usr/bin/env python3
"""GPU check of `mine embed`'s model encoders (run where torch sees a GPU; falls back to CPU).

1. wav2vec2-pooled on the GPU equals the CPU result (a tiny random model made here);
2. the SONAR adapter picks CUDA and float16 filterbanks when a GPU is present (a stand-in
   pipeline: sonar-space itself cannot be installed next to this project's torch);
3. throughput of wav2vec2-pooled with a model of wav2vec2-large-xlsr-53's shape (24 layers,
   1024-d, random weights: no download), layer 9, batches by duration: seconds of audio per second.

    python3 bench/gpu_embed_check.py [--segments 300]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import types

import numpy as np


def tiny(d: str):
    import torch
    import transformers

    cfg = transformers.Wav2Vec2Config(
        hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64, conv_dim=(16, 16),
        conv_stride=(5, 4), conv_kernel=(10, 8), num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
        feat_extract_norm="layer", do_stable_layer_norm=True)
    torch.manual_seed(0)
    transformers.Wav2Vec2Model(cfg).save_pretrained(d)
    transformers.Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True,
                                          return_attention_mask=True).save_pretrained(d)


def large(d: str):
    import torch
    import transformers

    cfg = transformers.Wav2Vec2Config(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                                      intermediate_size=4096, feat_extract_norm="layer", do_stable_layer_norm=True,
                                      conv_bias=True)
    torch.manual_seed(0)
    transformers.Wav2Vec2Model(cfg).save_pretrained(d)
    transformers.Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True,
                                          return_attention_mask=True).save_pretrained(d)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--segments", type=int, default=300)
    args = ap.parse_args()
    import torch

    from align.mine.embed.base import EncoderSpec, build

    gpu = torch.cuda.is_available()
    print(f"torch {torch.__version__}, cuda available: {gpu}"
          + (f" ({torch.cuda.get_device_name(0)})" if gpu else ""), flush=True)
    rng = np.random.default_rng(0)
    waves = [rng.standard_normal(int(16000 * s)).astype(np.float32) * 0.1 for s in (1.0, 3.5, 0.6, 2.2)]
    with tempfile.TemporaryDirectory() as d:
        tiny(d)
        cpu = build(EncoderSpec("wav2vec2-pooled", model_dir=d, layer=2, device="cpu")).encode(waves)
        auto = build(EncoderSpec("wav2vec2-pooled", model_dir=d, layer=2))
        got = auto.encode(waves)
        print(f"1. wav2vec2-pooled: default device {auto.device}; max |GPU - CPU| = {np.abs(got - cpu).max():.2e} "
              f"(pooled values ~{np.abs(cpu).mean():.2f})", flush=True)

    class Stand:
        def __init__(self, encoder, device, fbank_dtype):
            self.seen = (encoder, device, fbank_dtype)

        def predict(self, input, batch_size=3, n_parallel=1, pad_idx=0):
            return torch.stack([t.float().mean().repeat(1024) for t in input])

    mod = types.ModuleType("sonar.inference_pipelines.speech")
    mod.SpeechToEmbeddingModelPipeline = Stand
    for name in ("sonar", "sonar.inference_pipelines"):
        sys.modules[name] = types.ModuleType(name)
    sys.modules["sonar.inference_pipelines.speech"] = mod
    enc = build(EncoderSpec("sonar", lang="spa"))
    v = enc.encode(waves)
    print(f"2. sonar adapter: {enc.pipeline.seen[0]} on {enc.pipeline.seen[1]}, fbank {enc.pipeline.seen[2]}; "
          f"rows {v.shape}", flush=True)

    lengths = rng.uniform(2.0, 15.0, args.segments)
    waves = [rng.standard_normal(int(16000 * s)).astype(np.float32) * 0.1 for s in lengths]
    with tempfile.TemporaryDirectory() as d:
        large(d)
        for dev in (["cuda"] if gpu else []) + ["cpu"]:
            n = len(waves) if dev == "cuda" else max(4, len(waves) // 50)
            enc = build(EncoderSpec("wav2vec2-pooled", model_dir=d, layer=9, device=dev, batch_seconds=200.0))
            enc.encode(waves[:4])  # warm-up
            if dev == "cuda":
                torch.cuda.synchronize()
            t = time.perf_counter()
            out = enc.encode(waves[:n])
            if dev == "cuda":
                torch.cuda.synchronize()
            dt = time.perf_counter() - t
            audio = float(lengths[:n].sum())
            print(f"3. wav2vec2-large shape, layer 9, {dev}: {n} segments, {audio:.0f} s of audio in {dt:.2f} s = "
                  f"{audio / dt:.0f}x real time; dim {out.shape[1]}", flush=True)


if __name__ == "__main__":
    main()
