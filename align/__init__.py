"""Speech-to-training-data tools: `align` (long audio + text -> utterances) and `mine` (parallel speech mining)."""

__version__ = "0.1.0"
