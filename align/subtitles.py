"""Subtitles (SRT, WebVTT) from aligned utterances, carrying the original text.

An utterance's original text (whitespace collapsed) is packed greedily into lines of at most
`max_chars` characters at word boundaries (a longer word gets a line of its own), and the lines into
cues of at most `max_lines`. Each cue covers a character span of the text; `timing` turns that span
into times. The default shares the utterance's time out by characters; a word-timed strategy only
has to provide another `timing` function with the same signature.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence


@dataclass(frozen=True)
class SubtitleParams:
    max_chars: int = 42      # characters per line (a longer single word is kept whole)
    max_lines: int = 2       # lines per cue


@dataclass(frozen=True)
class Cue:
    start: float             # ms
    end: float               # ms
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


# timing(utterance, text, first char, end char) -> (start ms, end ms) of the cue covering text[a:b]
Timing = Callable[[Any, str, int, int], tuple[float, float]]


def char_timing(utt: Any, text: str, a: int, b: int) -> tuple[float, float]:
    """Share the utterance's time out in proportion to characters."""
    n = max(len(text), 1)
    dur = utt.end - utt.start
    return utt.start + dur * a / n, utt.start + dur * b / n


def pack_lines(words: Sequence[str], max_chars: int) -> list[list[str]]:
    lines: list[list[str]] = []
    cur: list[str] = []
    width = 0
    for w in words:
        if cur and width + 1 + len(w) > max_chars:
            lines.append(cur)
            cur, width = [], 0
        width += len(w) + (1 if cur else 0)
        cur.append(w)
    if cur:
        lines.append(cur)
    return lines


def split_cues(text: str, params: SubtitleParams = SubtitleParams()) -> tuple[str, list[tuple[tuple[str, ...], int, int]]]:
    """(normalised text, [(cue lines, first char, end char)]) with contiguous spans covering the text."""
    words = text.split()
    norm = " ".join(words)
    lines = pack_lines(words, params.max_chars)
    cues: list[tuple[tuple[str, ...], int, int]] = []
    pos = 0
    for k in range(0, len(lines), params.max_lines):
        group = tuple(" ".join(line) for line in lines[k:k + params.max_lines])
        length = sum(len(g) for g in group) + len(group) - 1
        end = pos + length
        # The space after a cue belongs to it, so spans are contiguous and the last ends at len(norm).
        nxt = end + 1 if end < len(norm) else end
        cues.append((group, pos, nxt))
        pos = nxt
    return norm, cues


def utterance_cues(utt: Any, params: SubtitleParams = SubtitleParams(), timing: Timing = char_timing) -> list[Cue]:
    norm, spans = split_cues(utt.aligned_raw, params)
    out = []
    for lines, a, b in spans:
        s, e = timing(utt, norm, a, b)
        out.append(Cue(s, e, lines))
    return out


def document_cues(utterances: Iterable[Any], params: SubtitleParams = SubtitleParams(),
                  timing: Timing = char_timing) -> list[Cue]:
    """Cues of all utterances in time order; empty texts give none."""
    cues: list[Cue] = []
    for u in sorted(utterances, key=lambda u: (u.start, u.end)):
        cues.extend(utterance_cues(u, params, timing))
    return cues


def _stamp(ms: float, sep: str) -> str:
    t = max(0, int(round(ms)))
    h, rest = divmod(t, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, milli = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{milli:03d}"


def _rounded(cues: Sequence[Cue]) -> list[tuple[int, int, Cue]]:
    """Whole-millisecond times with end > start and no cue starting before the previous one ends."""
    out = []
    prev_end = 0
    for c in cues:
        s = max(int(round(c.start)), prev_end)
        e = max(int(round(c.end)), s + 1)
        out.append((s, e, c))
        prev_end = e
    return out


def format_srt(cues: Sequence[Cue]) -> str:
    parts = []
    for i, (s, e, c) in enumerate(_rounded(cues), 1):
        parts.append(f"{i}\n{_stamp(s, ',')} --> {_stamp(e, ',')}\n{c.text}\n")
    return "\n".join(parts)


def format_vtt(cues: Sequence[Cue]) -> str:
    parts = ["WEBVTT\n"]
    for s, e, c in _rounded(cues):
        text = "\n".join(html.escape(line, quote=False) for line in c.lines)
        parts.append(f"{_stamp(s, '.')} --> {_stamp(e, '.')}\n{text}\n")
    return "\n".join(parts)


FORMATTERS: dict[str, Callable[[Sequence[Cue]], str]] = {"srt": format_srt, "vtt": format_vtt}


def subtitles(utterances: Iterable[Any], kind: str, params: SubtitleParams = SubtitleParams(),
              timing: Timing = char_timing) -> str:
    """The text of an SRT or WebVTT file for one document's utterances."""
    return FORMATTERS[kind](document_cues(utterances, params, timing))
