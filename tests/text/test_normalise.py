"""Normalisation: content, and the clean -> original offset map (round-trip, Unicode-safe)."""

import unicodedata

from hypothesis import given, settings, strategies as st

from align.text.alphabet import Alphabet, load_alphabet
from align.text.normalise import APOSTROPHES, Phrase, TextParams, normalise

EN = Alphabet.from_labels(" abcdefghijklmnopqrstuvwxyz'")


def clean(text, **kw):
    return normalise(text, [Phrase(0, len(text))], EN, TextParams(**kw))


def test_basic_rules():
    ct = clean("  Hello,  World -- it's\tA well-known\n\nFACT!  ")
    assert ct.clean == "hello world it's a well known fact"
    assert clean("Well-known", keep_dashes=True).clean == "wellknown"  # '-' not in the alphabet: dropped
    assert clean("A  B", keep_ws=True).clean == "a  b"


def test_keep_casing_drops_capitals_not_in_alphabet():
    assert clean("Hello World", keep_casing=True).clean == "ello orld"


def test_typographic_apostrophe_and_accents():
    assert clean("It\u2019s a caf\u00e9 na\u00efve").clean == "it's a cafe naive"


def test_offsets_point_at_the_producing_character():
    text = "\u0130stanbul \u00c9t\u00e9 STRASSE ǅemal"  # İ lower-cases to two characters
    ct = clean(text)
    for k, ch in enumerate(ct.clean):
        o = ct.positions[k]
        src = text[o]
        if ch == " ":
            assert src.isspace() or src == "-"
        else:
            folded = unicodedata.normalize("NFKD", src.lower())
            assert ch in folded, (k, ch, src)
    # The character after a length-changing case fold is still mapped exactly.
    k = ct.clean.index("s")
    assert text[ct.positions[k]] == "s"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_round_trip_on_any_text(text):
    ct = clean(text, verbalize="none")  # (spoken forms: test_verbalize.py)
    assert len(ct.positions) == len(ct.clean) == len(ct.phrase_of)
    assert all(ct.positions[i] <= ct.positions[i + 1] for i in range(len(ct.positions) - 1))
    for k, ch in enumerate(ct.clean):
        src = text[ct.positions[k]]
        if ch != " ":
            assert ch in unicodedata.normalize("NFKD", src.lower()) or (ch == "'" and src in APOSTROPHES)
    # Re-cleaning each clean word's original span gives the word back.
    pos = 0
    for word in ct.clean.split(" "):
        if not word:
            continue
        s = ct.clean.index(word, pos)
        o0, o1 = ct.original_span(s, s + len(word))
        # (whether an apostrophe is kept depends on the character after the span)
        again = clean(text[o0:o1], verbalize="none").clean.replace(" ", "").replace("'", "")
        assert word.replace("'", "") in again
        pos = s + len(word)
    assert not ct.clean.startswith(" ") and not ct.clean.endswith(" ")
    assert "  " not in ct.clean


def test_phrases_are_separated_and_tracked():
    text = "One.\nTwo three\n\nfour"
    phrases = [Phrase(0, 4, {"speaker": "a"}), Phrase(5, 14, {"speaker": "b"}), Phrase(16, 20, {"speaker": "a"})]
    ct = normalise(text, phrases, EN)
    assert ct.clean == "one two three four"
    assert list(ct.phrase_of[:3]) == [0, 0, 0]
    assert ct.phrase_of[3] == -1  # separator
    assert ct.phrases_in(4, 13) == [1]
    assert ct.phrases_in(0, 18) == [0, 1, 2]


def test_alphabet_file(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text("# comment\n \na\n\\#\nb", encoding="utf-8")  # no trailing newline on the last label
    a = load_alphabet(p)
    assert a.labels == frozenset(" a#b")
