"""Sentence utterances with audio: a sentence over the maximum duration is cut at its longest pause."""

from __future__ import annotations

from align.config import AlignConfig
from align.text.engine import split_at_pauses
from align.tlog import TranscriptEntry


def _entries(spans):
    return [TranscriptEntry(s, e, "x") for s, e in spans]


def test_cut_at_the_longest_inner_pause_recursively():
    # five fragments of one sentence: pauses 100, 900, 300, 900 ms; 14.4 s in all
    es = _entries([(0, 3000), (3100, 6000), (6900, 9000), (9300, 12000), (12900, 14400)])
    group = [(i, (0, 1)) for i in range(5)]
    assert [[i for i, _ in g] for g in split_at_pauses(group, es, 20000)] == [[0, 1, 2, 3, 4]]
    # over 10 s: the longest pause is 900 ms, twice; the earliest is taken first, then the parts again
    parts = [[i for i, _ in g] for g in split_at_pauses(group, es, 10000)]
    assert parts == [[0, 1], [2, 3, 4]]
    assert [[i for i, _ in g] for g in split_at_pauses(group, es, 5000)] == [[0], [1], [2], [3], [4]]
    # every part fits or is a single fragment, and nothing is lost or reordered
    for limit in (1000, 4000, 7000, 12000):
        ps = split_at_pauses(group, es, limit)
        assert [i for g in ps for i, _ in g] == [0, 1, 2, 3, 4]
        assert all(len(g) == 1 or es[g[-1][0]].end - es[g[0][0]].start <= limit for g in ps)


def test_audio_documents_get_sentence_utterances_by_default():
    c = AlignConfig()
    p = c.align_params_for(True)
    assert p.merge.enabled and p.merge.split_longest_pause and p.merge.max_duration_ms == 20000.0
    assert not c.align_params_for(False).merge.enabled          # --tlog alone: as before
    assert not AlignConfig(audio_merge=False).align_params_for(True).merge.enabled   # --no-merge
    assert AlignConfig(max_utterance_s=7.5).align_params_for(True).merge.max_duration_ms == 7500.0
    assert AlignConfig(audio_merge=False).config_hash() != c.config_hash()
