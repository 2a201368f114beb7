"""Content fingerprints of model files for the `.tlog` cache key, and package versions."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterable

# Whole-file hashing above this size would cost seconds per run (Whisper large is 3 GB); such
# files are fingerprinted by size plus their first and last MiB instead.
FULL_HASH_LIMIT = 64 << 20
_EDGE = 1 << 20


def file_fingerprint(path: str | os.PathLike) -> str:
    path = Path(path)
    size = path.stat().st_size
    h = hashlib.sha256()
    with open(path, "rb") as f:
        if size <= FULL_HASH_LIMIT:
            while block := f.read(1 << 20):
                h.update(block)
            return h.hexdigest()
        h.update(f"size={size};".encode())
        h.update(f.read(_EDGE))
        f.seek(size - _EDGE)
        h.update(f.read(_EDGE))
    return "edges:" + h.hexdigest()


def files_fingerprint(paths: Iterable[str | os.PathLike], root: str | os.PathLike | None = None) -> str:
    """One hash over several files (names relative to `root` and their fingerprints, sorted)."""
    items = []
    for p in paths:
        p = Path(p)
        name = str(p.relative_to(root)) if root is not None else p.name
        items.append(f"{name}\t{file_fingerprint(p)}")
    return hashlib.sha256("\n".join(sorted(items)).encode()).hexdigest()


def dir_fingerprint(directory: str | os.PathLike) -> str:
    """Hash of every regular file under `directory` (recursively)."""
    root = Path(directory)
    return files_fingerprint((p for p in root.rglob("*") if p.is_file()), root=root)


def package_version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None
