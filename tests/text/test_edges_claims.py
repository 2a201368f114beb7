"""Oracles for who gets the words between two utterances (align/text/edges.py): the document's
speaking-rate fit, the pause evidence calibrated on the document, claims across a junk fragment,
leaning words before punctuation, and fragments placed between their placed neighbours."""

import random

from align.text.alphabet import Alphabet
from align.text.edges import (B_LEAN, B_NONE, B_PHRASE, B_SENT, EdgeParams, fill_between, inner_pauses,
                              pause_weights, speaking_rate)
from align.text.engine import AlignParams, align_transcripts
from align.text.normalise import Phrase, normalise
from align.tlog import TranscriptEntry

EN = Alphabet.from_labels(" abcdefghijklmnopqrstuvwxyz'")
CONTENT = ("river stone garden window letter people market winter morning silver mountain "
           "village candle forest doctor").split()


def _ct(text):
    return normalise(text, [Phrase(0, len(text))], EN)


def _span(ct, words):
    k = ct.clean.index(words)
    return k, k + len(words)


def test_speaking_rate_recovers_planted_rate_and_pauses():
    rng = random.Random(4)
    sentences = []
    for _ in range(60):
        ws = [rng.choice(CONTENT) for _ in range(rng.randint(4, 12))]
        if rng.random() < 0.5:
            ws[rng.randrange(1, len(ws) - 1)] += ","
        sentences.append(" ".join(ws) + ".")
    text = " ".join(sentences)
    ct = _ct(text)
    # fragments: 1-3 sentences; duration = 62 ms per clean character + 180 ms per inner comma
    # + 300 ms per inner sentence end, +-3% noise
    kept, entries, planted, t, k = [], [], [], 0, 0
    while k < len(sentences):
        n = min(rng.randint(1, 3), len(sentences) - k)
        words = " ".join(sentences[k:k + n])
        cs = ct.clean.index(_ct(words).clean, kept[-1][1][1] if kept else 0)
        ce = cs + len(_ct(words).clean)
        dur = (62 * (ce - cs) + 180 * words.count(",") + 300 * (n - 1)) * rng.uniform(0.97, 1.03)
        entries.append(TranscriptEntry(t, t + round(dur), _ct(words).clean))
        kept.append((len(entries) - 1, (cs, ce)))
        planted.append((words.count(","), n - 1))
        t += round(dur) + 500
        k += n
    # the marks inside each fragment (its own final full stop is outside its words)
    assert [inner_pauses(ct, *span) for _, span in kept] == planted
    rate = speaking_rate(ct, entries, kept)
    assert abs(rate.ms_per_char - 62) < 2
    assert abs(rate.phrase_ms - 180) < 60
    assert abs(rate.sentence_ms - 300) < 80
    assert rate.spread < 0.05 + 1e-9


def _reader(cut_after_leaning: bool, seed: int = 1):
    """A text of phrases "the <noun> of the <noun> ..." and fragments whose matches touch (no gap):
    cut before the leaning word (a natural reader) or right after it (a reader who pauses after
    "the")."""
    rng = random.Random(seed)
    words = []
    for _ in range(400):
        words += [rng.choice(("the", "of", "a")), rng.choice(CONTENT)]
    text = " ".join(words) + "."
    ct = _ct(text)
    starts = [0]
    k = 0
    while True:
        k += rng.randint(4, 10) * 2  # an even index: a leaning word starts there
        if k >= len(words) - 4:
            break
        starts.append(k + 1 if cut_after_leaning else k)
    starts.append(len(words))
    kept, entries, pos = [], [], 0
    for a, b in zip(starts, starts[1:]):
        frag = " ".join(words[a:b])
        cs = ct.clean.index(frag.rstrip("."), pos)
        ce = cs + len(frag.rstrip("."))
        pos = ce
        entries.append(TranscriptEntry(1000 * len(entries), 1000 * len(entries) + 60 * (ce - cs), frag))
        kept.append((len(entries) - 1, (cs, ce)))
    return ct, entries, kept


def test_pause_weights_learn_where_this_reader_pauses():
    p = EdgeParams()
    ct, entries, kept = _reader(cut_after_leaning=False)
    natural = pause_weights(ct, entries, kept, p)
    ct2, entries2, kept2 = _reader(cut_after_leaning=True)
    odd = pause_weights(ct2, entries2, kept2, p)
    # the natural reader never cuts after "the": a strong penalty; the odd one always does
    assert natural[B_LEAN] < -2.0 < 0 < odd[B_LEAN]
    assert natural[B_NONE] == odd[B_NONE] == 0.0
    # no evidence of punctuation here: those weights stay near their defaults
    assert abs(natural[B_SENT] - p.w_sentence) < 1.5 and abs(natural[B_PHRASE] - p.w_phrase) < 1.5
    # calibration off: the defaults
    from dataclasses import replace

    assert pause_weights(ct, entries, kept, replace(p, calibrate=False))[B_LEAN] == -p.w_leaning


def test_dropped_leaning_word_goes_to_where_this_reader_pauses():
    # Both readers' fragment k+1 lost its first word (a natural reader: "the", which leans on the
    # next word; the odd reader: the noun after "the"). Each gets it back on the right side.
    for odd in (False, True):
        ct, entries, kept = _reader(cut_after_leaning=odd, seed=3)
        truth = {i: span for i, span in kept}
        tl = list(entries)
        lost = []
        for n, (i, (cs, ce)) in enumerate(kept[1:-1:3]):
            first = ct.clean[cs:ce].split(" ")[0]
            tl[i] = TranscriptEntry(entries[i].start, entries[i].end, ct.clean[cs + len(first) + 1:ce])
            lost.append(i)
        # durations left out: the pause evidence alone decides
        def right(**kw):
            r = align_transcripts(tl, ct, EN, AlignParams(edges=EdgeParams(w_duration=0, **kw)))
            by = {u.fragment: (u.clean_start, u.clean_end) for u in r.utterances}
            return sum(1 for i in lost if by.get(i) == truth[i])

        assert right() >= 0.9 * len(lost), odd
        # with the default weights (no calibration) the odd reader's words go to the wrong side
        assert (right(calibrate=False) >= 0.9 * len(lost)) is not odd


def test_claim_reaches_across_a_junk_fragment_at_a_sentence_end():
    text = ("God called the light Day, and the darkness he called Night. And the evening and the morning "
            "were the first day. And God said, Let there be a firmament in the midst of the waters.")
    ct = _ct(text)
    tl = ["god called the light day and the darkness he called night",
          "copper lantern whistle harbour basket ribbon falcon",   # junk: no text
          "the evening and the morning were the first day",          # lost "and"
          "and god said let there be a firmament in the midst of the waters"]
    entries = [TranscriptEntry(3000 * k, 3000 * k + 2800, s) for k, s in enumerate(tl)]
    r = align_transcripts(entries, ct, EN, AlignParams())
    by = {u.fragment: u.aligned for u in r.utterances}
    assert 1 not in by
    assert by[2] == "and the evening and the morning were the first day"
    off = align_transcripts(entries, ct, EN, AlignParams(edges=EdgeParams(claim_across=0)))
    assert {u.fragment: u.aligned for u in off.utterances}[2] == tl[2]
    # a fragment between that is as short as the gap may be its reading: no claim across it
    tl2 = list(tl)
    tl2[1] = "and"
    entries2 = [TranscriptEntry(3000 * k, 3000 * k + 2800, s) for k, s in enumerate(tl2)]
    r2 = align_transcripts(entries2, ct, EN, AlignParams(edges=EdgeParams(fill=False)))
    assert {u.fragment: u.aligned for u in r2.utterances}[2] == tl[2]


def test_leaning_word_before_punctuation_ends_its_phrase():
    text = ("You may convey a covered work in object code form, provided that you also do one of these:\n"
            "b) Convey the object code in, or embodied in, a physical product including a physical "
            "distribution medium accompanied by a written offer.")
    ct = _ct(text)
    tl = ["you may convey a covered work in object code form provided that you also do one of these",
          "b convey the object code",                              # lost "in" (before the comma)
          "embodied in a physical product including a physical distribution medium accompanied by a written offer"]
    truth = ["you may convey a covered work in object code form provided that you also do one of these",
             "b convey the object code in",
             "or embodied in a physical product including a physical distribution medium accompanied by a written offer"]
    # durations at 60 ms per character of the true words
    entries, t = [], 0
    for s in truth:
        entries.append(TranscriptEntry(t, t + 60 * len(s), tl[len(entries)]))
        t += 60 * len(s) + 400
    r = align_transcripts(entries, ct, EN, AlignParams())
    assert [u.aligned for u in r.utterances] == truth


def test_fill_between_places_a_weak_fragment_on_its_neighbours_gap():
    text = ("And he said unto the woman, What is this that thou hast done? And the woman said, The "
            "serpent beguiled me, and I did eat. And the LORD God said unto the serpent, Because thou "
            "hast done this, thou art cursed above all cattle.")
    ct = _ct(text)
    tl = ["and he said unto the woman what is this that thou hast done and the woman said the serpent",
          "begild me",                                                    # too short and noisy to search
          "and i did eat and the lord god said unto the serpent because thou hast done this"]
    entries = [TranscriptEntry(4000 * k, 4000 * k + 3500, s) for k, s in enumerate(tl)]
    off = align_transcripts(entries, ct, EN, AlignParams(edges=EdgeParams(fill=False)))
    assert 1 not in {u.fragment for u in off.utterances}
    r = align_transcripts(entries, ct, EN, AlignParams())
    by = {u.fragment: u.aligned for u in r.utterances}
    assert by[1] == "beguiled me"
    assert 1 not in {i for i, _ in r.dropped_fragments}
    # the span is the gap's best-fitting run of words; junk of another length is never placed
    a, b = _span(ct, tl[0]), _span(ct, tl[2])
    junk = [TranscriptEntry(0, 3500, tl[0]), TranscriptEntry(4000, 7500, "harbour basket ribbon falcon lantern"),
            TranscriptEntry(8000, 11500, tl[2])]
    kept, added = fill_between(ct.clean, junk, [e.transcript for e in junk], [(0, a), (2, b)], EdgeParams())
    assert added == {} and [i for i, _ in kept] == [0, 2]


def test_a_skipped_prompt_is_never_claimed_by_its_neighbours():
    """A prompt list read line by line, one prompt skipped in the session: the short gap between
    the two recorded neighbours is a whole line (phrase), so neither neighbour gets it; a word the
    recogniser lost inside a recorded prompt is still claimed."""
    lines = ["Seven of clubs.", "Jack of diamonds.", "Five, five.", "Eight of spades, four of clubs."]
    text = "\n".join(lines) + "\n"
    phrases, pos = [], 0
    for ln in lines:
        phrases.append(Phrase(pos, pos + len(ln)))
        pos += len(ln) + 1
    ct = normalise(text, phrases, EN)
    tl = ["seven of clubs", "five five", "of spades four of clubs"]   # "eight" lost at an edge
    entries = [TranscriptEntry(0, 1400, tl[0]), TranscriptEntry(2000, 3200, tl[1]),
               TranscriptEntry(3800, 6500, tl[2])]
    r = align_transcripts(entries, ct, EN, AlignParams())
    got = [u.aligned for u in r.utterances]
    assert got == ["seven of clubs", "five five", "eight of spades four of clubs"]
    # the same words as one running text (no phrases): the gap is claimed as before
    one = align_transcripts(entries, _ct(text), EN, AlignParams())
    assert any("jack of diamonds" in u.aligned for u in one.utterances)
