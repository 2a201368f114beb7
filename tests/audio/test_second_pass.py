"""Second pass: constrained re-decoding proves words that are spoken and never claims unspoken text."""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from align.secondpass import SecondPassParams, _candidates, second_pass
from align.stt.base import SttParams
from align.proofcal import run_mean as proofcal_mean
from align.stt.constrained import Acceptance, ConstrainedDecoder, ConstrainedParams, prove
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


def test_skipping_the_phone_decode_never_changes_a_verdict(four_sentences, decoder):
    """With `accept`, the decoder runs the phone decode only where it could change what the caller
    keeps. Against the exact scores (always run without `accept`): the same run proven, the same
    run kept by the caller's own (here looser, as calibrated) thresholds, the same verdict on a
    whole-run acceptance; and the scores without it are within the bound."""
    cases = []
    for k in (0, 2):
        seg = _segment(four_sentences, k)
        cases += [(seg, words(SENTENCES[k])), (seg, words(HEADER + " " + SENTENCES[(k + 1) % 4])),
                  (seg, words(HEADER) + words(SENTENCES[k])[:3]), (seg[:len(seg) // 2], words(SENTENCES[k]))]
    loose = ConstrainedParams(min_mean_score=-2.4, min_edge_score=-3.0)      # a calibrated proof
    skipped = 0
    for seg, window in cases:
        exact = decoder.decode(seg, window)
        scored = decoder.last
        for p, m in ((ConstrainedParams(), 3), (ConstrainedParams(), 1), (loose, 3)):
            run = ((scored[0].index, scored[-1].index),) if scored else ()
            got = decoder.decode(seg, window, accept=Acceptance(p, m, run, -2.0))
            approx = decoder.last
            assert got == exact or [(h.index, h.word) for h in got] == [(h.index, h.word) for h in exact]
            assert [(h.index, h.start_ms) for h in approx] == [(h.index, h.start_ms) for h in scored]
            assert all(abs(x.score - y.score) < 0.05 for x, y in zip(approx, scored))
            skipped += approx != scored
            assert [h.index for h in prove(approx, p, min_words=m)] == [h.index for h in prove(scored, p, min_words=m)]
            if scored:
                assert (proofcal_mean(approx) >= -2.0) == (proofcal_mean(scored) >= -2.0)
    assert skipped >= 6          # most decodes here need no phone decode


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


def test_a_fragment_missing_its_sentence_start_is_an_edge_candidate_not_a_slow_one():
    """Fragment 1 holds the sentence "cc dd ee ff gg hh" but the first pass placed only "ff gg hh"
    (the decoder lost its first three words). Its audio (4 s) is long for 3 placed words at
    700 ms a word, but not for the 6 words its sentence holds: it is decoded for its sentence's
    first words ("cc dd ee"), not as a slow fragment over 40 words of text each side."""
    clean = "aa bb cc dd ee ff gg hh ii jj"
    ends = frozenset({5, 23, 29})       # after "bb", "hh", "jj"
    entries = [TranscriptEntry(0, 1000, "x"), TranscriptEntry(1500, 5500, "y"), TranscriptEntry(6000, 7000, "z")]
    placed = {0: (0, 5), 1: (15, 23), 2: (24, 29)}
    cands = {c[0]: c for c in _candidates(entries, placed, clean, max_words=100, sentence_ends=ends,
                                          sentence_edge=5, slow_extra=1)}
    assert clean[cands[1][1]:cands[1][2]].split() == ["cc", "dd", "ee", "ff", "gg", "hh"]
    # with audio for far more words than that (9 s) it is a slow fragment: the window reaches
    # `slow_extra` words into its neighbours' gaps (none is left on the right)
    entries[1] = TranscriptEntry(1500, 10500, "y")
    entries[2] = TranscriptEntry(11000, 12000, "z")
    cands = {c[0]: c for c in _candidates(entries, placed, clean, max_words=100, sentence_ends=ends,
                                          sentence_edge=5, slow_extra=1)}
    assert clean[cands[1][1]:cands[1][2]].split() == ["ee", "ff", "gg", "hh"]


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


def test_a_chance_match_placed_after_another_was_dropped_is_verified_too(four_sentences, doc, spec):
    """Two fragments whose garbled transcripts both match the unspoken header ("when" heard twice
    in noise): the text stage places one; once it is dropped, a re-alignment places the other
    on the same words, and that placement must be proven too."""
    original, ct, alphabet = doc
    entries = _true_entries(four_sentences)
    entries[2] = dataclasses.replace(entries[2], transcript="a preface nobody read")
    entries[3] = dataclasses.replace(entries[3], transcript="a preface nobody read")
    placed = _placer(ct, alphabet)

    first = placed(entries)
    assert (2 in first) != (3 in first)                          # one of them takes the header
    new, stats = second_pass(entries, placed, ct.clean, four_sentences.samples, four_sentences.rate, spec,
                             SecondPassParams(max_rounds=0))
    assert new[2].transcript == "" and new[3].transcript == "" and stats.unproven == 2
    assert not {2, 3} & set(placed(new))
    assert [new[k].transcript for k in (0, 1)] == [entries[k].transcript for k in (0, 1)]


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


# -- edge-region decoding -------------------------------------------------------------------------
EDGE = SecondPassParams(edge_region_ms=700.0, edge_word_ms=500.0, budget=1.0)   # edge decodes for 3 s fragments


def _spy_decodes(monkeypatch):
    """The length (ms) of every constrained decode's audio, in the order run."""
    import align.secondpass as sp

    seen = []
    real = sp._safe_decode

    def spy(d, samples, words, *rest):
        seen.append(len(samples) / 16.0)
        return real(d, samples, words, *rest)

    monkeypatch.setattr(sp, "_safe_decode", spy)
    return seen


def _gap_placer(ct, alphabet):
    """Like the pipeline's second pass: no claiming of the words between neighbours (those are
    for the audio to decide)."""
    base = AlignParams()
    params = dataclasses.replace(base, merge=MergeParams(enabled=False),
                                 edges=dataclasses.replace(base.edges, claim_gaps=False, fill=False))

    def placed(es):
        return {u.fragment: (u.clean_start, u.clean_end) for u in align_transcripts(es, ct, alphabet, params).utterances}

    return placed


def _doc_with(text: str):
    alphabet = Alphabet.from_labels(ENGLISH_LABELS)
    return normalise(text, [Phrase(0, len(text))], alphabet, TextParams()), alphabet


def test_a_missing_edge_word_is_recovered_from_the_edge_audio_only(four_sentences, spec, monkeypatch):
    """The first pass dropped sentence 0's last word and sentence 2's first: each is proven from the
    audio near that edge (far less than the fragment), and spliced onto the placed words."""
    from align.pipeline import sentence_ends

    ct, alphabet = _doc_with(" ".join(SENTENCES))
    entries = _true_entries(four_sentences)
    s0, s2 = words(SENTENCES[0]), words(SENTENCES[2])
    entries[0] = dataclasses.replace(entries[0], transcript=" ".join(s0[:-1]))     # "... the lazy"
    entries[2] = dataclasses.replace(entries[2], transcript=" ".join(s2[1:]))      # "software is ..."
    placed = _gap_placer(ct, alphabet)
    seen = _spy_decodes(monkeypatch)
    new, stats = second_pass(entries, placed, ct.clean, four_sentences.samples, four_sentences.rate, spec, EDGE,
                             sentence_ends=sentence_ends(ct))
    assert new[0].transcript == " ".join(s0) and new[2].transcript == " ".join(s2)
    assert stats.extended == 2 and stats.recovered == 0
    # fragments 0 and 2 (3.0 and 3.3 s) were decoded at their edge only (1.2 s +- the quiet-spot
    # shift, and up to 1 s of the pause outside it, the planted pauses less 2 x 100 ms from their
    # fragments); fragment 1, short and wanting words at both edges, whole
    assert sum(900 <= ms <= 2500 for ms in seen) == 2
    assert all(abs(ms - (e.end - e.start)) > 100 for e in entries[:3:2] for ms in seen)
    # the fragments' audio is not moved: the words were there
    assert (new[0].start, new[2].end) == (entries[0].start, entries[2].end)


def test_an_unspoken_edge_word_is_never_spliced_on(four_sentences, tmp_path):
    """The text says "Truly, Free software ..." but the audio only "Free software ...": with the
    transcript right, the edge decode offers "truly" and must not prove it; with "free" missing
    too, "free" is proven and "truly" still not."""
    from align.pipeline import sentence_ends

    ct, alphabet = _doc_with(" ".join(SENTENCES[:2]) + " Truly, " + " ".join(SENTENCES[2:]))
    spec = make_engine_spec(SttParams(), ct.clean, lm_cache_dir=tmp_path)   # a dictionary that has "truly"
    placed = _gap_placer(ct, alphabet)
    s2 = words(SENTENCES[2])
    entries = _true_entries(four_sentences)
    new, stats = second_pass(entries, placed, ct.clean, four_sentences.samples, four_sentences.rate, spec, EDGE,
                             sentence_ends=sentence_ends(ct))
    assert stats.tried >= 1 and stats.extended == 0
    assert [e.transcript for e in new] == [e.transcript for e in entries]
    entries[2] = dataclasses.replace(entries[2], transcript=" ".join(s2[1:]))
    new, stats = second_pass(entries, placed, ct.clean, four_sentences.samples, four_sentences.rate, spec, EDGE,
                             sentence_ends=sentence_ends(ct))
    assert new[2].transcript == " ".join(s2) and stats.extended == 1


def test_edge_words_need_a_placed_word_in_the_proven_run():
    from align.secondpass import _edge_words, _Part
    from align.stt.constrained import WordHit

    def hits(*idx):
        return [WordHit(k, f"w{k}", 100.0 * k, 100.0 * k + 90, -0.5) for k in idx]

    left = _Part("left", 0.0, 1500.0, ("a", "b", "p", "q", "r"), 2)      # edge words a b, then placed p q r
    assert _edge_words(left, hits(1, 2, 3)) == ["b"]
    assert _edge_words(left, hits(0, 1, 2, 3, 4)) == ["a", "b"]
    assert _edge_words(left, hits(0, 1, 2)) == []       # one placed word: not joined firmly enough
    assert _edge_words(left, hits(0, 1, 2), joined=1) == ["a", "b"]
    assert _edge_words(left, hits(0, 1)) == []          # edge words alone: not joined to the placed text
    assert _edge_words(left, hits(2, 3, 4)) == []       # placed words alone: nothing new
    right = _Part("right", 2000.0, 3500.0, ("p", "q", "r", "x", "y"), 2)
    assert _edge_words(right, hits(1, 2, 3)) == ["x"]
    assert _edge_words(right, hits(0, 1, 2, 3, 4)) == ["x", "y"]
    assert _edge_words(right, hits(2, 3, 4)) == []
    assert _edge_words(right, hits(3, 4)) == []


def test_the_edge_audio_is_cut_in_a_quiet_spot():
    import numpy as np

    from align.secondpass import _quiet_cut

    rate = 16000
    t = np.arange(3 * rate) / rate
    x = (8000 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)
    x[int(1.62 * rate):int(1.70 * rate)] = 0                          # an 80 ms pause at 1.62-1.70 s
    cut = _quiet_cut(x, int(1.5 * rate), 0, len(x), rate)             # nominal cut at 1.5 s, 250 ms reach
    assert 1.62 * rate <= cut <= 1.70 * rate
    assert _quiet_cut(x, int(0.5 * rate), 0, len(x), rate) != int(1.65 * rate)   # out of reach: stays near
    assert abs(_quiet_cut(x, int(0.5 * rate), 0, len(x), rate) - int(0.5 * rate)) <= 0.25 * rate + 160


def test_an_unplaced_fragment_is_searched_where_its_transcript_matches():
    from align.secondpass import _locate_transcript

    window = ("the licenses for most software are designed to take away your freedom to share and change "
              "the works by contrast the general public license is intended to guarantee your freedom to "
              "share and change all versions of a program to make sure it remains free software for all its "
              "users we the free software foundation use the general public license for most of our "
              "software it applies also to any other work released this way by its authors").split()
    truth = window.index("foundation") - 3                              # "we the free software foundation ..."
    garbled = "be the free software foundation use the general public lessons for most of our".split()
    a, b = _locate_transcript(garbled, window, 4000.0, 5)
    assert a <= truth and truth + len(garbled) <= b and b - a < len(window) // 2
    # common words only (or too few matches): no idea where, the whole window stays
    assert _locate_transcript("the to the and".split(), window, 2000.0, 5) is None
    assert _locate_transcript("zebra quantum".split(), window, 2000.0, 5) is None


def test_the_phone_decode_of_the_same_audio_is_reused(four_sentences, spec):
    """Calibration, rounds and the later checks decode the same fragment again with other windows:
    its phone decode runs once, and the scores are those of a fresh decoder."""
    d = ConstrainedDecoder(spec)
    phone_runs = []
    real = d._run

    def spy(search, samples, *rest):
        phone_runs.append(search == "_phones")
        return real(search, samples, *rest)

    d._run = spy
    seg = _segment(four_sentences, 2)
    w1, w2 = words(SENTENCES[2]), words(SENTENCES[1] + " " + SENTENCES[2])
    first, second = d.decode(seg, w1), d.decode(seg, w2)
    assert sum(phone_runs) == 1 and first
    fresh = ConstrainedDecoder(spec)
    assert fresh.decode(seg, w2) == second and [h.score for h in fresh.last] == [h.score for h in d.last]
    d.decode(_segment(four_sentences, 0), w1)           # other audio: decoded
    assert sum(phone_runs) == 2


def test_an_edge_word_before_a_late_fragment_start_is_found_in_the_pause(four_sentences, spec):
    """The VAD opened sentence 2's fragment 450 ms late (in noise it does): its first word's audio
    lies before the fragment, and the first pass lost the word. The edge decode reaches into the
    pause before the fragment (never into the previous fragment), proves the word, and the
    fragment starts again at the sentence's planted start (within 100 ms)."""
    from align.pipeline import sentence_ends

    ct, alphabet = _doc_with(" ".join(SENTENCES))
    entries = _true_entries(four_sentences)
    s2 = words(SENTENCES[2])
    true_start = four_sentences.sentences[2].start_ms
    late = dataclasses.replace(entries[2], start=true_start + 450, transcript=" ".join(s2[1:]))
    entries[2] = late
    new, stats = second_pass(entries, _gap_placer(ct, alphabet), ct.clean, four_sentences.samples,
                             four_sentences.rate, spec, EDGE, sentence_ends=sentence_ends(ct))
    assert new[2].transcript == " ".join(s2)
    assert abs(new[2].start - true_start) <= 100 and new[2].start > new[1].end
    # without the reach the word is not there to prove
    off = dataclasses.replace(EDGE, edge_reach_ms=0.0)
    new, _ = second_pass(entries, _gap_placer(ct, alphabet), ct.clean, four_sentences.samples,
                         four_sentences.rate, spec, off, sentence_ends=sentence_ends(ct))
    assert new[2].transcript == late.transcript and new[2].start == late.start


def test_candidates_reach_a_sentence_start_right_after_a_placed_neighbour():
    """Fragment 0 is placed on "aa bb", which ends a sentence; fragment 1 on "gg hh". The four
    words between are more than a short edge, but they are the start of fragment 1's sentence:
    its window reaches back to them (never further: "bb" is fragment 0's)."""
    clean = "aa bb cc dd ee ff gg hh"
    entries = [TranscriptEntry(0, 1000, "x"), TranscriptEntry(1500, 2500, "y")]
    placed = {0: (0, 5), 1: (18, 23)}
    cands = {c[0]: c for c in _candidates(entries, placed, clean, max_words=100, sentence_ends=frozenset({5}),
                                          sentence_edge=7)}
    assert clean[cands[1][1]:cands[1][2]].split() == ["cc", "dd", "ee", "ff", "gg", "hh"]
    # no sentence end where fragment 0's text ends: the four words may be anything (a left-out line)
    assert 1 not in {c[0] for c in _candidates(entries, placed, clean, max_words=100, sentence_ends=frozenset({23}),
                                               sentence_edge=7)}
    # an unplaced fragment between the two: the words may be its own, not fragment 2's sentence start
    entries3 = [entries[0], TranscriptEntry(1100, 1400, "z"), entries[1]]
    cands = {c[0]: c for c in _candidates(entries3, {0: (0, 5), 2: (18, 23)}, clean, max_words=100,
                                          sentence_ends=frozenset({5}), sentence_edge=7)}
    assert 2 not in cands and cands[1][1:3] == (5, 18)


# First-pass transcripts of the four sentences, half their words wrong (what pocketsphinx makes
# of reverberant telephone speech in noise)
GARBLED = ["of quick brown that jumps or the lazy of", "a we hold the truths to the self of",
           "for software of a matter the liberty or price", "the call me of when the have a moment"]


def test_few_anchors_are_seeded_where_the_garbled_transcripts_point(four_sentences, doc, spec):
    from align.proofcal import CalibrationParams

    original, ct, alphabet = doc
    entries = [dataclasses.replace(e, transcript=g) for e, g in zip(_true_entries(four_sentences), GARBLED)]
    real = _placer(ct, alphabet)

    def placed(es):
        # planted: the first pass placed none of the garbled transcripts (too few anchors for the
        # rounds); proven transcripts are placed by the real aligner
        return {} if [e.transcript for e in es] == GARBLED else real(es)

    # (the test document is short: impostor windows of 12 words fit three times into it)
    params = SecondPassParams(calibrate=CalibrationParams(impostor_words=12))
    new, stats = second_pass(entries, placed, ct.clean, four_sentences.samples, four_sentences.rate, spec, params)
    assert stats.seeded >= 2
    result = align_transcripts(new, ct, alphabet, AlignParams(merge=MergeParams(enabled=False)))
    got = {u.fragment: u.aligned for u in result.utterances}
    assert len(got) == 4
    for k, sentence in enumerate(SENTENCES):
        truth = words(sentence)
        said = got[k].split()
        assert " ".join(said) in " ".join(truth) and len(said) >= len(truth) - 2, (k, got[k])
    assert not any(w in " ".join(got.values()) for w in ("preface", "chapter", "harbours"))
    # off: the few-anchors rule stands, nothing is re-decoded
    new, stats = second_pass(entries, placed, ct.clean, four_sentences.samples, four_sentences.rate, spec,
                             dataclasses.replace(params, seed=False))
    assert stats.seeded == 0 and [e.transcript for e in new] == GARBLED


def test_islands_are_counted_in_audio_too(four_sentences, doc, spec):
    """One fragment of four was heard and placed; the other three gave no transcript (what two
    minutes of noise give: short chance words among many empty fragments). By count of the
    fragments heard the first pass placed all of them, but a quarter of the voiced audio is no
    islands: nothing is re-decoded (the long windows cost a minute of decoding on noise) and the
    placement left must be proven. With a lower `min_anchored` the rounds run."""
    original, ct, alphabet = doc
    entries = _true_entries(four_sentences)
    entries = [entries[0]] + [dataclasses.replace(e, transcript="") for e in entries[1:]]
    placed = _placer(ct, alphabet)
    voiced = sum(e.end - e.start for e in entries)
    assert (entries[0].end - entries[0].start) < 0.3 * voiced and list(placed(entries)) == [0]
    new, stats = second_pass(entries, placed, ct.clean, four_sentences.samples, four_sentences.rate, spec,
                             SecondPassParams(seed=False))
    assert stats.rounds == 0 and new[0].transcript == entries[0].transcript and stats.unproven == 0
    new, stats = second_pass(entries, placed, ct.clean, four_sentences.samples, four_sentences.rate, spec,
                             SecondPassParams(seed=False, min_anchored=0.2))
    assert stats.rounds >= 1


def _planted_seeding(own_score: float, chance_score: float):
    """Six fragments, each saying 6 words of a 200-word text (w0 w1 ...) and transcribed exactly
    (so each points at its words), and a fake decoder: in a fragment's audio (known by its
    length) a window holding that fragment's words yields them at `own_score`; any other window
    yields its first 4 words at `chance_score`. Returns _seed's result and the fragments' words."""
    import numpy as np

    from align.proofcal import run_mean
    from align.secondpass import SecondPassStats, _seed
    from align.stt.constrained import WordHit

    words_ = [f"w{k}" for k in range(200)]
    clean = " ".join(words_)
    rate = 1000
    said = {f: words_[30 * f + 5:30 * f + 11] for f in range(6)}
    entries, t = [], 0
    for f in range(6):
        dur = 2000 + 100 * f
        entries.append(TranscriptEntry(t, t + dur, " ".join(said[f])))
        t += dur + 500
    by_len = {int(e.end - e.start): f for f, e in enumerate(entries)}

    def run_raw(tasks):
        out = []
        for task in tasks:
            samples, window = task[0], list(task[1])
            mine = said[by_len[len(samples)]]
            if mine[0] in window and window[window.index(mine[0]):window.index(mine[0]) + 6] == mine:
                k, run, score = window.index(mine[0]), mine, own_score
            else:
                k, run, score = 0, window[:4], chance_score
            out.append(([], [WordHit(k + j, w, 300 * j, 300 * (j + 1), score) for j, w in enumerate(run)]))
        return out

    assert run_mean(run_raw([(np.zeros(2000), said[0])])[0][1]) == own_score
    stats = SecondPassStats()
    got = _seed(entries, {}, clean, np.zeros(t, np.int16), rate, SecondPassParams(), stats, run_raw)
    return got, stats, said


def test_seeding_proves_what_scores_clearly_above_chance():
    got, stats, said = _planted_seeding(-2.6, -4.5)
    assert got is not None
    new, params = got
    assert [e.transcript for e in new] == [" ".join(said[f]) for f in range(6)] and stats.seeded == 6
    # calibrated on the recording: own level -2.6, so the proof's threshold moved down to -3.1
    assert abs(params.decode.min_mean_score - (-3.1)) < 1e-9


def test_seeding_refuses_when_the_own_text_scores_no_better_than_chance():
    """Wrong text, or audio the acoustic model cannot follow: a fragment's "own" words score what
    any other window's do. Nothing is seeded (the few-anchors rule stands)."""
    got, stats, _said = _planted_seeding(-3.0, -3.0)
    assert got is None and stats.seeded == 0


def test_trimmed_words_that_complete_the_proven_sentence_are_kept():
    """Planted decode: "for the developers and authors protection" after a sentence "... it." The
    proof trimmed "the developers" (weak in noise); they reach one word short of the sentence
    start, so they join the run. Words of the previous sentence, a run missing two words of its
    sentence, a stretched word or a very weak mean do not."""
    from align.secondpass import _sentence_positions, _to_sentence_edges
    from align.stt.constrained import WordHit

    clean = "modify it for the developers and authors protection"
    ends = frozenset({9, len(clean)})                         # after "modify it", and at the end
    pos = _sentence_positions(clean, ends)
    offsets = [m.start() for m in __import__("re").finditer(r"\S+", clean)]
    assert pos[offsets[2]] == (0, 5) and pos[offsets[1]] == (1, 0)

    def hits(idx, scores, ms=300):
        return [WordHit(k, clean.split()[k], 1000 + j * ms, 1000 + (j + 1) * ms, s) for j, (k, s) in enumerate(zip(idx, scores))]

    raw = hits([3, 4, 5, 6, 7], [-4.3, -4.6, -1.9, -1.4, -2.9])
    proven = raw[2:]
    grown = _to_sentence_edges(offsets, proven, raw, pos, 3, -5.5)
    assert [h.word for h in grown] == ["the", "developers", "and", "authors", "protection"]
    assert _to_sentence_edges(offsets, proven, raw, pos, 3, -4.0) == proven           # too weak
    assert _to_sentence_edges(offsets, proven, raw, pos, 1, -5.5) == proven           # more than the limit
    # from the previous sentence's last word: not the same sentence
    raw2 = hits([1, 2, 3, 4, 5, 6, 7], [-4.0, -4.0, -4.3, -4.6, -1.9, -1.4, -2.9])
    assert _to_sentence_edges(offsets, raw2[4:], raw2, pos, 5, -9.0) == raw2[4:]
    # two words short of the sentence start ("developers and ..." missing "for the"): kept as proven
    raw3 = hits([4, 5, 6, 7], [-4.6, -1.9, -1.4, -2.9])
    assert _to_sentence_edges(offsets, raw3[1:], raw3, pos, 3, -9.0) == raw3[1:]
    # a word stretched over two seconds of other speech is no evidence
    long = [WordHit(3, "the", -1000, 1000, -3.0)] + hits([4, 5, 6, 7], [-3.0, -1.9, -1.4, -2.9])
    assert _to_sentence_edges(offsets, long[2:], long, pos, 3, -9.0) == long[2:]
    # the end of the sentence: "protection" trimmed, it is the sentence's last word
    raw4 = hits([5, 6, 7], [-1.9, -1.4, -4.0])
    assert [h.word for h in _to_sentence_edges(offsets, raw4[:2], raw4, pos, 3, -5.5)][-1] == "protection"


def test_audio_before_a_run_whose_sentence_goes_on_before_it_is_not_cut_off():
    """Planted: a fragment at 10-16 s whose proven run "your rights we need" begins 600 ms in.
    Its sentence starts "to protect", two words the decoder could not prove: the 600 ms before
    the run are most likely them, and the text alignment may still give them to this fragment, so
    the start stays. A run that starts its sentence has nothing left to claim: the unexplained
    audio before it is cut (to 50 ms before the run). Ends alike."""
    from align.secondpass import SecondPassParams, _open_edges, _replace, _sentence_positions
    from align.stt.constrained import WordHit

    clean = "to protect your rights we need to prevent it"
    ends = frozenset({len(clean)})
    pos = _sentence_positions(clean, ends)
    offsets = [m.start() for m in __import__("re").finditer(r"\S+", clean)]
    words = clean.split()
    run = [WordHit(k, words[k], 600 + j * 300, 900 + j * 300, -2.0) for j, k in enumerate(range(2, 6))]
    assert _open_edges(offsets, run, pos, 3) == (True, True)
    e = TranscriptEntry(10000, 16000, "x")
    p = SecondPassParams()
    kept = _replace(e, run, p, keep=_open_edges(offsets, run, pos, 3))
    assert kept.start == 10000 and kept.end == 16000 and kept.transcript == "your rights we need"
    cut = _replace(e, run, p)
    assert cut.start == 10550 and cut.end == 10000 + 1800 + 50
    # the run starts and ends its sentence: both edges are cut to it
    whole = [WordHit(k, words[k], 600 + k * 300, 900 + k * 300, -2.0) for k in range(len(words))]
    assert _open_edges(offsets, whole, pos, 3) == (False, False)
    out = _replace(e, whole, p, keep=_open_edges(offsets, whole, pos, 3))
    assert out.start == 10550 and out.end == 10000 + 900 + 8 * 300 + 50
    # a run that begins before the fragment still widens it, kept edge or not
    early = [WordHit(k, words[k], -400 + j * 300, -100 + j * 300, -2.0) for j, k in enumerate(range(2, 6))]
    assert _replace(e, early, p, keep=(True, True)).start == 10000 - 400 - 50
    # more of the sentence than an edge claim takes (3 words after "need": "to prevent it"
    # is 3, so with a limit of 2): that side is cut, its words are not this fragment's label
    assert _open_edges(offsets, run, pos, 2) == (True, False)
    # without sentence ends nothing is known: the old rule
    assert _open_edges(offsets, run, {}, 3) == (False, False)


def test_an_unproven_run_is_kept_only_well_above_chance_on_its_own_audio():
    """Planted decodes. A whole decode failed the recording's threshold (-2.84) with a run at
    -3.0 (a harder voice than the calibration's): it is compared with the best run a decode of
    far text reaches on the same audio, and kept only 0.8 above it."""
    import numpy as np

    from align.secondpass import SecondPassStats, _Part, _beat_chance, _local_candidate
    from align.stt.constrained import WordHit

    def hits(ws, scores, first=0):
        return [WordHit(first + k, w, 300 * k, 300 * (k + 1), s) for k, (w, s) in enumerate(zip(ws, scores))]

    params = SecondPassParams(decode=ConstrainedParams(min_mean_score=-2.84, min_edge_score=-3.44))
    said = "some devices are designed to deny users".split()
    raw = hits(said, [-4.5, -3.1, -2.9, -2.8, -3.2, -3.0, -3.0])
    run = _local_candidate(raw, params)
    assert [h.word for h in run] == said[1:]                       # "some" under the edge threshold
    assert _local_candidate(hits(said, [-3.6] * 7), params) == []   # under calibrate.lowest (-3.2)
    assert _local_candidate(raw[:4], params) == []                  # too short
    assert _local_candidate(hits(said, [float("nan")] * 7), params) == []

    clean = " ".join(f"w{k}" for k in range(200))
    entries = [TranscriptEntry(1000, 4000, "x")]
    part = _Part("whole", 0.0, 3000.0, tuple(said))
    seen = []

    def run_raw(level):
        def run(tasks):
            seen.extend(list(t[1]) for t in tasks)
            return [([], hits(list(t[1])[:4], [level, level + 0.2, level, level])) for t in tasks]
        return run

    samples = np.zeros(16000 * 5, np.int16)
    stats = SecondPassStats()
    kept = _beat_chance([((0, 0, 30, 0), part, run)], entries, clean, samples, 16000, params, stats, run_raw(-4.0))
    assert [k[2] for k in kept] == [run]
    assert seen[0][0] == "w100"                                    # far text: half the document away
    kept = _beat_chance([((0, 0, 30, 0), part, run)], entries, clean, samples, 16000, params, stats, run_raw(-3.4))
    assert kept == [] and stats.rejected == 1                       # chance -3.3: -3.0 is not 0.8 above it



def test_second_pass_options_reach_the_config(tmp_path):
    from align.cli.align import build_parser, config_from_args

    base = ["--audio", str(tmp_path / "a.wav"), "--script", str(tmp_path / "t.txt"), "--aligned", str(tmp_path / "o")]
    cfg = config_from_args(build_parser().parse_args(base))
    assert cfg.second_pass.seed and cfg.second_pass.calibrate.enabled and cfg.second_pass.enabled
    cfg = config_from_args(build_parser().parse_args(base + ["--second-pass-no-seed", "--second-pass-no-calibrate"]))
    assert not cfg.second_pass.seed and not cfg.second_pass.calibrate.enabled and cfg.second_pass.enabled


def test_a_whole_prompt_with_one_word_misheard_is_kept_only_when_its_words_score():
    """Planted decode. "an of clubs" placed on the prompt line "10 of clubs" (said "ten of
    clubs"): one word of three misheard still says the whole prompt; two words of two ("an
    clubs" for "of clubs"), or two misheard words of three, do not. The decode must say exactly
    the prompt, at the whole-prompt level."""
    from align.secondpass import _says_phrase, _whole_prompt
    from align.stt.constrained import WordHit

    words = ["ten", "of", "clubs"]
    assert _says_phrase(["an", "of", "clubs"], words) and _says_phrase(words, words)
    assert not _says_phrase(["an", "of", "cups"], words)          # two of three misheard
    assert not _says_phrase(["an", "clubs"], ["of", "clubs"])     # a two-word prompt: exact only
    assert not _says_phrase(["of", "clubs"], words)               # a word missing

    span = (0, 12)
    params = SecondPassParams(phrase_min_score=-3.7)
    raw = [WordHit(k, w, 300 * k, 300 * (k + 1), s) for k, (w, s) in enumerate(zip(words, [-3.9, -2.3, -3.6]))]
    entry = TranscriptEntry(0, 1000, "an of clubs")
    assert _whole_prompt(entry, span, words, raw, frozenset({span}), params)
    assert not _whole_prompt(entry, span, words, raw, frozenset(), params)                 # not a whole line
    assert not _whole_prompt(entry, span, words, raw, frozenset({span}), SecondPassParams(phrase_min_score=-3.0))
    assert not _whole_prompt(entry, span, words, raw[1:], frozenset({span}), params)       # decode lost "ten"
    assert not _whole_prompt(TranscriptEntry(0, 1000, "an of cups"), span, words, raw, frozenset({span}), params)
