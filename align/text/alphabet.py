"""The alphabet of a speech-to-text model: the characters its transcripts can contain."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..common.errors import UserError
from ..common.fileio import read_text


# The English alphabet of models/en/alphabet.txt, used when that file is not at hand (an
# installed, not editable, package).
ENGLISH_LABELS = " abcdefghijklmnopqrstuvwxyz'"


@dataclass(frozen=True)
class Alphabet:
    labels: frozenset[str]

    def __contains__(self, ch: str) -> bool:
        return ch in self.labels

    @classmethod
    def from_labels(cls, labels: str) -> "Alphabet":
        return cls(frozenset(labels))


def load_alphabet(path: str | os.PathLike) -> Alphabet:
    """One label per line; `#` starts a comment line, `\\#` is the label `#`.

    Unlike the reference, the last line needs no trailing newline and a label is exactly the
    line's content (a line holding one space is the space label).
    """
    text = read_text(path, "alphabet file")
    labels: set[str] = set()
    for lineno, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if line.startswith("#"):
            continue
        if line.startswith("\\#"):
            line = line[1:]
        if line == "":
            continue
        if len(line) != 1:
            raise UserError(f"{path}:{lineno}: an alphabet label must be one character, got {line!r}")
        labels.add(line)
    if not labels:
        raise UserError(f"{path}: the alphabet file has no labels")
    return Alphabet(frozenset(labels))
