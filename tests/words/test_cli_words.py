"""`align --output-words --output-phones --output-textgrid --output-unaligned` end to end on
festival speech: an unscripted intro, three sentences, and a text with a heading nobody reads."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.audio.test_e2e_cli import run_align
from tests.speechgen import build_speech, festival_missing_reason

pytestmark = pytest.mark.skipif(shutil.which("lmplz") is None, reason="KenLM lmplz not installed (bin/setup.sh builds it)")

INTRO = "This recording is in the public domain and was made for testing."
SAID = ["The quick brown fox jumps over the lazy dog.",
        "We hold these truths to be self evident.",
        "Free software is a matter of liberty, not price."]
TEXT = "CHAPTER NINE\n\n" + " ".join(SAID[:2]) + "\n\n" + SAID[2] + "\n"


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    reason = festival_missing_reason()
    if reason:
        pytest.skip(reason)
    d = tmp_path_factory.mktemp("words-cli")
    speech = build_speech([INTRO] + SAID, [900.0, 800.0, 1000.0], d / "cache")
    wav = speech.write_wav(d / "talk.wav")
    (d / "talk.txt").write_text(TEXT, encoding="utf-8")
    out = d / "talk.aligned"
    proc = run_align("--audio", wav, "--script", d / "talk.txt", "--aligned", out, "--merge-sentences",
                     "--output-phones", "--output-textgrid", "--output-unaligned", "--lm-cache-dir", d / "lm",
                     "--output-format", "vtt", "--subtitle-timing", "karaoke")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return d, speech, json.loads(out.read_text()), proc.stderr


def test_every_label_word_timed_monotone_inside_and_mapped(book):
    d, speech, aligned, _ = book
    assert aligned
    for u in aligned:
        ws = u["words"]
        assert [w["word"] for w in ws] == u["aligned"].split()
        t = u["start"]
        for w in ws:
            assert t <= w["start"] < w["end"] <= u["end"]
            t = w["end"]
            assert TEXT[w["text-start"]:w["text-end"]].lower().strip(".,") == w["word"]
            assert w["phones"] and w["phones"][0]["start"] == w["start"] and w["phones"][-1]["end"] == w["end"]
    # the first word of each spoken sentence starts near the sentence's planted start
    starts = {u["words"][0]["word"]: u["words"][0]["start"] for u in aligned}
    for s in speech.sentences[1:]:
        first = s.text.split()[0].lower()
        if first in starts:
            assert abs(starts[first] - s.start_ms) <= 60, (first, starts[first], s.start_ms)


def test_textgrid_parsed_back(book):
    praatio_tg = pytest.importorskip("praatio.textgrid", reason="praatio (test extra) is not installed")
    d, speech, aligned, _ = book
    tg = praatio_tg.openTextgrid(str(d / "talk.TextGrid"), includeEmptyIntervals=False)
    assert list(tg.tierNames) == ["utterances", "words", "phones"]
    assert [e.label for e in tg.getTier("words").entries] == [w["word"] for u in aligned for w in u["words"]]
    assert len(tg.getTier("utterances").entries) == len(aligned)
    assert tg.maxTimestamp == pytest.approx(speech.duration_s, abs=1e-3)


def test_unaligned_lists_the_heading_and_the_intro(book):
    d, speech, aligned, stderr = book
    rep = json.loads((d / "talk.unaligned.json").read_text())
    head = [r for r in rep["text"] if r["text"] == "CHAPTER NINE"]
    assert len(head) == 1 and head[0]["kind"] == "heading"
    assert all(r["words"] <= 3 for r in rep["text"] if r["text"] != "CHAPTER NINE")
    intro = speech.sentences[0]
    hits = [a for a in rep["audio"] if a["start"] < intro.end_ms and a["end"] > intro.start_ms]
    assert len(hits) == 1 and hits[0]["duration"] >= 0.8 * (intro.end_ms - intro.start_ms)
    assert "unaligned: " in stderr and f"in {len(rep['audio'])} ranges" in stderr


def test_refined_bounds_and_textgrid_dir_from_the_same_tlog(book, tmp_path):
    d, speech, aligned, _ = book
    out = tmp_path / "refined.aligned"
    proc = run_align("--audio", d / "talk.wav", "--tlog", d / "talk.tlog", "--script", d / "talk.txt",
                     "--aligned", out, "--merge-sentences", "--output-words", "--words-refine-bounds",
                     "--textgrid-dir", tmp_path / "grids", "--lm-cache-dir", d / "lm")
    assert proc.returncode == 0, proc.stderr[-2000:]
    refined = json.loads(out.read_text())
    assert [u["aligned"] for u in refined] == [u["aligned"] for u in aligned]
    for u, v in zip(refined, aligned):
        assert v["start"] <= u["start"] and u["end"] <= v["end"]
        assert u["start"] == max(v["start"], u["words"][0]["start"])
        assert u["end"] == min(v["end"], u["words"][-1]["end"] + 50.0)
    # the TextGrid is named by the document id (the audio's stem), not by the --aligned file;
    # no phone tier this time
    grid = (tmp_path / "grids" / "talk.TextGrid").read_text()
    assert not out.with_suffix(".TextGrid").exists()
    assert grid.count('class = "IntervalTier"') == 2
    assert all(f'text = "{w["word"]}"' in grid for u in aligned for w in u["words"])


@pytest.mark.parametrize("argv, needle", [
    (["--output-words"], "--output-words needs the audio"),
    (["--output-textgrid"], "--output-textgrid needs the audio"),
    (["--audio", "a.wav", "--subtitle-timing", "lines"], "--output-format"),
    (["--audio", "a.wav", "--words-refine-bounds"], "--words-refine-bounds needs --output-words"),
    (["--audio", "a.wav", "--output-words", "--words-end-pad-ms", "-5"], "--words-end-pad-ms"),
    (["--audio", "a.wav", "--output-words", "--words-downsample", "9"], "--words-downsample"),
])
def test_option_errors(argv, needle, tmp_path):
    """Checked before any work (in-process: the same code the CLI runs)."""
    from align.cli.align import build_parser, run_align as cli_run
    from align.common.errors import UsageError

    args = build_parser().parse_args(["--tlog", str(tmp_path / "t.tlog"), "--script", str(tmp_path / "t.txt"),
                                      "--aligned", str(tmp_path / "o.aligned"), *argv])
    with pytest.raises(UsageError, match=needle.replace("-", r"\-")):
        cli_run(args)


def test_karaoke_vtt_from_the_cli(book):
    import re

    d, speech, aligned, _ = book
    vtt = (d / "talk.vtt").read_text()
    stamps = re.findall(r"<(\d\d):(\d\d):(\d\d)\.(\d\d\d)>", vtt)
    starts = {int(round(w["start"])) for u in aligned for w in u["words"]}
    ms = [((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(f) for h, m, s, f in stamps]
    assert ms and set(ms) <= starts
