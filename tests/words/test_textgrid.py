"""TextGrid text (align/textgrid.py) read back with praatio, a well-kept TextGrid reader."""

from __future__ import annotations

import pytest

from align.textgrid import textgrid_text, tile, utterance_tiers

praatio_tg = pytest.importorskip("praatio.textgrid", reason="praatio (test extra) is not installed")

UTTS = [
    {"start": 500.0, "end": 2100.0, "aligned": "he said \"no\"", "words": [
        {"word": "he", "start": 520.0, "end": 700.0, "phones": [
            {"phone": "HH", "start": 520.0, "end": 600.0}, {"phone": "IY", "start": 600.0, "end": 700.0}]},
        {"word": "said", "start": 700.0, "end": 1100.0, "phones": []},
        {"word": "no", "start": 1400.0, "end": 2000.0},
    ]},
    {"start": 2050.0, "end": 3000.0, "aligned": "overlapping start", "words": []},
]


def test_parsed_back_by_praatio(tmp_path):
    path = tmp_path / "doc.TextGrid"
    path.write_text(textgrid_text(utterance_tiers(UTTS), 0.0, 3.5), encoding="utf-8")
    tg = praatio_tg.openTextgrid(str(path), includeEmptyIntervals=False)
    assert list(tg.tierNames) == ["utterances", "words", "phones"]
    assert (tg.minTimestamp, tg.maxTimestamp) == (0.0, 3.5)
    utt = [(e.start, e.end, e.label) for e in tg.getTier("utterances").entries]
    # the second utterance overlapped the first: it starts where the first ends
    assert utt == [(0.5, 2.1, 'he said "no"'), (2.1, 3.0, "overlapping start")]
    words = [(e.start, e.end, e.label) for e in tg.getTier("words").entries]
    assert words == [(0.52, 0.7, "he"), (0.7, 1.1, "said"), (1.4, 2.0, "no")]
    phones = [(e.start, e.end, e.label) for e in tg.getTier("phones").entries]
    assert phones == [(0.52, 0.6, "HH"), (0.6, 0.7, "IY")]
    # with the empty intervals, each tier tiles [0, 3.5]
    full = praatio_tg.openTextgrid(str(path), includeEmptyIntervals=True)
    for name in full.tierNames:
        ents = full.getTier(name).entries
        assert ents[0].start == 0.0 and ents[-1].end == 3.5
        assert all(a.end == b.start for a, b in zip(ents, ents[1:]))


def test_tile_fills_gaps_and_clips():
    assert tile([(1.0, 2.0, "a"), (1.5, 3.0, "b"), (4.0, 9.0, "c")], 0.0, 5.0) == [
        (0.0, 1.0, ""), (1.0, 2.0, "a"), (2.0, 3.0, "b"), (3.0, 4.0, ""), (4.0, 5.0, "c")]
    assert tile([], 0.0, 2.0) == [(0.0, 2.0, "")]


def test_deterministic_numbers():
    a = textgrid_text(utterance_tiers(UTTS), 0.0, 3.5)
    assert a == textgrid_text(utterance_tiers(UTTS), 0.0, 3.5)
    assert "xmin = 0.52 " in a and "xmax = 3.5 " in a
