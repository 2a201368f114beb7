"""Per-document language models (KenLM lmplz) and pronunciations for words a dictionary lacks."""
