"""Margin-based mining of parallel speech from embedding shards (the `mine` command)."""
