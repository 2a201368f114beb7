"""Verse through the `align` CLI with defaults: a reader pauses at every line end, and a training set
of read poetry wants a line per utterance, not the sentences that run over several lines."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.audio.test_e2e_cli import run_align
from tests.speechgen import build_speech, edge_equal, words

pytestmark = pytest.mark.skipif(shutil.which("lmplz") is None, reason="KenLM lmplz not installed (bin/setup.sh builds it)")

LINES = [   # the sestet of sonnet 18
    "But thy eternal summer shall not fade,",
    "Nor lose possession of that fair thou ow'st;",
    "Nor shall Death brag thou wander'st in his shade,",
    "When in eternal lines to time thou grow'st:",
    "So long as men can breathe or eyes can see,",
    "So long lives this, and this gives life to thee.",
]


PAUSED = [700.0, 650.0, 700.0, 1200.0, 650.0]
# lines read into the next with no pause a VAD hears; festival's "thou ow'st" and "lives this"
# are weak enough that a proof of the whole run fails there
RUN_ON = [700.0, 100.0, 700.0, 1200.0, 120.0]


@pytest.fixture(scope="module", params=[PAUSED, RUN_ON], ids=["paused", "run-on"])
def sonnet(speech_cache, tmp_path_factory, request):
    d = tmp_path_factory.mktemp("sonnet")
    speech = build_speech(LINES, request.param, speech_cache)
    speech.write_wav(d / "sonnet.wav")
    # a title and an author line nobody reads, then the quatrains
    (d / "sonnet.txt").write_text("Sonnet 18\n\nby William Shakespeare\n\n" + "\n".join(LINES[:4]) + "\n\n"
                                  + "\n".join(LINES[4:]) + "\n", encoding="utf-8")
    return d, speech


def aligned(d: Path, *extra: str) -> list[dict]:
    out = d / f"out{len(extra)}.aligned"
    r = run_align("--audio", d / "sonnet.wav", "--script", d / "sonnet.txt", "--aligned", out, "--force", *extra)
    assert r.returncode == 0, r.stderr
    return json.loads(out.read_text(encoding="utf-8"))


def test_each_line_is_one_utterance_by_default(sonnet):
    """Run-on lines are one VAD fragment; the second pass cuts it at the line end by the word
    times of a constrained decode of its text."""
    d, speech = sonnet
    utts = aligned(d)
    assert len(utts) == len(LINES)
    for u, s in zip(utts, speech.sentences):
        assert edge_equal(words(u["aligned-raw"]), words(s.text))
        assert "\n" not in u["aligned-raw"]
        assert abs(u["start"] - s.start_ms) <= 250 and abs(u["end"] - s.end_ms) <= 250


def test_wrapped_reads_it_as_prose_sentences(sonnet):
    d, _ = sonnet
    utts = aligned(d, "--text-lines", "wrapped")
    # one sentence over six lines: joined (and cut only where it runs over 20 s)
    assert len(utts) < len(LINES)
    assert any("ow'st;\nNor shall" in u["aligned-raw"] for u in utts)


def test_run_on_lines_cut_where_the_proof_fails(sonnet):
    """A proof the audio does not give (words as likely as a free phone decode): the cut at a
    line end then rests on the constrained decode's word times alone, and still falls in the
    truth's gap between the lines."""
    d, speech = sonnet
    utts = aligned(d, "--second-pass-min-score", "0")
    assert [u["aligned-raw"] for u in utts] == LINES
    for u, s in zip(utts, speech.sentences):
        assert abs(u["start"] - s.start_ms) <= 250 and abs(u["end"] - s.end_ms) <= 250
