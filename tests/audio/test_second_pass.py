"""Second pass: constrained re-decoding proves words that are spoken and never claims unspoken text."""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from align.secondpass import SecondPassParams, _candidates, second_pass
from align.stt.base import SttParams
from align.stt.constrained import ConstrainedDecoder
from align.stt.registry import make_engine_spec
from align.text.alphabet import ENGLISH_LABELS, Alphabet
from align.text.engine import AlignParams, MergeParams, align_transcripts
from align.text.normalise import Phrase, TextParams, normalise
from align.tlog import TranscriptEntry
from tests.audio.conftest import SENTENCES
from tests.speechgen import words

pytestmark = pytest.mark.skipif(shutil.which("lmplz") is None, reason="KenLM lmplz not installed (bin/setup.sh builds it)")

HEADER = "Chapter Nine. A Preface Nobody Read Aloud About Quantum Harbours."


@pytest.fixture(scope="module")
def doc():
    """The four sentences with an unspoken header between the second and the third."""
    original = " ".join(SENTENCES[:2]) + "\n\n" + HEADER + "\n\n" + " ".join(SENTENCES[2:])
    alphabet = Alphabet.from_labels(ENGLISH_LABELS)
    ct = normalise(original, [Phrase(0, len(original))], alphabet, TextParams())
    return original, ct, alphabet


@pytest.fixture(scope="module")
def spec(doc, tmp_path_factory):
    return make_engine_spec(SttParams(), doc[1].clean, lm_cache_dir=tmp_path_factory.mktemp("lm"))


@pytest.fixture(scope="module")
def decoder(spec):
    return ConstrainedDecoder(spec)


def _true_entries(four_sentences) -> list[TranscriptEntry]:
    """One fragment per sentence, 100 ms wider than its speech, transcribed right."""
    return [TranscriptEntry(s.start_ms - 100, s.end_ms + 100, " ".join(words(t)))
            for s, t in zip(four_sentences.sentences, SENTENCES)]


def _placer(ct, alphabet):
    """The second pass's `align_fn`: fragment -> placed clean range, without sentence merging."""
    params = AlignParams(merge=MergeParams(enabled=False))

    def placed(es):
        return {u.fragment: (u.clean_start, u.clean_end) for u in align_transcripts(es, ct, alphabet, params).utterances}

    return placed


def _segment(four_sentences, k):
    s = four_sentences.sentences[k]
    r = four_sentences.rate
    a, b = int((s.start_ms - 150) * r / 1000), int((s.end_ms + 150) * r / 1000)
    return four_sentences.samples[a:b]


def test_spoken_words_are_proven(four_sentences, decoder):
    window = words(SENTENCES[1] + " " + HEADER + " " + SENTENCES[2])
    hits = decoder.decode(_segment(four_sentences, 2), window)
    got = [h.word for h in hits]
    assert got == words(SENTENCES[2])     # the spoken sentence, whole, nothing of the header
    assert all(h.score > -2.5 for h in hits)
    assert hits[0].start_ms >= 50 and hits[-1].end_ms <= len(_segment(four_sentences, 2)) / 16.0


def test_a_run_too_short_to_use_skips_the_proof_and_changes_nothing(four_sentences, decoder):
    window = words(SENTENCES[1] + " " + HEADER + " " + SENTENCES[2])
    seg = _segment(four_sentences, 2)
    full = decoder.decode(seg, window)
    n = len(words(SENTENCES[2]))
    assert decoder.decode(seg, window, need=n - 1) == full       # more words than needed: proven as before
    assert decoder.decode(seg, window, need=n) == []               # nothing more to gain: no proof run
    assert [h.word for h in decoder.last] == words(SENTENCES[2]) and all(h.score != h.score for h in decoder.last)
    # a decode that yields nothing leaves no stale words of the previous one behind
    assert decoder.decode(seg[:100], window) == [] and decoder.last == []


def test_unspoken_text_is_never_claimed(four_sentences, decoder):
    # the audio of sentence 0 against a window holding only text nobody said there
    window = words(HEADER + " " + SENTENCES[3])
    assert decoder.decode(_segment(four_sentences, 0), window) == []
    assert decoder.last, "the grammar did force words onto the audio; the proof rejected them"
    assert min(h.score for h in decoder.last) < -2.5


def test_second_pass_recovers_a_garbled_fragment_and_keeps_the_header_out(four_sentences, doc, spec):
    original, ct, alphabet = doc
    sp = four_sentences.sentences
    entries = _true_entries(four_sentences)
    # the first pass misheard sentence 2 entirely
    entries[2] = dataclasses.replace(entries[2], transcript="yellow submarine ocean waves")
    placed = _placer(ct, alphabet)

    before = placed(entries)
    assert 2 not in before
    new, stats = second_pass(entries, placed, ct.clean, four_sentences.samples, four_sentences.rate, spec,
                             SecondPassParams())
    assert stats.recovered == 1 and stats.rounds >= 1
    assert new[2].transcript == " ".join(words(SENTENCES[2]))
    result = align_transcripts(new, ct, alphabet, AlignParams(merge=MergeParams(enabled=False)))
    assert len(result.utterances) == 4
    for u in result.utterances:
        assert "preface" not in u.aligned and "chapter" not in u.aligned
    assert result.utterances[2].aligned_raw.startswith("Free software is a matter of liberty")
    # the times of the recovered fragment still cover its sentence
    assert new[2].start <= sp[2].start_ms + 100 and new[2].end >= sp[2].end_ms - 100


def test_candidates_are_unplaced_fragments_and_short_edges():
    clean = "aa bb cc dd ee ff gg hh ii jj"
    entries = [TranscriptEntry(0, 1000, "x"), TranscriptEntry(1500, 2500, "y"), TranscriptEntry(3000, 4000, "z")]
    # fragment 0 placed on "aa bb", 2 on "gg hh"; 1 unplaced: its window is the text between them
    placed = {0: (0, 5), 2: (18, 23)}
    cands = _candidates(entries, placed, clean, max_words=100)
    assert (1, 5, 18, 0) in cands
    # fragments 0 and 1 both placed, with one word left between them: a short edge for both
    placed = {0: (0, 5), 1: (9, 14), 2: (18, 23)}
    cands = {c[0]: c for c in _candidates(entries, placed, clean, max_words=100)}
    assert clean[cands[0][1]:cands[0][2]].split() == ["aa", "bb", "cc"]
    assert clean[cands[1][1]:cands[1][2]].split() == ["cc", "dd", "ee", "ff"]
    # a longer gap (4 words > 3) is not an edge to re-decode
    placed = {0: (0, 2), 2: (18, 23)}
    entries2 = [entries[0], entries[2]]
    assert _candidates(entries2, {0: (0, 2), 1: (18, 23)}, clean, max_words=100) == []


def test_candidates_reach_the_own_sentence_edge_when_no_neighbour_is_placed():
    """Fragments 0 and 2 were garbled (unplaced); fragment 1 is placed on "dd ee" inside the
    sentence "cc dd ee ff gg": its window reaches that sentence's start and end, never past them."""
    clean = "aa bb cc dd ee ff gg hh ii jj"
    ends = frozenset({5, 20})           # sentences end after "bb" and after "gg"
    entries = [TranscriptEntry(0, 1000, "x"), TranscriptEntry(1500, 2500, "y"), TranscriptEntry(3000, 4000, "z")]
    placed = {1: (9, 14)}
    cands = {c[0]: c for c in _candidates(entries, placed, clean, max_words=100, sentence_ends=ends, sentence_edge=5)}
    assert clean[cands[1][1]:cands[1][2]].split() == ["cc", "dd", "ee", "ff", "gg"]
    assert cands[1][3] == 2
    # without the sentence rule (or without sentence ends) the placed fragment is no candidate
    assert 1 not in {c[0] for c in _candidates(entries, placed, clean, max_words=100)}
    assert 1 not in {c[0] for c in _candidates(entries, placed, clean, max_words=100, sentence_edge=5)}
    # a sentence start too far away (more words than the limit) is not reached
    cands = {c[0]: c for c in _candidates(entries, placed, clean, max_words=100, sentence_ends=ends, sentence_edge=1)}
    assert clean[cands[1][1]:cands[1][2]].split() == ["cc", "dd", "ee"]
    # a placed neighbour beyond more than max_edge words: the own sentence's end (7 words away) is
    # the edge, not the neighbour (9 words away)
    clean = "aa bb cc dd ee ff gg hh ii jj kk ll"
    ends = frozenset({26})              # after "ii"
    placed = {0: (0, 5), 1: (33, 35)}   # "aa bb", then "ll"
    entries = entries[:2]
    cands = {c[0]: c for c in _candidates(entries, placed, clean, max_words=100, sentence_ends=ends, sentence_edge=7)}
    assert clean[cands[0][1]:cands[0][2]].split() == "aa bb cc dd ee ff gg hh ii".split()
    assert 0 not in {c[0] for c in _candidates(entries, placed, clean, max_words=100)}


def test_a_fragment_holding_two_sentences_is_cut_in_the_pause_between_them(four_sentences, doc, spec):
    from align.pipeline import sentence_ends

    original, ct, alphabet = doc
    sp = four_sentences.sentences
    entries = _true_entries(four_sentences)
    # the VAD heard no pause between sentences 0 and 1: one fragment, one transcript for both
    both = TranscriptEntry(entries[0].start, entries[1].end, entries[0].transcript + " " + entries[1].transcript)
    entries = [both] + entries[2:]
    placed = _placer(ct, alphabet)

    new, stats = second_pass(entries, placed, ct.clean, four_sentences.samples, four_sentences.rate, spec,
                             SecondPassParams(), sentence_ends=sentence_ends(ct))
    assert stats.split == 1 and len(new) == 4
    assert new[0].transcript == " ".join(words(SENTENCES[0])) and new[1].transcript == " ".join(words(SENTENCES[1]))
    cut = new[0].end
    assert new[1].start == cut and sp[0].end_ms - 50 <= cut <= sp[1].start_ms + 50   # inside the pause
    assert new[0].start == both.start and new[1].end == both.end


def test_a_fragment_aligned_past_its_sentence_end_is_kept_to_its_sentence(four_sentences, doc, spec):
    """The first pass claimed the next sentence's first word for fragment 0 ("...dog we"): the
    constrained decode proves only sentence 0's words, so the transcript is cut back to them."""
    original, ct, alphabet = doc
    entries = _true_entries(four_sentences)
    first = words(SENTENCES[0])
    entries[0] = dataclasses.replace(entries[0], transcript=" ".join(first + ["we", "hold"]))
    entries[1] = dataclasses.replace(entries[1], transcript=" ".join(words(SENTENCES[1])[2:]))
    placed = _placer(ct, alphabet)

    assert ct.clean[slice(*placed(entries)[0])].split()[-2:] == ["we", "hold"]
    from align.pipeline import sentence_ends

    new, stats = second_pass(entries, placed, ct.clean, four_sentences.samples, four_sentences.rate, spec,
                             SecondPassParams(), sentence_ends=sentence_ends(ct))
    assert new[0].transcript == " ".join(first)


def test_audio_without_a_hypothesis_proves_nothing(decoder):
    import numpy as np

    # 50 ms of silence cannot hold the grammar's words: pocketsphinx gives no hypothesis
    assert decoder.decode(np.zeros(800, dtype=np.int16), words(SENTENCES[0])) == []
    noise = np.random.default_rng(0).normal(0, 300, 16000).astype(np.int16)
    assert decoder.decode(noise, words(SENTENCES[0])) == []


def test_a_short_chance_match_into_unspoken_text_is_dropped(four_sentences, doc, spec):
    """A garbled transcript that happens to match a few words of the unspoken header is placed by
    the text stage; the audio (sentence 2) does not prove those words, so it is dropped."""
    original, ct, alphabet = doc
    entries = _true_entries(four_sentences)
    entries[2] = dataclasses.replace(entries[2], transcript="a preface nobody read")
    placed = _placer(ct, alphabet)

    assert "preface" in ct.clean[slice(*placed(entries)[2])]      # the text stage placed it in the header
    new, stats = second_pass(entries, placed, ct.clean, four_sentences.samples, four_sentences.rate, spec,
                             SecondPassParams())
    assert stats.unproven == 1 and new[2].transcript == ""
    assert [new[k].transcript for k in (0, 1, 3)] == [entries[k].transcript for k in (0, 1, 3)]   # real ones stay


def test_a_whole_sentence_the_noisy_decode_skipped_is_kept():
    """Planted decode results (the decoder itself is exercised above): a fragment placed on two
    sentences whose constrained decode proves only the second. With a whole 8-word sentence
    beyond the proven one (a noisy decode absorbed it as garbage), the first pass's placement
    stays; with two guessed edge words beyond it, the transcript is cut back as before."""
    import numpy as np

    from align.secondpass import SecondPassStats, _split_at_sentence_ends
    from align.stt.constrained import WordHit

    a = "you can apply it to your programs too"
    b = "when we speak of free software"
    for first, want_cut in ((a, False), ("programs too", True)):
        clean = first + " " + b
        ws = clean.split()
        n_a = len(first.split())
        e = TranscriptEntry(0, 6000, clean)
        ends = frozenset({len(first)})
        hits = [WordHit(k, w, 100.0 * k, 100.0 * k + 90, -1.0) for k, w in enumerate(ws) if k >= n_a]

        def run(tasks):
            return [(hits, hits) for _ in tasks]

        out = _split_at_sentence_ends([e], {0: (0, len(clean))}, clean, ends, np.zeros(96000, np.int16), 16000,
                                      SecondPassStats(), run, max_guess=3)
        assert [x.transcript for x in out] == ([b] if want_cut else [clean])


def test_the_skipped_sentence_is_found_alone_and_the_fragment_cut():
    """Planted decodes: the decode of both sentences proves only the second (from 3.0 s); the
    first sentence's words decoded alone in the audio before it reach its last two words (ending
    at 2.6 s): the fragment is cut in that pause, each piece with its sentence's words. When the
    lone decode does not reach the sentence end, nothing is cut."""
    import numpy as np

    from align.secondpass import SecondPassStats, _split_at_sentence_ends
    from align.stt.constrained import WordHit

    a = "you can apply it to your programs too"
    b = "when we speak of free software"
    clean = a + " " + b
    ws = clean.split()
    n_a = len(a.split())
    second = [WordHit(k, w, 3000.0 + 300 * (k - n_a), 3000.0 + 300 * (k - n_a) + 250, -1.0)
              for k, w in enumerate(ws) if k >= n_a]
    for reach, want in ((n_a, [a, b]), (n_a - 3, [clean])):
        first = [WordHit(k, w, 300.0 * k, 300.0 * k + 250, -2.0) for k, w in enumerate(ws[:reach])]
        asked = []

        def run(tasks):
            asked.extend(len(t[0]) for t in tasks)
            return [(second, second) if len(t[1]) == len(ws) else ([], first) for t in tasks]

        e = TranscriptEntry(1000, 7000, clean)
        out = _split_at_sentence_ends([e], {0: (0, len(clean))}, clean, frozenset({len(a)}),
                                      np.zeros(16000 * 8, np.int16), 16000, SecondPassStats(), run)
        assert [x.transcript for x in out] == want
        assert asked == [96000, 48000]     # the whole fragment, then the audio before the proven run
        if len(want) == 2:
            assert out[0].start == 1000 and out[1].end == 7000
            assert out[0].end == out[1].start == 1000 + (2350 + 3000) / 2
