"""Word-timed subtitles (align/wordsubs.py) on top of align/subtitles.py's cue splitting."""

from __future__ import annotations

import re

from align.records import Utterance
from align.subtitles import subtitles
from align.wordsubs import norm_to_original, subtitles_text, word_timing

ORIGINAL = "Intro.  Press 2 to continue,\n or wait for the operator who will answer your call shortly, thank you."


def utterance() -> Utterance:
    """One utterance over ORIGINAL[8:] whose words are 300 ms apart from 1000 ms on."""
    s = 8
    raw = ORIGINAL[s:]
    words, t = [], 1000.0
    for m in re.finditer(r"\S+", raw):
        tok = m.group().strip(",.")
        spoken = "two" if tok == "2" else tok.lower()
        words.append({"word": spoken, "start": t, "end": t + 250.0, "score": -1.0, "aligned": True,
                      "text-start": s + m.start(), "text-end": s + m.start() + len(tok)})
        t += 300.0
    return Utterance(start=900.0, end=t + 100.0, transcript="", text_start=s, text_end=len(ORIGINAL), meta={},
                     aligned_raw=raw, aligned="", extra={"words": words})


def test_norm_offsets_point_into_the_original():
    u = utterance()
    norm = " ".join(u.aligned_raw.split())
    offs = norm_to_original(u)
    assert len(offs) == len(norm)
    assert all(ORIGINAL[o] == c for o, c in zip(offs, norm) if c != " ")


def test_word_timed_cues_start_and_end_with_their_words():
    u = utterance()
    words = u.extra["words"]
    srt = subtitles_text([u], "srt", "words")
    first = srt.split("\n\n")[0].splitlines()
    assert first[1] == "00:00:01,000 --> " + first[1].split(" --> ")[1]
    # the chars default is align/subtitles.py's output, unchanged
    assert subtitles_text([u], "srt", "chars") == subtitles([u], "srt")
    norm = " ".join(u.aligned_raw.split())
    s, e = word_timing(u, norm, 0, len("Press 2 to continue,"))
    assert (s, e) == (words[0]["start"], words[3]["end"])


def test_lines_are_single_cues_of_at_most_42_chars_timed_by_words():
    u = utterance()
    vtt = subtitles_text([u], "vtt", "lines")
    blocks = vtt.split("\n\n")[1:]
    assert len(blocks) >= 3
    starts = {w["start"] for w in u.extra["words"]}
    ends = {w["end"] for w in u.extra["words"]}
    for b in blocks:
        lines = b.strip().splitlines()
        assert len(lines) == 2 and len(lines[1]) <= 42
        a, z = lines[0].split(" --> ")
        to_ms = lambda st: (int(st[:2]) * 3600 + int(st[3:5]) * 60 + int(st[6:8])) * 1000 + int(st[9:12])
        assert to_ms(a) in starts and to_ms(z) in ends


def test_karaoke_has_a_timestamp_before_every_later_word():
    u = utterance()
    vtt = subtitles_text([u], "vtt", "karaoke")
    words = u.extra["words"]
    stamps = re.findall(r"<(\d\d):(\d\d):(\d\d)\.(\d\d\d)>", vtt)
    ms = [((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(f) for h, m, s, f in stamps]
    cues = vtt.count(" --> ")
    assert len(ms) == len(words) - cues            # every word but each cue's first
    assert ms == sorted(ms) and set(ms) <= {w["start"] for w in words}
    text = re.sub(r"<[^>]+>", "", vtt)
    assert "Press 2 to continue," in text and "thank you." in text
