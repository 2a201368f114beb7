"""Reconciliation (align/unaligned.py) on a constructed book with known unspoken ranges."""

from __future__ import annotations

from align.unaligned import (AudioRange, UnalignedParams, summary_line, unaligned_audio, unaligned_text,
                             uncovered, word_count)

S1 = "It was a bright cold day in April, and the clocks were striking thirteen."
S2 = "Winston Smith slipped quickly through the glass doors of Victory Mansions."
S3 = "The hallway smelt of boiled cabbage and old rag mats."
S4 = "At one end of it a coloured poster had been tacked to the wall."
SKIP = ("It depicted simply an enormous face, more than a metre wide: the face of a man of about "
        "forty-five, with a heavy black moustache and ruggedly handsome features.")
S5 = "Winston made for the stairs."
S6 = "It was no use trying the lift."


def build_book():
    """(text, spoken ranges, {label: (start, end, kind)}) of a small paginated book."""
    parts: list[tuple[str, str | None]] = [
        ("A NOVEL\n\nby Somebody\n\nPreface\n\nThis edition was prepared from the first printing and corrects several errors "
         "that crept into later ones.\n\n", "front"),
        ("Contents\n\nChapter One ........ 1\nChapter Two ........ 9\n\n", "toc"),
        ("CHAPTER ONE\n\n", "heading1"),
        (S1, "say"), (" ", None), (S2, "say"), ("\n\n", None),
        ("A NOVEL    1\n\n", "head1"),
        (S3, "say"), (" ", None), (S4, "say"), (" ", None),
        (SKIP, "skip"), (" ", None),
        (S5, "say"), ("\n\n", None),
        ("- 2 -\n\n", "page2"),
        ("A NOVEL    3\n\n", "head3"),
        ("CHAPTER TWO\n\n", "heading2"),
        (S6, "say"), ("\n\n", None),
        ("A NOVEL    4\n", "head4"),
    ]
    text, spoken, marks, pos = "", [], {}, 0
    for piece, label in parts:
        if label == "say":
            spoken.append((pos, pos + len(piece)))
        elif label:
            marks[label] = (pos, pos + len(piece.rstrip()))
        text += piece
        pos += len(piece)
    return text, spoken, marks


EXPECT = {
    "front": "front matter", "toc": "table of contents", "heading1": "heading", "heading2": "heading",
    "head1": "page number or running head", "head3": "page number or running head",
    "head4": "page number or running head", "page2": "page number or running head", "skip": "long passage",
}


def test_each_unspoken_part_is_listed_with_its_kind_and_nothing_else():
    text, spoken, marks = build_book()
    got = unaligned_text(text, spoken)
    # every planted range is covered by listed ranges of the right kind
    for label, (s, e) in marks.items():
        hits = [r for r in got if r.start < e and r.end > s]
        assert hits, label
        assert {r.kind for r in hits} == {EXPECT[label]}, (label, hits)
        assert min(r.start for r in hits) <= s + 1 and max(r.end for r in hits) >= e - 1, (label, hits)
    # nothing listed outside the planted ranges
    for r in got:
        for k in range(r.start, r.end):
            if text[k].isalnum():
                assert any(s <= k < e for s, e in marks.values()), (r, k)
    # word counts add up to the planted text's words
    assert sum(r.words for r in got) == sum(word_count(text[s:e]) for s, e in marks.values())
    skip = [r for r in got if r.kind == "long passage"]
    assert len(skip) == 1 and skip[0].words == word_count(SKIP)


def test_a_lost_edge_word_is_a_short_words_range():
    text, spoken, marks = build_book()
    s, e = spoken[2]
    spoken[2] = (s + len("The "), e)       # the utterance starts one word late
    got = unaligned_text(text, spoken)
    lost = [r for r in got if r.start == s]
    assert len(lost) == 1 and lost[0].kind == "words" and lost[0].words == 1


def test_skipped_inside_utterances_are_listed_flagged():
    text, spoken, marks = build_book()
    h = marks["head1"]
    merged = spoken[:2] + [(spoken[1][1], spoken[2][0])] + spoken[2:]  # one utterance spans head1
    got = unaligned_text(text, merged, skipped=[(h[0], h[1], None)])
    inside = [r for r in got if r.inside_utterance]
    assert [(r.start, r.end, r.kind) for r in inside] == [(h[0], h[1], "page number or running head")]


def test_uncovered_and_audio_ranges():
    assert uncovered((0, 10), [(2, 3), (2.5, 5), (8, 12)]) == [(0, 2), (5, 8)]
    assert uncovered((0, 10), []) == [(0, 10)]
    speech = [(0.0, 3000.0), (4000.0, 9000.0), (9500.0, 9600.0)]
    utts = [(100.0, 2950.0), (4000.0, 6000.0), (6050.0, 9000.0)]
    assert unaligned_audio(speech, utts, UnalignedParams(min_audio_ms=200)) == []   # all gaps < 200 ms
    assert unaligned_audio(speech, utts, UnalignedParams(min_audio_ms=50)) == [
        AudioRange(0.0, 100.0), AudioRange(2950.0, 3000.0), AudioRange(6000.0, 6050.0), AudioRange(9500.0, 9600.0)]
    got = unaligned_audio(speech, [(0.0, 1000.0), (4000.0, 5000.0)], UnalignedParams(min_audio_ms=200))
    assert [(r.start, r.end) for r in got] == [(1000.0, 3000.0), (5000.0, 9000.0)]
    assert summary_line([], got).endswith("6.0 s of speech in 2 ranges")


def test_a_word_lost_before_the_first_utterance_is_not_front_matter():
    text, spoken, marks = build_book()
    s, e = spoken[0]
    spoken[0] = (s + len("It "), e)        # the first utterance starts one word late
    got = unaligned_text(text, spoken)
    lost = [r for r in got if r.start == s]
    assert len(lost) == 1 and lost[0].kind == "words" and lost[0].words == 1
    h = marks["heading1"]
    assert [r.kind for r in got if r.start == h[0]] == ["heading"]
    assert [r.kind for r in got if r.start == 0] == ["front matter"]
