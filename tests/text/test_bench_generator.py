"""Invariants of the benchmark generator bench/make_text_bench.py on small cases."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from rapidfuzz.distance import Levenshtein

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    not Path("/usr/share/common-licenses/GPL-3").exists(), reason="needs Debian's /usr/share/common-licenses"
)


def _load():
    spec = importlib.util.spec_from_file_location("make_text_bench", ROOT / "bench" / "make_text_bench.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


gen = _load()


def norm(s: str) -> str:
    """Independent of the generator: lower case, dashes/whitespace -> space, a-z and ' only,
    apostrophes at word edges dropped (quote marks)."""
    s = re.sub(r"[\s\-]+", " ", s.lower().replace("`", "'"))
    s = re.sub(r"[^a-z' ]", "", s)
    return " ".join(w.strip("'") for w in s.split() if w.strip("'"))


@pytest.fixture(scope="module")
def case():
    return gen.make_case(seed=7, target_chars=12_000, junk_fraction=0.1)


def test_truth_offsets_point_at_the_words(case):
    true = [t for t in case.truth if not t["junk"]]
    assert len(true) > 50
    for t in true:
        s, e = t["orig_start"], t["orig_end"]
        assert norm(case.book[s:e]) == t["words"]
        assert case.book[s].isalpha() and case.book[e - 1].isalpha()
        assert 4 <= len(t["words"].split()) <= 20 or t["words"] == norm(case.book[s:e])


def test_fragments_in_order_and_cover_every_read_word(case):
    true = [t for t in case.truth if not t["junk"]]
    for prev, nxt in zip(true, true[1:]):
        assert prev["orig_end"] <= nxt["orig_start"]
    # Every word outside the inserted (unread) text is read exactly once, in order.
    body = []
    pos = 0
    for s, e, _ in sorted(case.inserted):
        body.append(case.book[pos:s])
        pos = e
    body.append(case.book[pos:])
    assert " ".join(t["words"] for t in true) == norm(" ".join(body))
    for a, b in zip(case.tlog, case.tlog[1:]):
        assert a["start"] < a["end"] <= b["start"] < b["end"]


def test_fragment_lengths(case):
    lengths = [len(t["words"].split()) for t in case.truth]
    assert min(lengths) >= 1 and max(lengths) <= 20
    assert sum(4 <= n <= 20 for n in lengths) / len(lengths) > 0.97
    assert len(set(lengths)) > 10  # random lengths


def test_junk_fraction_and_junk_is_no_phrase_of_the_book(case):
    n = len(case.truth)
    junk = [t for t in case.truth if t["junk"]]
    assert abs(len(junk) / n - 0.1) <= 1 / n
    book_words = norm(case.book).split()
    bigrams = set(zip(book_words, book_words[1:]))
    for t in junk:
        assert t["orig_start"] is None and t["orig_end"] is None
        ws = t["words"].split()
        assert not any(bg in bigrams for bg in zip(ws, ws[1:]))
    # junk is spread through the sequence, not bunched at one end
    idx = [i for i, t in enumerate(case.truth) if t["junk"]]
    assert idx[0] < n // 2 < idx[-1]


def test_headers_page_numbers_and_toc_are_in_the_book_but_never_read(case):
    kinds = [k for _, _, k in case.inserted]
    assert kinds.count("toc") == 1 and kinds.count("header") >= 3 and kinds.count("page-number") >= 3
    toc = next((s, e) for s, e, k in case.inserted if k == "toc")
    assert "CONTENTS" in case.book[toc[0] : toc[1]] and "....." in case.book[toc[0] : toc[1]]
    for s, e, k in case.inserted:
        assert case.book[s:e].strip()
        if k == "header":
            assert "GNU GENERAL PUBLIC LICENSE" in case.book[s:e]
        if k == "page-number":
            assert re.search(r"- \d+ -", case.book[s:e])
    for t in case.truth:
        if t["junk"]:
            continue
        for s, e, _ in case.inserted:
            assert t["orig_end"] <= s or e <= t["orig_start"]


def test_transcripts_look_like_stt_output(case):
    words = " ".join(t["words"] for t in case.truth)
    trans = " ".join(x["transcript"] for x in case.tlog)
    assert re.fullmatch(r"[a-z' ]+", trans)
    rate = Levenshtein.distance(trans, words) / len(words)
    assert 0.02 < rate < 0.1  # 5 % character noise plus split/merged words
    clean = gen.make_case(seed=7, target_chars=12_000, noise=0.0, junk_fraction=0.1, split_rate=0, merge_rate=0)
    assert [x["transcript"] for x in clean.tlog] == [t["words"] for t in clean.truth]


def test_deterministic_for_a_seed(case, tmp_path):
    again = gen.make_case(seed=7, target_chars=12_000, junk_fraction=0.1)
    assert (again.book, again.tlog, again.truth) == (case.book, case.tlog, case.truth)
    other = gen.make_case(seed=8, target_chars=12_000, junk_fraction=0.1)
    assert other.tlog != case.tlog
    gen.write_case(case, tmp_path / "a")
    gen.write_case(again, tmp_path / "b")
    for name in ("book.txt", "book.tlog", "truth.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_size_follows_target():
    small = gen.make_case(seed=1, target_chars=5_000)
    big = gen.make_case(seed=1, target_chars=20_000)
    body = lambda c: len(c.book) - sum(e - s for s, e, _ in c.inserted)  # noqa: E731
    assert 4_000 < body(small) <= 5_000 and 18_000 < body(big) <= 20_000
    assert len(big.tlog) > 3 * len(small.tlog)


def test_unrelated_case_is_all_junk_and_never_verbatim():
    c = gen.make_case(seed=3, target_chars=12_000, unrelated=True)
    assert c.truth and all(t["junk"] and t["orig_start"] is None for t in c.truth)
    book = norm(c.book)
    assert not any(f" {t['words']} " in f" {book} " for t in c.truth)
    assert "perldiag" in c.book  # a document on another subject
    assert all(0 <= t["verbatim_run"] < len(t["words"].split()) for t in c.truth)


def test_near_copies_case_reads_other_licenses():
    c = gen.make_case(seed=3, target_chars=12_000, near_copies=True)
    assert c.truth and all(t["junk"] for t in c.truth)
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in c.book


def test_cli_writes_the_three_files(tmp_path):
    gen.main(["--out", str(tmp_path), "--chars", "6000", "--seed", "2"])
    import json

    tlog = json.loads((tmp_path / "book.tlog").read_text())
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert len(tlog) == len(truth) > 0
    assert set(tlog[0]) == {"start", "end", "transcript"}
    assert set(truth[0]) == {"junk", "orig_start", "orig_end", "words"}
    assert (tmp_path / "book.txt").read_text().startswith("CONTENTS")


# --- messy cases (issue 9): the natural reader and the legacy one -----------------------------

def _junctions(case):
    """(left truth, right truth, pause ms) of consecutive real fragments (no junk between)."""
    out = []
    for k in range(len(case.truth) - 1):
        a, b = case.truth[k], case.truth[k + 1]
        if not a["junk"] and not b["junk"]:
            out.append((a, b, case.tlog[k + 1]["start"] - case.tlog[k]["end"]))
    return out


def _at_punctuation(case, a, b):
    return re.search(r"[.,;:!?]|\n\s*\n", case.book[a["orig_end"]:b["orig_start"]]) is not None


def test_natural_reader_cuts_where_readers_pause():
    natural = gen.make_messy_case("licenses", 5, target_chars=15_000, hesitation=0.0)
    legacy = gen.make_messy_case("licenses", 5, target_chars=15_000, reader="legacy")
    for case, name in ((natural, "natural"), (legacy, "legacy")):
        free = [(a, b) for a, b, _ in _junctions(case) if not _at_punctuation(case, a, b)]
        after_leaning = [a for a, b in free if a["words"].split()[-1] in gen.PROCLITIC]
        assert len(free) >= 20, name
        if name == "natural":
            # without hesitations no cut falls right after a word that leans on the next one
            assert after_leaning == []
        else:
            assert len(after_leaning) >= 0.2 * len(free)


def test_natural_reader_timing():
    case = gen.make_messy_case("licenses", 6, target_chars=15_000)
    junctions = _junctions(case)
    sent = [p for a, b, p in junctions if re.search(r"[.!?]|\n\s*\n", case.book[a["orig_end"]:b["orig_start"]])]
    plain = [p for a, b, p in junctions if not _at_punctuation(case, a, b)]
    assert min(sent) >= 400 and max(plain) <= 600 and len(sent) >= 10 and len(plain) >= 10
    # durations follow one speaking rate (ms per character of the true words, lost words
    # included), log-normal spread plus short inner pauses
    rates = sorted((case.tlog[k]["end"] - case.tlog[k]["start"]) / len(t["words"])
                   for k, t in enumerate(case.truth) if not t["junk"])
    med = rates[len(rates) // 2]
    assert 45 <= med <= 85
    assert rates[len(rates) // 10] > 0.75 * med and rates[-len(rates) // 10] < 1.4 * med
    # deterministic, and the legacy reader is still reachable (fixed 60 ms per character +-15%)
    assert gen.make_messy_case("licenses", 6, target_chars=15_000).tlog == case.tlog
    old = gen.make_messy_case("licenses", 6, target_chars=15_000, reader="legacy")
    assert all(0.84 * 60 <= (f["end"] - f["start"]) / len(t["words"]) <= 1.16 * 60
               for f, t in zip(old.tlog, old.truth))
