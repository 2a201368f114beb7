"""The text engine end to end on planted data: invariants (hypothesis) and recovery of truth."""

import random

from hypothesis import given, settings, strategies as st

from align.text.alphabet import Alphabet
from align.text.engine import AlignParams, align_transcripts, original_spans
from align.text.metrics import Bound, FilterParams
from align.text.rough import RoughParams
from align.text.normalise import Phrase, normalise
from align.tlog import TranscriptEntry

EN = Alphabet.from_labels(" abcdefghijklmnopqrstuvwxyz'")
LICENSE = "/usr/share/common-licenses/GPL-3"


def noisy(s: str, rng: random.Random, rate: float) -> str:
    out = []
    for c in s:
        r = rng.random()
        if r < rate / 2:
            out.append(rng.choice("abcdefghijklmnopqrstuvwxyz"))
        elif r < rate:
            continue
        else:
            out.append(c)
    return "".join(out)


def plant(text: str, seed: int, rate: float = 0.04, junk: int = 0):
    """Fragments of consecutive words of `text` (with noise), plus junk; returns entries and truth."""
    rng = random.Random(seed)
    ct = normalise(text, [Phrase(0, len(text))], EN)
    words = ct.clean.split(" ")
    entries, truth, i, t = [], [], 0, 0.0
    while i < len(words):
        n = rng.randint(4, 14)
        s = " ".join(words[i:i + n])
        entries.append(TranscriptEntry(t, t + 50 * len(s), noisy(s, rng, rate)))
        truth.append(s)
        t += 50 * len(s) + 300
        i += n
    for _ in range(junk):
        k = rng.randrange(len(entries) + 1)
        j = " ".join(rng.choice(["zebra", "quartz", "jovial", "kiwi", "yak", "fjord", "vex"]) for _ in range(6))
        entries.insert(k, TranscriptEntry(0, 0, j))
        truth.insert(k, None)
    return ct, entries, truth


def check_invariants(ct, result):
    prev_clean, prev_orig, prev_frag = 0, 0, -1
    for u in result.utterances:
        assert u.aligned_raw == ct.original[u.text_start:u.text_end]
        assert u.aligned == ct.clean[u.clean_start:u.clean_end]
        assert 0 <= u.clean_start < u.clean_end <= len(ct.clean)
        assert 0 <= u.text_start < u.text_end <= len(ct.original)
        assert u.clean_start >= prev_clean and u.text_start >= prev_orig  # in order, no overlap
        assert u.fragment > prev_frag
        assert u.aligned == u.aligned.strip()
        prev_clean, prev_orig, prev_frag = u.clean_end, u.text_end, u.fragment


def test_recovers_planted_fragments_of_a_real_text():
    text = open(LICENSE, encoding="utf-8").read()
    ct, entries, truth = plant(text, seed=7, junk=10)
    result = align_transcripts(entries, ct, EN)
    check_invariants(ct, result)
    got = {u.fragment: u.aligned for u in result.utterances}
    real = [i for i, t in enumerate(truth) if t is not None]
    exact = sum(1 for i in real if got.get(i) == truth[i])
    assert exact >= 0.98 * len(real)
    assert not any(truth[i] is None for i in got)  # no junk accepted
    assert result.fragments == len(entries)
    assert sum(result.dropped.values()) + len(result.utterances) == len(entries)
    assert result.dropped["no match"] >= 10


def test_unrelated_text_is_not_aligned():
    text = open(LICENSE, encoding="utf-8").read()
    other = open("/usr/share/perl/5.36.0/pod/perldiag.pod", encoding="utf-8").read()[:60000]
    _, entries, _ = plant(text[:15000], seed=3)
    ct = normalise(other, [Phrase(0, len(other))], EN)
    result = align_transcripts(entries, ct, EN)
    assert result.utterances == []
    assert result.dropped["no match"] + result.dropped["isolated match"] == len(entries)


words = st.lists(st.sampled_from("the a license of work you program to and copy source free code".split()),
                 min_size=5, max_size=80)


@settings(max_examples=40, deadline=None)
@given(words, st.integers(0, 10_000), st.floats(0, 0.2), st.integers(0, 3))
def test_invariants_hold_on_random_inputs(ws, seed, rate, junk):
    rng = random.Random(seed)
    # Original text with punctuation, case and line breaks between the words.
    text = "".join(w.capitalize() + rng.choice([" ", ", ", ".\n", " -- ", "  "]) for w in ws)
    ct, entries, _ = plant(text, seed, rate, junk)
    result = align_transcripts(entries, ct, EN)
    check_invariants(ct, result)


def test_first_and_last_utterance_are_extended_to_whole_words():
    text = "Preface. She sells sea shells by the sea shore, behind schedule."
    ct = normalise(text, [Phrase(0, len(text))], EN)
    entries = [TranscriptEntry(0, 1000, "he sells sea shells"), TranscriptEntry(1000, 2000, "by the sea shore behind schedul")]
    result = align_transcripts(entries, ct, EN)
    assert [u.aligned for u in result.utterances] == ["she sells sea shells", "by the sea shore behind schedule"]
    assert result.utterances[-1].aligned_raw == "by the sea shore, behind schedule."


def test_filters_and_zero_bounds():
    text = open(LICENSE, encoding="utf-8").read()[:6000]
    ct, entries, _ = plant(text, seed=5, rate=0.08)
    base = align_transcripts(entries, ct, EN)
    # max cer 0: only fragments whose aligned text equals the transcript survive
    p = AlignParams(filters=FilterParams(output=("cer", "sws"), bounds=(Bound("cer", max=0.0),)))
    r = align_transcripts(entries, ct, EN, p)
    assert r.utterances and all(u.metrics["cer"] == 0.0 for u in r.utterances)
    assert all(u.transcript == u.aligned for u in r.utterances)
    assert r.dropped["cer above 0"] == len(base.utterances) - len(r.utterances) > 0
    assert list(r.utterances[0].to_dict())[-2:] == ["sws", "cer"]


def test_original_spans_take_punctuation_without_overlap():
    text = 'He said: "Stop." Then--"go"!'
    ct = normalise(text, [Phrase(0, len(text))], EN)
    # clean: 'he said stop then go'
    spans = [(0, 12), (13, 17), (18, 20)]
    assert [ct.clean[a:b] for a, b in spans] == ["he said stop", "then", "go"]
    o = original_spans(ct, spans)
    assert [text[a:b] for a, b in o] == ['He said: "Stop."', "Then--", '"go"!']


def test_merge_sentences_joins_fragments_of_one_sentence_only():
    from align.text.engine import MergeParams

    text = "Title\n\nThe quick brown fox, who was tired, jumped over the dog. Then it slept; the end."
    ct = normalise(text, [Phrase(0, len(text))], EN)
    entries = [
        TranscriptEntry(0, 1000, "the quick brown fox"),
        TranscriptEntry(1200, 2000, "who was tired"),
        TranscriptEntry(2300, 3500, "jumped over the dog"),
        TranscriptEntry(3800, 4500, "then it slept"),
        TranscriptEntry(9000, 9500, "the end"),       # a long pause before it
    ]
    plain = align_transcripts(entries, ct, EN, AlignParams(rough=RoughParams(min_run=1)))
    assert len(plain.utterances) == 5
    merged = align_transcripts(entries, ct, EN, AlignParams(rough=RoughParams(min_run=1), merge=MergeParams(True)))
    got = [(u.start, u.end, u.aligned_raw) for u in merged.utterances]
    assert got == [
        (0, 3500, "The quick brown fox, who was tired, jumped over the dog."),
        (3800, 4500, "Then it slept;"),
        (9000, 9500, "the end."),
    ]
    assert merged.utterances[0].transcript == "the quick brown fox who was tired jumped over the dog"
    short = align_transcripts(entries, ct, EN,
                              AlignParams(rough=RoughParams(min_run=1), merge=MergeParams(True, max_duration_ms=2500)))
    assert [u.aligned for u in short.utterances][:2] == ["the quick brown fox who was tired", "jumped over the dog"]
