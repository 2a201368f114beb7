"""Text normalisation to a model's alphabet, keeping an exact map back to the original text.

For a document (not a transcript) two steps come first: page furniture (running heads, page
numbers, footnote marks, line-end hyphens: `furniture.py`) is left out of the clean text, and
numbers, symbols and abbreviations are replaced by their spoken words (`verbalize.py`). Every
clean character keeps the original range [positions[k], ends[k]) it came from: one character
for ordinary text, the digits "2" for each character of "two", the whole "$5" for "five dollars".

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
from .furniture import FurnitureParams, Removed, find_furniture
from .verbalize import MODES as VERBALIZE_MODES, language_of, verbalize

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
    # --text-verbalize: none | numbers | all (numbers, symbols, abbreviations; a symbol between
    # two letters, "png_set" "fsf.org", then reads as a word break).
    verbalize: str = "all"
    furniture: FurnitureParams = FurnitureParams()   # --text-furniture / --no-text-furniture

    def __post_init__(self):
        if self.verbalize not in VERBALIZE_MODES:
            raise ValueError(f"verbalize must be one of {VERBALIZE_MODES}")


@dataclass(frozen=True)
class Phrase:
    """A span of the original text with its meta (a `.script` entry's keys other than `text`)."""

    start: int
    end: int
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class CleanText:
    """The clean text and its maps back to the original.

    positions[k], ends[k]: the original range [positions[k], ends[k]) that produced clean[k]
    (both non-decreasing in k).
    phrase_of[k]: index into `phrases` of clean[k], or -1 for a phrase separator.
    removed: original ranges left out as page furniture (sorted, disjoint).
    unsaid: original ranges of tokens that could not be verbalised (kept as they were).
    """

    clean: str
    original: str
    positions: np.ndarray
    phrase_of: np.ndarray
    phrases: list[Phrase]
    ends: np.ndarray = None
    removed: list[Removed] = field(default_factory=list)
    unsaid: list[tuple[int, int]] = field(default_factory=list)
    said: int = 0               # tokens replaced by their spoken words

    def __post_init__(self):
        if self.ends is None:
            self.ends = self.positions + 1

    def __len__(self) -> int:
        return len(self.clean)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Original [start, end) covering clean[start:end] (exclusive end = past its last char)."""
        if end <= start:
            o = int(self.positions[start]) if start < len(self.positions) else len(self.original)
            return o, o
        return int(self.positions[start]), int(self.ends[end - 1])

    def words(self, start: int, end: int) -> list[tuple[str, int, int]]:
        """(spoken word, original start, original end) of every clean word in clean[start:end]:
        what word timings need to point at the original ("two" -> the "2" it says)."""
        out = []
        k = start
        c = self.clean
        while k < end:
            if c[k] == " ":
                k += 1
                continue
            j = k
            while j < end and c[j] != " ":
                j += 1
            out.append((c[k:j], int(self.positions[k]), int(self.ends[j - 1])))
            k = j
        return out

    def skipped(self, start: int, end: int, kinds=("header", "page-number", "footnote-mark")) -> list[tuple[int, int]]:
        """Removed original ranges of `kinds` inside the original span [start, end)."""
        import bisect

        i = bisect.bisect_left(self.removed, (start,))
        out = []
        while i < len(self.removed) and self.removed[i].start < end:
            r = self.removed[i]
            if r.end <= end and r.kind in kinds:
                out.append((r.start, r.end))
            i += 1
        return out

    def phrases_in(self, start: int, end: int) -> list[int]:
        """Sorted distinct phrase indexes touched by clean[start:end]."""
        # (a set, not np.unique: cheaper on a few ids, and np.unique imports numpy.ma)
        return sorted(i for i in set(self.phrase_of[start:end].tolist()) if i >= 0)


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


def _edits(original: str, alphabet: Alphabet, params: TextParams):
    """Removed furniture, verbalised tokens, unsaid tokens; and {start: (end, words or None)}."""
    removed = find_furniture(original, params.furniture)
    v = verbalize(original, params.verbalize, language_of(alphabet.labels), [(r.start, r.end) for r in removed])
    edits: dict[int, tuple[int, tuple]] = {r.start: (r.end, ()) for r in removed}
    for t in v.tokens:
        edits[t.start] = (t.end, t.words)
    return removed, v.unsaid, edits, len(v.tokens)


def normalise(
    original: str,
    phrases: Sequence[Phrase],
    alphabet: Alphabet,
    params: TextParams = TextParams(),
    document: bool = True,
) -> CleanText:
    """Clean `original` phrase by phrase; phrases must be ordered and non-overlapping.

    document=False (a transcript): no page furniture, but numbers are still verbalised (another
    speech-to-text may write "2")."""
    clean: list[str] = []
    positions: list[int] = []
    ends: list[int] = []
    phrase_of: list[int] = []
    collapse = not params.keep_ws
    space_ok = " " in alphabet
    fold_cache: dict[str, str] = {}
    if document:
        removed, unsaid, edits, said = _edits(original, alphabet, params)
    else:
        removed, unsaid, said = [], [], 0
        edits = {t.start: (t.end, t.words) for t in verbalize(original, params.verbalize, language_of(alphabet.labels)).tokens}
    split_symbols = params.verbalize == "all" and space_ok

    def put(c: str, s: int, e: int, pi: int) -> None:
        if c == " ":
            if (collapse and (not clean or clean[-1] == " ")) or not space_ok:
                return
        clean.append(c)
        positions.append(s)
        ends.append(e)
        phrase_of.append(pi)

    for pi, ph in enumerate(phrases):
        if clean and space_ok:
            # One separator between phrases, placed at the original gap between them.
            sep_at = max(ph.start - 1, 0)
            if clean[-1] == " " and collapse:
                phrase_of[-1] = -1
            else:
                clean.append(" ")
                positions.append(sep_at)
                ends.append(sep_at + 1)
                phrase_of.append(-1)
        off = ph.start
        # offsets where an edit starts, in order: the common path needs no dictionary look-up
        starts = sorted(k for k in edits if ph.start <= k < ph.end) if edits else []
        si = 0
        next_edit = starts[0] if starts else ph.end
        while off < ph.end:
            ch = original[off]
            if off == next_edit:
                si += 1
                next_edit = starts[si] if si < len(starts) else ph.end
                edit = edits[off]
                end, words = edit
                for w in words:
                    put(" ", w.start, w.end, pi)
                    for c in w.word:
                        for f in (fold_cache.get(c) or fold_cache.setdefault(c, _fold(c, alphabet, params))):
                            put(f, w.start, w.end, pi)
                if words:
                    put(" ", end - 1, end, pi)
                off = max(off + 1, min(end, ph.end))
                while next_edit < off:  # (an edit inside the one just done cannot happen; be safe)
                    si += 1
                    next_edit = starts[si] if si < len(starts) else ph.end
                continue
            off += 1
            if (ch == "'" or ch in APOSTROPHES) and not _inside_word(original, off - 1, ph):
                continue  # a quotation mark ('like this'), not an apostrophe (it's)
            folded = fold_cache.get(ch)
            if folded is None:
                folded = fold_cache[ch] = _fold(ch, alphabet, params)
            if not folded and split_symbols and clean and clean[-1] != " " and off < ph.end \
                    and original[off].isalnum() and ch not in APOSTROPHES and ch != "'" \
                    and not (params.keep_dashes and ch in DASHES):
                folded = " "  # png_set, fsf.org, U.S.: a symbol between letters is a word break
            for c in folded:  # put() inlined: this loop runs once per character of a book
                if c == " " and (not space_ok or (collapse and (not clean or clean[-1] == " "))):
                    continue
                clean.append(c)
                positions.append(off - 1)
                ends.append(off)
                phrase_of.append(pi)
    # No leading/trailing space: it would only pad matches.
    while clean and clean[-1] == " " and collapse:
        clean.pop(), positions.pop(), ends.pop(), phrase_of.pop()
    return CleanText(
        clean="".join(clean),
        original=original,
        positions=np.asarray(positions, dtype=np.int64),
        phrase_of=np.asarray(phrase_of, dtype=np.int32),
        phrases=list(phrases),
        ends=np.asarray(ends, dtype=np.int64),
        removed=list(removed),
        unsaid=list(unsaid),
        said=said,
    )
