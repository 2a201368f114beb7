"""Reading the original text: plain text, one phrase per line, or a `.script` JSON file."""

from __future__ import annotations

import os
from pathlib import Path

from ..common.errors import UserError
from ..common.fileio import read_json, read_text
from .normalise import Phrase


def read_script(path: str | os.PathLike, meaningful_newlines: bool = False) -> tuple[str, list[Phrase]]:
    """Return (original text, phrases).

    `.script` files are a JSON list of objects with a string `text` and any other keys (meta);
    their original text is the entries' texts joined by newlines. A plain-text file is its own
    original text: one phrase, or one per line with `meaningful_newlines`.
    """
    path = Path(path)
    if path.suffix == ".script":
        data = read_json(path, "script file")
        if not isinstance(data, list):
            raise UserError(f"{path}: a .script file must be a JSON list of {{\"text\": ...}} objects")
        texts: list[str] = []
        metas: list[dict] = []
        for i, entry in enumerate(data):
            if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
                raise UserError(f"{path}: entry {i} needs a string \"text\" key")
            texts.append(entry["text"])
            metas.append({k: v for k, v in entry.items() if k != "text"})
        original = "\n".join(texts)
        phrases, pos = [], 0
        for text, meta in zip(texts, metas):
            phrases.append(Phrase(pos, pos + len(text), meta))
            pos += len(text) + 1
        return original, phrases
    original = read_text(path, "text file")
    if not meaningful_newlines:
        return original, [Phrase(0, len(original))]
    phrases, pos = [], 0
    for line in original.split("\n"):
        if line.strip():
            phrases.append(Phrase(pos, pos + len(line)))
        pos += len(line) + 1
    return original, phrases
