"""SRT/WebVTT writer: cue packing at word boundaries, character-shared timing, parsed back by libraries."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from align.export.records import Utterance
from align.subtitles import SubtitleParams, char_timing, document_cues, split_cues, subtitles


def U(start, end, raw):
    return Utterance(start=start, end=end, transcript="", text_start=0, text_end=len(raw), meta={}, aligned_raw=raw,
                     aligned=raw.lower())


words_st = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyzé,.'", min_size=1, max_size=60), min_size=1, max_size=40)


@settings(max_examples=100, deadline=None)
@given(words_st, st.integers(10, 60), st.integers(1, 3))
def test_cues_keep_every_word_in_order_within_limits(words, max_chars, max_lines):
    text = "  ".join(words) + "\n"
    norm, cues = split_cues(text, SubtitleParams(max_chars, max_lines))
    assert norm == " ".join(words)
    # words are never split, and in order
    assert [w for lines, _, _ in cues for line in lines for w in line.split(" ")] == words
    for lines, a, b in cues:
        assert 1 <= len(lines) <= max_lines
        for line in lines:
            assert len(line) <= max_chars or " " not in line     # only a single long word may exceed
        assert norm[a:b].strip() == " ".join(lines)
    # spans are contiguous and cover the text
    assert cues[0][1] == 0 and cues[-1][2] == len(norm)
    assert all(cues[k][2] == cues[k + 1][1] for k in range(len(cues) - 1))


def test_timing_is_shared_by_characters():
    u = U(1000.0, 3000.0, "aaaa bbbb cccc dddd")      # 19 characters
    norm, cues = split_cues(u.aligned_raw, SubtitleParams(max_chars=9, max_lines=1))
    assert [c[0] for c in cues] == [("aaaa bbbb",), ("cccc dddd",)]
    times = [char_timing(u, norm, a, b) for _, a, b in cues]
    assert times[0] == (1000.0, 1000.0 + 2000.0 * 10 / 19)
    assert times[1] == (1000.0 + 2000.0 * 10 / 19, 3000.0)


def _utts():
    long = ("It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
            "foolishness, it was the epoch of belief, it was the epoch of incredulity.")
    return [U(500.0, 9500.0, long), U(10000.0, 11234.5, "Short & <sweet> line."), U(3_725_001.0, 3_726_000.0, "Late.")]


def test_srt_parses_back():
    srt = pytest.importorskip("srt")
    text = subtitles(_utts(), "srt")
    subs = list(srt.parse(text))
    assert len(subs) >= 5
    assert subs[0].start.total_seconds() == 0.5 and subs[-1].end.total_seconds() == 3726.0
    assert " ".join(s.content.replace("\n", " ") for s in subs[:-2]) == " ".join(_utts()[0].aligned_raw.split())
    assert subs[-2].content == "Short & <sweet> line."
    for s in subs:
        lines = s.content.split("\n")
        assert len(lines) <= 2 and all(len(line) <= 42 for line in lines)
        assert s.end > s.start
    for a, b in zip(subs, subs[1:]):
        assert a.end <= b.start
    assert srt.compose(subs, reindex=False).rstrip("\n") == text.rstrip("\n")     # canonical SRT


def test_vtt_parses_back():
    webvtt = pytest.importorskip("webvtt")
    text = subtitles(_utts(), "vtt")
    assert text.startswith("WEBVTT\n\n")
    captions = webvtt.from_buffer(io.StringIO(text)).captions
    cues = document_cues(_utts())
    assert len(captions) == len(cues)
    assert captions[0].start == "00:00:00.500" and captions[-1].end == "01:02:06.000"
    assert "&lt;sweet&gt;" in text and captions[-2].raw_text == "Short &amp; &lt;sweet&gt; line."
    for cap, cue in zip(captions[:-2], cues[:-2]):
        assert cap.text.split("\n") == list(cue.lines)


def test_align_writes_subtitles(tmp_path):
    """`align --output-format srt --output-format vtt` writes both next to the .aligned file."""
    import json
    import os
    import subprocess
    import sys

    srt = pytest.importorskip("srt")
    webvtt = pytest.importorskip("webvtt")
    sentences = ["It was a bright cold day in April, and the clocks were striking thirteen.",
                 "Winston Smith, his chin nuzzled into his breast in an effort to escape the vile wind, slipped "
                 "quickly through the glass doors of Victory Mansions.",
                 "The hallway smelt of boiled cabbage and old rag mats."]
    (tmp_path / "book.txt").write_text("\n".join(sentences), encoding="utf-8")
    tlog = []
    t = 0.0
    for s in sentences:
        clean = "".join(c for c in s.lower() if c.isalpha() or c in " '")
        tlog.append({"start": t, "end": t + 60.0 * len(clean), "transcript": " ".join(clean.split())})
        t += 60.0 * len(clean) + 700
    (tmp_path / "book.tlog").write_text(json.dumps(tlog), encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "align.cli.align", "--tlog", str(tmp_path / "book.tlog"), "--script",
                        str(tmp_path / "book.txt"), "--aligned", str(tmp_path / "book.aligned"), "--no-progress",
                        "--output-format", "srt", "--output-format", "vtt"],
                       capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert r.returncode == 0, r.stderr
    aligned = json.loads((tmp_path / "book.aligned").read_text())
    assert len(aligned) == 3
    subs = list(srt.parse((tmp_path / "book.srt").read_text(encoding="utf-8")))
    joined = " ".join(s.content.replace("\n", " ") for s in subs)
    assert joined == " ".join(" ".join(u["aligned-raw"].split()) for u in aligned)
    assert subs[0].start.total_seconds() == pytest.approx(aligned[0]["start"] / 1000, abs=1e-3)
    assert subs[-1].end.total_seconds() == pytest.approx(aligned[-1]["end"] / 1000, abs=1e-3)
    assert all(len(line) <= 42 for s in subs for line in s.content.split("\n"))
    caps = webvtt.read(str(tmp_path / "book.vtt")).captions
    assert [c.text for c in caps] == [s.content for s in subs]
