"""Reconciliation: what of the text and of the audio no utterance covers.

Text side: the original-text ranges outside every utterance's [text-start, text-end), cut into
pieces at line breaks and given a guessed kind, plus the ranges an utterance skipped inside it
(page furniture its record lists under `skipped`). Audio side: the stretches of speech (the VAD's
fragments) that no utterance covers, with their durations.

Kinds of text ranges, guessed from the text alone (first rule that fits):
- `front matter`: text before the first utterance's text (title page, preface, dedication);
- `back matter`: text after the last utterance's text;
- `table of contents`: lines ending in a page number (often after dot leaders), or a "Contents"
  heading followed by such lines;
- `page number or running head`: a line that is only a page number ("12", "- 12 -", "[xii]",
  "Page 12"), or a short line that occurs three times or more in the document (running heads,
  ignoring numbers in it);
- `heading`: one short line (at most 12 words) standing alone between line breaks with no
  sentence-final punctuation, or starting with chapter/part/book/section/preface/...;
- `long passage`: more than `long_words` words of running text;
- `words`: a few words of running text (often an utterance edge the speech-to-text lost).
A range that is only whitespace and punctuation (0 words) is not listed.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_PAGE = re.compile(r"^\s*[-–—\[(]?\s*(?:page|p\.|pg\.?)?\s*(?:\d{1,4}|[ivxlcdm]{1,7})\s*[-–—\])]?\s*$", re.I)
_TOC_LINE = re.compile(r"^.{2,}?(?:\s*\.{2,}\s*|\s{2,}|\s+)(?:\d{1,4}|[ivxlcdm]{1,7})\s*$", re.I)
_HEADING_START = re.compile(
    r"^\s*(?:chapter|part|book|section|volume|preface|foreword|introduction|prologue|epilogue|"
    r"appendix|contents|table of contents|acknowledg(?:e)?ments|dedication|afterword|index|"
    r"[ivxlcdm]{1,7}\.?|\d{1,3}\.?)(?:\b|\s|$)", re.I)
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class UnalignedParams:
    long_words: int = 12        # --unaligned-long-words: more words than this is a long passage
    min_audio_ms: float = 200.0  # --unaligned-min-audio-ms: shorter uncovered speech is not listed
    heading_words: int = 12     # a heading has at most this many words


@dataclass(frozen=True)
class TextRange:
    start: int
    end: int
    kind: str
    words: int
    text: str
    inside_utterance: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"text-start": self.start, "text-end": self.end, "kind": self.kind, "words": self.words,
                "inside-utterance": self.inside_utterance, "text": self.text}


@dataclass(frozen=True)
class AudioRange:
    start: float    # ms
    end: float

    @property
    def duration_ms(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "duration": round(self.duration_ms, 1)}


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def uncovered(total: tuple[float, float], covered: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Parts of [total) outside the union of `covered` ranges."""
    out, t = [], total[0]
    for s, e in sorted(covered):
        if s > t:
            out.append((t, min(s, total[1])))
        t = max(t, e)
        if t >= total[1]:
            break
    if t < total[1]:
        out.append((t, total[1]))
    return [(s, e) for s, e in out if e > s]


def _line_key(line: str) -> str:
    return _DIGITS.sub("#", " ".join(line.split()).lower())


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) split at line breaks, each piece stripped of surrounding whitespace."""
    out = []
    pos = start
    for piece in re.split(r"(\n)", text[start:end]):
        if piece and piece != "\n":
            s = pos + len(piece) - len(piece.lstrip())
            e = pos + len(piece.rstrip())
            if e > s:
                out.append((s, e))
        pos += len(piece)
    return out


def _standalone(text: str, s: int, e: int) -> bool:
    """The line [s, e) is a whole line of the original (line breaks or text edges around it)."""
    before = text[:s].rstrip(" \t")
    after = text[e:].lstrip(" \t")
    return (not before or before.endswith("\n")) and (not after or after.startswith("\n"))


def _line_kind(text: str, s: int, e: int, repeats: Counter, params: UnalignedParams) -> str | None:
    line = text[s:e]
    whole = _standalone(text, s, e)
    if whole and _PAGE.match(line):
        return "page number or running head"
    n = word_count(line)
    if whole and n <= params.heading_words and repeats[_line_key(line)] >= 3:
        return "page number or running head"
    if whole and _TOC_LINE.match(line) and n <= params.heading_words and not line.rstrip().endswith((".", "?", "!")):
        if re.search(r"\.{2,}|\s{2,}\S+\s*$", line) or _HEADING_START.match(line):
            return "table of contents"
    if whole and n <= params.heading_words and not re.search(r"[.?!:;,]['\"’”)]?\s*$", line):
        return "heading"
    if whole and _HEADING_START.match(line) and n <= params.heading_words:
        return "heading"
    return None


def classify(text: str, start: int, end: int, first: bool, last: bool, repeats: Counter,
             params: UnalignedParams) -> list[TextRange]:
    """Pieces of the uncovered range [start, end) with their kinds (merged where alike)."""
    pieces: list[list[Any]] = []   # [s, e, kind, whole line?]
    for s, e in _lines(text, start, end):
        if word_count(text[s:e]) == 0:
            continue
        kind = _line_kind(text, s, e, repeats, params) or "text"
        whole = _standalone(text, s, e)
        if pieces and pieces[-1][2] == kind and kind in ("text", "table of contents", "page number or running head") \
                and pieces[-1][3] == whole:
            pieces[-1][1] = e
        else:
            pieces.append([s, e, kind, whole])
    # A "Contents" heading directly before contents lines belongs to them.
    for i in range(len(pieces) - 1):
        if pieces[i][2] == "heading" and pieces[i + 1][2] == "table of contents" \
                and "content" in text[pieces[i][0]:pieces[i][1]].lower():
            pieces[i][2] = "table of contents"
    merged: list[list[Any]] = []
    for p in pieces:
        if merged and merged[-1][2] == p[2] == "table of contents":
            merged[-1][1] = p[1]
        else:
            merged.append(p)
    # Before the first utterance: text and headings are front matter, except the heading(s)
    # right before the spoken text (a chapter title). After the last one: back matter.
    # Part of a line (the words next to an utterance's text) is never front or back matter.
    edge = "front matter" if first else "back matter" if last else None
    if edge:
        keep = len(merged)
        if first:
            while keep > 0 and (merged[keep - 1][2] in ("heading", "page number or running head")
                                or not merged[keep - 1][3]):
                keep -= 1
        for p in merged[:keep] if first else merged:
            if p[2] in ("text", "heading") and p[3]:
                p[2] = edge
    out: list[TextRange] = []
    for s, e, kind, _whole in merged:
        if kind == "text":
            kind = "long passage" if word_count(text[s:e]) > params.long_words else "words"
        if out and out[-1].kind == kind in ("front matter", "back matter"):
            s = out.pop().start
        out.append(TextRange(s, e, kind, word_count(text[s:e]), text[s:e]))
    return out


def unaligned_text(original: str, covered: Sequence[tuple[int, int]],
                   skipped: Sequence[tuple[int, int, str | None]] = (),
                   params: UnalignedParams = UnalignedParams()) -> list[TextRange]:
    """Original-text ranges no utterance covers, in text order, with kinds and word counts.

    covered: each utterance's (text-start, text-end). skipped: (start, end, kind) ranges an
    utterance left out inside itself (flagged `inside_utterance`; kind None: guessed like the others).
    """
    repeats = Counter(_line_key(original[s:e]) for s, e in _lines(original, 0, len(original)))
    spans = [(s, e) for s, e in covered if e > s]
    first_at = min((s for s, _ in spans), default=len(original))
    last_at = max((e for _, e in spans), default=0)
    out: list[TextRange] = []
    for s, e in uncovered((0, len(original)), spans):
        s, e = int(s), int(e)
        out.extend(classify(original, s, e, first=e <= first_at and bool(spans), last=s >= last_at and bool(spans),
                            repeats=repeats, params=params))
    for s, e, kind in skipped:
        n = word_count(original[s:e])
        if n:
            if not kind:
                kind = _line_kind(original, s, e, repeats, params) or "skipped text"
            out.append(TextRange(s, e, kind, n, original[s:e], inside_utterance=True))
    out.sort(key=lambda r: (r.start, r.end))
    return out


def unaligned_audio(speech: Sequence[tuple[float, float]], covered: Sequence[tuple[float, float]],
                    params: UnalignedParams = UnalignedParams()) -> list[AudioRange]:
    """Parts of the speech ranges (ms) that no utterance covers, at least `min_audio_ms` long."""
    out = []
    for s, e in sorted(speech):
        for a, b in uncovered((s, e), covered):
            if b - a >= params.min_audio_ms:
                out.append(AudioRange(round(a, 1), round(b, 1)))
    return out


def report(text: Sequence[TextRange], audio: Sequence[AudioRange]) -> dict[str, Any]:
    """The `--output-unaligned` file's content."""
    return {
        "text": [r.to_dict() for r in text],
        "audio": [r.to_dict() for r in audio],
        "totals": totals(text, audio),
    }


def totals(text: Sequence[TextRange], audio: Sequence[AudioRange]) -> dict[str, Any]:
    return {
        "text-ranges": len(text),
        "text-words": sum(r.words for r in text),
        "text-chars": sum(r.end - r.start for r in text),
        "audio-ranges": len(audio),
        "audio-seconds": round(sum(r.duration_ms for r in audio) / 1000.0, 2),
    }


def summary_line(text: Sequence[TextRange], audio: Sequence[AudioRange]) -> str:
    t = totals(text, audio)
    return (f"unaligned: {t['text-words']} words of text in {t['text-ranges']} ranges, "
            f"{t['audio-seconds']:.1f} s of speech in {t['audio-ranges']} ranges")
