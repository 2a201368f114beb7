"""Spoken forms of numbers, symbols and abbreviations, and their map back to the original."""

import pytest
from hypothesis import given, settings, strategies as st

from align.text.alphabet import Alphabet
from align.text.normalise import Phrase, TextParams, normalise
from align.text.verbalize import language_of, verbalize

EN = Alphabet.from_labels(" abcdefghijklmnopqrstuvwxyz'")

# (original, spoken clean text, the original span that the spoken words point at)
TABLE = [
    ("Press 2 to", "press two to", None),
    ("in 1999 and", "in nineteen ninety nine and", None),
    ("the 3rd time", "the third time", None),
    ("the 21st floor", "the twenty first floor", None),
    ("costs $5 now", "costs five dollars now", None),
    ("a 50% share", "a fifty percent share", None),
    ("at 10:30 sharp", "at ten thirty sharp", None),
    ("at 9:05 sharp", "at nine oh five sharp", None),
    ("pi is 3.14 or so", "pi is three point one four or so", None),
    ("1,000 men", "one thousand men", None),
    ("version 1.6.36 out", "version one point six point thirty six out", None),
    ("agent 007 here", "agent zero zero seven here", None),
    ("Tom & Jerry", "tom and jerry", None),
    ("2 + 2 = 4", "two plus two equals four", None),
    ("Dr. Smith", "doctor smith", None),
    ("Mr. and Mrs. Brown", "mister and missus brown", None),
    ("apples, e.g. red ones", "apples for example red ones", None),
    ("St. Paul", "saint paul", None),
    ("item No. 5", "item number five", None),
    ("call #3 now", "call number three now", None),
    ("png_set_IHDR(ptr)", "png set ihdr ptr", None),
]


def clean(text, mode="all"):
    return normalise(text, [Phrase(0, len(text))], EN, TextParams(verbalize=mode))


@pytest.mark.parametrize("original,spoken,_", TABLE)
def test_known_spoken_forms(original, spoken, _):
    assert clean(original).clean == spoken


@pytest.mark.parametrize("original,spoken,_", TABLE)
def test_every_spoken_word_maps_back_to_what_it_says(original, spoken, _):
    ct = clean(original)
    for word, s, e in ct.words(0, len(ct.clean)):
        src = original[s:e]
        assert src.strip() == src and src, (word, src)
        # a word of letters maps to those letters; a spoken number word to digits or a symbol
        if any(c.isdigit() for c in src) or not any(c.isalpha() for c in src) or src.endswith("."):
            continue
        assert word == src.lower().replace("_", ""), (word, src)


def test_number_words_point_at_the_digits_and_percent_at_the_sign():
    text = "Press 2 to win 50% now"
    ct = clean(text)
    got = {w: text[s:e] for w, s, e in ct.words(0, len(ct.clean))}
    assert got["two"] == "2" and got["fifty"] == "50" and got["percent"] == "%"
    # the utterance covering "press two" maps to the original "Press 2"
    k = ct.clean.index("two")
    assert ct.original_span(0, k + 3) == (0, text.index("2") + 1)


def test_modes():
    text = "Press 2 & win, e.g. now"
    assert clean(text, "none").clean == "press win eg now"
    assert clean(text, "numbers").clean == "press two win eg now"
    assert clean(text, "all").clean == "press two and win for example now"


def test_tokens_that_cannot_be_said_are_counted():
    # An alphabet with no num2words language: digits cannot be said, and are counted
    greek = Alphabet.from_labels(" \u03b1\u03b2\u03b3\u03b4\u03b5")
    assert language_of(greek.labels) is None
    ct = normalise("\u03b1 12 \u03b2 7", [Phrase(0, 8)], greek, TextParams())
    assert ct.unsaid == [(2, 4), (7, 8)]
    assert ct.clean == "\u03b1 \u03b2"


def test_transcripts_are_verbalised_too():
    from align.text.engine import clean_transcript

    assert clean_transcript("Press 2", EN, TextParams()) == "press two"


def test_language_from_the_alphabet():
    assert language_of(EN.labels) == "en"
    assert language_of(frozenset(" abcdefghijklmnopqrstuvwxyz\u00e4\u00f6\u00fc\u00df")) == "de"


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 10**7).map(str), st.sampled_from(["the", "cat", "%", "&", "$3", "4th", "2.5", "Dr.", ",", "\n"])),
                max_size=12))
def test_offsets_round_trip_on_mixed_text(tokens):
    text = " ".join(tokens)
    ct = clean(text)
    assert len(ct.positions) == len(ct.ends) == len(ct.clean)
    assert all(ct.positions[i] <= ct.positions[i + 1] for i in range(len(ct.clean) - 1))
    assert all(ct.ends[i] <= ct.ends[i + 1] for i in range(len(ct.clean) - 1))
    assert all(ct.positions[i] < ct.ends[i] for i in range(len(ct.clean)))
    for word, s, e in ct.words(0, len(ct.clean)):
        # re-saying the original range a word points at gives that word back among its words
        again = clean(text[s:e]).clean.split()
        assert word in again, (word, text[s:e], again)
