"""Similarity metrics against independent oracles: textdistance's pure-Python implementations,
jiwer, hand-computed WNG values and a brute-force WNG written here."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict

import jiwer
import pytest
import textdistance
from hypothesis import given, settings
from hypothesis import strategies as st

from align.text.similarity import (
    SIMILARITY_ALGOS,
    WngParams,
    cer,
    similarities,
    similarity,
    wer,
)

# Small alphabets make shared n-grams (and repeated ones) common; the wide one adds case,
# H/W (Editex's special letters), Unicode whose upper case is longer ('ß') and non-BMP.
SMALL = st.text(alphabet="ab c'", max_size=12)
CLEAN = st.text(alphabet="abcdefghijklmnopqrstuvwxyz '", max_size=30)
WIDE = st.text(alphabet="aeiouyhwbpckqdtlrmngjfvsxzHWAEéßı' -\U0001f600", max_size=25)
ANY = st.one_of(SMALL, CLEAN, WIDE)
PARAMS = st.builds(
    WngParams,
    min_size=st.integers(1, 3),
    max_size=st.integers(3, 6),
    size_factor=st.sampled_from([0.0, 0.5, 1.0, 2.0]),
    position_factor=st.sampled_from([0.0, 1.0, 2.5]),
)
DIRECTION = st.sampled_from([-1, 0, 1])


@st.composite
def near_pairs(draw):
    """(a, b) with b a few edits away from a: exercises partial matches (MRA passes, Editex)."""
    a = draw(st.one_of(CLEAN, WIDE))
    b = list(a)
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from("sdi"))
        pos = draw(st.integers(0, len(b)))
        ch = draw(st.sampled_from("aebkhw sß"))
        if op == "s" and pos < len(b):
            b[pos] = ch
        elif op == "d" and pos < len(b):
            del b[pos]
        else:
            b.insert(pos, ch)
    return a, "".join(b)


PAIRS = st.one_of(st.tuples(ANY, ANY), near_pairs())


def wng_brute(a: str, b: str, p: WngParams, direction: int) -> float:
    """Straightforward WNG: weight tables per n-gram, min over shared n-grams, / longer total."""
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0

    def weights(s: str) -> dict[str, float]:
        table: dict[str, float] = defaultdict(float)
        for size in range(p.min_size, p.max_size + 1):
            grams = [s[i : i + size] for i in range(len(s) - size + 1)]
            n = len(grams)
            for i, g in enumerate(grams):
                if n == 1:
                    w = 1.0
                elif direction > 0:
                    w = (i / (n - 1)) ** 2
                elif direction < 0:
                    w = ((n - 1 - i) / (n - 1)) ** 2
                else:
                    w = 4 * ((i - (n - 1) / 2) / (n - 1)) ** 2
                table[g] += size * p.size_factor + w * w * p.position_factor
        return table

    wa, wb = weights(a), weights(b)
    longer = wa if len(a) >= len(b) else wb
    total = sum(longer.values())
    if total <= 0:
        return 1.0 if a == b else 0.0
    return sum(min(wa[g], wb[g]) for g in wa if g in wb) / total


# --- WNG ------------------------------------------------------------------------------


def test_wng_hand_computed_direction_right():
    # "abc", direction +1: 1-grams w = 0, 1/4, 1 -> a 1, b 1 + 2.5/16, c 3.5; 2-grams w = 0, 1
    # -> ab 2, bc 4.5; 3-gram abc (single, w = 1) 5.5; total 17.65625.
    # "ab": a 1, b 3.5, ab 4.5. Shared: min(1,1) + min(3.5,1.15625) + min(4.5,2) = 4.15625.
    expected = 4.15625 / 17.65625
    assert similarity("wng", "ab", "abc", direction=1) == pytest.approx(expected, abs=1e-15)
    assert similarity("wng", "abc", "ab", direction=1) == pytest.approx(expected, abs=1e-15)


def test_wng_hand_computed_direction_both_ends_repeated_grams():
    # "aaa", direction 0: 1-grams w = 1, 0, 1 -> 'a' = 3.5 + 1 + 3.5 = 8; 2-grams w = 1, 1 ->
    # 'aa' = 9; 3-gram 'aaa' = 5.5; total 22.5. "a": 'a' = 3.5. Score = min(8, 3.5) / 22.5.
    assert similarity("wng", "aaa", "a", direction=0) == pytest.approx(3.5 / 22.5, abs=1e-15)


def test_wng_direction_weighs_the_named_end():
    # A difference at the right end costs more when the right end weighs more.
    a, right_diff, left_diff = "abcdefghij", "abcdefghiX", "Xbcdefghij"
    assert similarity("wng", a, right_diff, direction=1) < similarity("wng", a, left_diff, direction=1)
    assert similarity("wng", a, right_diff, direction=-1) > similarity("wng", a, left_diff, direction=-1)


@settings(max_examples=400, deadline=None)
@given(ab=PAIRS, p=PARAMS, direction=DIRECTION)
def test_wng_matches_brute_force(ab, p, direction):
    a, b = ab
    assert similarity("wng", a, b, p, direction) == pytest.approx(wng_brute(a, b, p, direction), abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(a=ANY, b=ANY, p=PARAMS, direction=DIRECTION)
def test_wng_exactly_symmetric_and_bounded(a, b, p, direction):
    s = similarity("wng", a, b, p, direction)
    assert s == similarity("wng", b, a, p, direction)
    assert 0.0 <= s <= 1.0 + 1e-12
    if a == b:
        assert s == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("max_size", [3, 5])
def test_wng_short_strings_do_not_crash(max_size):
    # The reference crashed on any string of <= max_size characters.
    p = WngParams(min_size=1, max_size=max_size)
    words = ["", "y", "ye", "yes", "yess", "no"]
    for a in words:
        for b in words:
            s = similarity("wng", a, b, p, 1)
            assert s == pytest.approx(wng_brute(a, b, p, 1), abs=1e-12)
    assert similarity("wng", "", "") == 1.0
    assert similarity("wng", "", "abc") == 0.0
    # Strings shorter than min_size carry no n-gram: equal -> 1, different -> 0.
    p2 = WngParams(min_size=3, max_size=4)
    assert similarity("wng", "ab", "ab", p2) == 1.0
    assert similarity("wng", "ab", "ba", p2) == 0.0


def test_wng_is_independent_of_hash_seed():
    code = (
        "from align.text.similarity import similarities;"
        "print(repr(similarities('wng', 'the quick brown fox jumps', "
        "['the quick brown fax jumps', 'quick the fox', 'jumps over', 'brown brown fox'], direction=1).tolist()))"
    )
    outs = set()
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        outs.add(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout)
    assert len(outs) == 1


def test_wng_params_validated():
    with pytest.raises(ValueError):
        WngParams(min_size=0)
    with pytest.raises(ValueError):
        WngParams(min_size=3, max_size=2)
    with pytest.raises(ValueError):
        WngParams(size_factor=-1)
    with pytest.raises(ValueError):
        similarity("wng", "a", "b", direction=2)


# --- the other algorithms against textdistance's own (pure-Python) implementations ------

TD = {
    "editex": textdistance.Editex(external=False),
    "mra": textdistance.MRA(external=False),
    "levenshtein": textdistance.Levenshtein(external=False),
    "jaro_winkler": textdistance.JaroWinkler(external=False),
    "hamming": textdistance.Hamming(external=False),
}


@pytest.mark.parametrize("algo", sorted(TD))
@settings(max_examples=300, deadline=None)
@given(ab=PAIRS)
def test_matches_textdistance(algo, ab):
    a, b = ab
    assert similarity(algo, a, b) == pytest.approx(TD[algo].normalized_similarity(a, b), abs=1e-12)


@pytest.mark.parametrize(
    "a,b",
    [
        ("", ""),
        ("", "abc"),
        ("abc", ""),
        ("hello", "hello"),
        ("nelson", "neilsen"),  # Editex: vowels and L/R groups
        ("byrne", "boern"),  # MRA: codes BYRN / BRN
        ("smith", "smyth"),
        ("catherine", "kathryn"),
        ("hwhw", "wh"),  # Editex: deletions after H/W
        ("a" * 40, "a" * 37 + "bbb"),
        ("straße", "STRASSE"),  # upper case longer than the string
    ],
)
@pytest.mark.parametrize("algo", sorted(TD))
def test_matches_textdistance_known_pairs(algo, a, b):
    assert similarity(algo, a, b) == pytest.approx(TD[algo].normalized_similarity(a, b), abs=1e-12)


@pytest.mark.parametrize("algo", SIMILARITY_ALGOS)
def test_empty_strings(algo):
    assert similarity(algo, "", "") == 1.0
    assert similarity(algo, "", "x") == 0.0
    assert similarity(algo, "x", "") == 0.0


@pytest.mark.parametrize("algo", SIMILARITY_ALGOS)
@settings(max_examples=60, deadline=None)
@given(a=ANY, bs=st.lists(ANY, max_size=8), direction=DIRECTION)
def test_batch_equals_single_calls(algo, a, bs, direction):
    batch = similarities(algo, a, bs, direction=direction)
    assert batch.dtype.name == "float64" and batch.shape == (len(bs),)
    assert batch.tolist() == [similarity(algo, a, b, direction=direction) for b in bs]


def test_batch_accepts_any_sequence_and_empty():
    assert similarities("wng", "abc", []).shape == (0,)
    assert similarities("editex", "abc", ("abd", "abc")).tolist() == [
        similarity("editex", "abc", "abd"),
        1.0,
    ]


def test_unknown_algorithm_lists_valid_names():
    with pytest.raises(ValueError) as e:
        similarity("soundex", "a", "b")
    for name in SIMILARITY_ALGOS:
        assert name in str(e.value)
    with pytest.raises(ValueError):
        similarities("soundex", "a", ["b"])


# --- CER / WER against jiwer (aligned text = reference) ---------------------------------

WORDS = st.lists(st.text(alphabet="abcde'", min_size=1, max_size=6), max_size=10).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(transcript=WORDS, aligned=WORDS.filter(bool))
def test_cer_wer_match_jiwer(transcript, aligned):
    assert cer(transcript, aligned) == pytest.approx(jiwer.cer(reference=aligned, hypothesis=transcript), abs=1e-12)
    assert wer(transcript, aligned) == pytest.approx(jiwer.wer(reference=aligned, hypothesis=transcript), abs=1e-12)


def test_cer_wer_known_values_and_empty_cases():
    assert cer("helo wrld", "hello world") == pytest.approx(2 / 11)
    assert wer("the cat sat", "the cat sat down") == pytest.approx(1 / 4)
    assert cer("", "") == 0.0 and wer("", "") == 0.0
    assert cer("abc", "") == 3.0  # denominator 1 when nothing was aligned
    assert wer("a b", " ") == 2.0  # a whitespace-only match has no word: no division by zero
    assert wer("a b c d", "x") == 4.0  # rates may exceed 1
