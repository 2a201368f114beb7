"""Text normalisation to a model's alphabet, keeping an exact map back to the original text.

The original text is a sequence of phrases (a whole plain-text file, one line each with
meaningful newlines, or one `.script` entry each). Every character of the clean text records
the offset of the original character it came from, and which phrase it belongs to (-1 for the
separator between two phrases). Case folding works per original character, so a character
whose lower case is longer (e.g. 'İ' -> 'i̇') maps all its clean characters to its own offset
and never shifts the offsets of what follows.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .alphabet import Alphabet

# Characters that read as a dash, turned into spaces unless --text-keep-dashes.
DASHES = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212")
# Typographic apostrophes, read as the ASCII apostrophe when the alphabet has one. Any of them
# counts as an apostrophe only between two letters; elsewhere it is a quotation mark.
APOSTROPHES = frozenset("\u2019\u2018\u02bc\u00b4`")


@dataclass(frozen=True)
class TextParams:
    keep_dashes: bool = False
    keep_ws: bool = False
    keep_casing: bool = False


@dataclass(frozen=True)
class Phrase:
    """A span of the original text with its meta (a `.script` entry's keys other than `text`)."""

    start: int
    end: int
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class CleanText:
    """The clean text and its maps back to the original.

    positions[k]: original offset of the character that produced clean[k].
    phrase_of[k]: index into `phrases` of clean[k], or -1 for a phrase separator.
    """

    clean: str
    original: str
    positions: np.ndarray
    phrase_of: np.ndarray
    phrases: list[Phrase]

    def __len__(self) -> int:
        return len(self.clean)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Original [start, end) covering clean[start:end] (exclusive end = past its last char)."""
        if end <= start:
            o = int(self.positions[start]) if start < len(self.positions) else len(self.original)
            return o, o
        return int(self.positions[start]), int(self.positions[end - 1]) + 1

    def phrases_in(self, start: int, end: int) -> list[int]:
        """Sorted distinct phrase indexes touched by clean[start:end]."""
        ids = np.unique(self.phrase_of[start:end])
        return [int(i) for i in ids if i >= 0]


def _fold(ch: str, alphabet: Alphabet, params: TextParams) -> str:
    """The clean characters one original character becomes (before whitespace handling)."""
    if ch in DASHES and not params.keep_dashes and "-" not in alphabet:
        return " "
    if ch.isspace():
        return " " if not params.keep_ws else (ch if ch in alphabet else "")
    if ch in APOSTROPHES and "'" in alphabet:
        return "'"
    low = ch if params.keep_casing else ch.lower()
    out = []
    for c in low:
        if c in alphabet:
            out.append(c)
            continue
        # Accented letters read as their base letter ('é' -> 'e') when only that is in the alphabet.
        for d in unicodedata.normalize("NFKD", c):
            if d in alphabet and not unicodedata.combining(d) and not d.isspace():
                out.append(d)
    return "".join(out)


def _inside_word(text: str, off: int, ph: Phrase) -> bool:
    return ph.start < off < ph.end - 1 and text[off - 1].isalpha() and text[off + 1].isalpha()


def normalise(
    original: str,
    phrases: Sequence[Phrase],
    alphabet: Alphabet,
    params: TextParams = TextParams(),
) -> CleanText:
    """Clean `original` phrase by phrase; phrases must be ordered and non-overlapping."""
    clean: list[str] = []
    positions: list[int] = []
    phrase_of: list[int] = []
    collapse = not params.keep_ws
    space_ok = " " in alphabet
    fold_cache: dict[str, str] = {}

    for pi, ph in enumerate(phrases):
        if clean and space_ok:
            # One separator between phrases, placed at the original gap between them.
            sep_at = max(ph.start - 1, 0)
            if clean[-1] == " " and collapse:
                phrase_of[-1] = -1
            else:
                clean.append(" ")
                positions.append(sep_at)
                phrase_of.append(-1)
        for off in range(ph.start, ph.end):
            ch = original[off]
            if (ch == "'" or ch in APOSTROPHES) and not _inside_word(original, off, ph):
                continue  # a quotation mark ('like this'), not an apostrophe (it's)
            folded = fold_cache.get(ch)
            if folded is None:
                folded = fold_cache[ch] = _fold(ch, alphabet, params)
            for c in folded:
                if c == " " and collapse and (not clean or clean[-1] == " "):
                    continue
                if c == " " and not space_ok:
                    continue
                clean.append(c)
                positions.append(off)
                phrase_of.append(pi)
    # No leading/trailing space: it would only pad matches.
    while clean and clean[-1] == " " and collapse:
        clean.pop(), positions.pop(), phrase_of.pop()
    return CleanText(
        clean="".join(clean),
        original=original,
        positions=np.asarray(positions, dtype=np.int64),
        phrase_of=np.asarray(phrase_of, dtype=np.int32),
        phrases=list(phrases),
    )
