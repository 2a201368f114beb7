"""Word-timed subtitles: cue times from the words' forced-alignment times (align/words.py).

Two styles on top of align/subtitles.py's cue splitting (lines of at most 42 characters):
- `words`: the cues of align/subtitles.py (with `SubtitleParams(max_lines=1)`: one cue per line),
  each starting at its first word's start and ending at its last word's end;
- `karaoke` (WebVTT): those cues, with an inline timestamp `<hh:mm:ss.mmm>` before every word after
  the first, so players highlight each word as it is spoken.
A cue's words are found through the original text: a cue covers a stretch of the utterance's
original text (its `aligned-raw`, whitespace collapsed), and a word record covers
[text-start, text-end) of the original. A cue without a word record keeps the character timing.
"""

from __future__ import annotations

import html
from typing import Any, Iterable, Sequence

from .subtitles import Cue, SubtitleParams, _rounded, _stamp, char_timing, split_cues


def norm_to_original(utt: Any) -> list[int]:
    """Original offset of each character of " ".join(utt.aligned_raw.split())."""
    raw = utt.aligned_raw
    out: list[int] = []
    k = 0
    n = len(raw)
    while k < n:
        while k < n and raw[k].isspace():
            k += 1
        if k >= n:
            break
        if out:
            out.append(utt.text_start + k - 1)   # the single space standing for the whitespace run
        while k < n and not raw[k].isspace():
            out.append(utt.text_start + k)
            k += 1
    return out


def _words(utt: Any) -> list[dict]:
    return list((getattr(utt, "extra", None) or {}).get("words") or ())


def _covering(words: Sequence[dict], a: int, b: int) -> list[dict]:
    """Word records overlapping original [a, b)."""
    return [w for w in words if w["text-start"] < b and w["text-end"] > a]


def word_timing(utt: Any, norm: str, a: int, b: int) -> tuple[float, float]:
    """(start, end) of the cue covering norm[a:b]: its words' first start and last end."""
    words = _words(utt)
    offs = norm_to_original(utt)
    if words and a < b <= len(offs):
        hit = _covering(words, offs[a], offs[b - 1] + 1)
        if hit:
            return hit[0]["start"], hit[-1]["end"]
    return char_timing(utt, norm, a, b)


def karaoke_vtt(utterances: Iterable[Any], params: SubtitleParams = SubtitleParams()) -> str:
    """WebVTT with a timestamp before every word of a cue after its first."""
    cues: list[Cue] = []
    bodies: list[list[tuple[float | None, str]]] = []    # per cue: (word start or None, token) per token
    for u in sorted(utterances, key=lambda u: (u.start, u.end)):
        norm, spans = split_cues(u.aligned_raw, params)
        offs = norm_to_original(u)
        words = _words(u)
        for lines, a, b in spans:
            s, e = word_timing(u, norm, a, b)
            cues.append(Cue(s, e, lines))
            toks: list[tuple[float | None, str]] = []
            pos = a
            for li, line in enumerate(lines):
                for ti, tok in enumerate(line.split(" ")):
                    hit = _covering(words, offs[pos], offs[pos + len(tok) - 1] + 1) if tok and pos + len(tok) <= len(offs) else []
                    toks.append((hit[0]["start"] if hit else None, ("\n" if li and ti == 0 else "") + tok))
                    pos += len(tok) + 1
            bodies.append(toks)
    parts = ["WEBVTT\n"]
    for (s, e, c), toks in zip(_rounded(cues), bodies):
        text, prev = "", float(s)
        for k, (t, tok) in enumerate(toks):
            sep = "" if k == 0 or tok.startswith("\n") else " "
            stamp = ""
            if k > 0 and t is not None and prev < t < e:
                stamp = f"<{_stamp(t, '.')}>"
                prev = t
            text += sep + (tok[0] if tok.startswith("\n") else "") + stamp + html.escape(tok.lstrip("\n"), quote=False)
        parts.append(f"{_stamp(s, '.')} --> {_stamp(e, '.')}\n{text}\n")
    return "\n".join(parts)


TIMINGS = ("chars", "words", "lines", "karaoke")


def subtitles_text(utterances: Sequence[Any], kind: str, timing: str) -> str:
    """An SRT/VTT file's text with cue times by `timing`: chars (align/subtitles.py's sharing by
    characters, cues of up to 2 lines), words (the same cues timed by their words), lines (one cue
    per line of at most 42 characters, timed by its words), karaoke (VTT: word-timed cues with a
    timestamp before each word; SRT has no inline times and gets the `words` cues)."""
    from .subtitles import subtitles

    if timing == "chars":
        return subtitles(utterances, kind)
    params = SubtitleParams(max_lines=1) if timing == "lines" else SubtitleParams()
    if timing == "karaoke" and kind == "vtt":
        return karaoke_vtt(utterances, params)
    return subtitles(utterances, kind, params, timing=word_timing)
