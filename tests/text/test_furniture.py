"""Page furniture: found at planted places, chapter headings and tables left alone."""

import random

from align.text.alphabet import Alphabet
from align.text.furniture import find_furniture
from align.text.normalise import Phrase, TextParams, normalise

EN = Alphabet.from_labels(" abcdefghijklmnopqrstuvwxyz'")
WORDS = ("the licence grants you the freedom to share and change all versions of a program to make sure "
         "it remains free software for all its users we use this licence for most of our software").split()


class _Pages:
    """A text written piece by piece, with the (start, end, kind) of the pieces planted as `kind`."""

    def __init__(self):
        self.parts, self.planted, self.pos = [], [], 0

    def emit(self, s: str, kind: str | None = None) -> None:
        self.parts.append(s)
        if kind:
            self.planted.append((self.pos, self.pos + len(s), kind))
        self.pos += len(s)

    def result(self):
        return "".join(self.parts), self.planted


def book(style: str, seed: int = 0, pages: int = 8):
    """Pages of wrapped prose (lines end mid-sentence) with furniture of `style`; returns the
    text and the planted furniture ranges."""
    rng = random.Random(seed)
    out = _Pages()
    emit = out.emit

    for p in range(1, pages + 1):
        if style == "head":
            emit(f"A TREATISE ON LICENCES{p:>40}\n", "header")
        elif style == "alternating":
            emit(f"{p:<6}A TREATISE ON LICENCES\n" if p % 2 == 0 else f"A TREATISE ON LICENCES{p:>40}\n", "header")
        for _ in range(rng.randint(30, 36)):
            emit(" ".join(rng.choice(WORDS) for _ in range(10)) + "\n")
        if style in ("dash", "bracket", "bare", "page"):
            foot = {"dash": f"- {p} -", "bracket": f"[{p}]", "bare": f"{p:>30}", "page": f"Page {p}"}[style]
            emit(foot + "\n", "page-number")
    return out.result()


def test_running_heads_and_page_numbers_are_found_exactly():
    for style in ("head", "alternating", "dash", "bracket", "bare", "page"):
        text, planted = book(style, seed=len(style))
        found = [(r.start, r.end, r.kind) for r in find_furniture(text)]
        assert found == planted, style


def test_chapter_headings_after_sentence_ends_are_text():
    rng = random.Random(3)
    parts = []
    for c in range(1, 9):
        parts.append(f"Chapter {c}\n\n")
        for k in range(rng.randint(30, 36)):
            line = " ".join(rng.choice(WORDS) for _ in range(10)) + "\n"
            parts.append(line.capitalize() if k == 0 else line)  # a chapter starts a sentence
        parts[-1] = parts[-1].rstrip("\n") + ".\n\n"
    assert find_furniture("".join(parts)) == []


def test_lone_numbers_in_a_table_are_text():
    text = "the results were\n17\n3\n12\nand then we stopped\n" * 2
    assert [r for r in find_furniture(text) if r.kind == "page-number"] == []


def test_footnote_marks_and_hyphenation():
    text = "the free\u00b9 software[2] is circum-\n   vention and Randers-\nPehrson. name[5] is read.\n\n[2] A note."
    kinds = [(text[r.start:r.end], r.kind) for r in find_furniture(text)]
    # "[2]" has its note (a line starting with "[2]"); "name[5]" has none: an index, read
    assert kinds == [("\u00b9", "footnote-mark"), ("[2]", "footnote-mark"), ("-\n   ", "hyphen")]
    ct = normalise(text, [Phrase(0, len(text))], EN)
    assert ct.clean == "the free software is circumvention and randers pehrson name five is read two a note"
    # the joined word maps back over the line break
    k = ct.clean.index("circumvention")
    s, e = ct.original_span(k, k + len("circumvention"))
    assert text[s:e] == "circum-\n   vention"
    # typeset hyphens (U+2010), soft hyphens at a line end (before any letter), and upper-case
    # text broken between capitals; a soft hyphen inside a line is dropped
    other = "the circum\u2010\n  vention and ex\u00ad\nPress and APPLI\u2010\nCABLE LAW, NON\u2010\nFree, in\u00adter"
    ct = normalise(other, [Phrase(0, len(other))], EN)
    assert ct.clean == "the circumvention and express and applicable law non free inter"


def test_furniture_can_be_kept():
    from align.text.furniture import FurnitureParams

    text, planted = book("dash", seed=1)
    on = normalise(text, [Phrase(0, len(text))], EN)
    off = normalise(text, [Phrase(0, len(text))], EN, TextParams(furniture=FurnitureParams(enabled=False)))
    assert "one" not in on.clean.split() and off.clean.count(" one ") >= 1
    assert len(on.removed) == len(planted) and off.removed == []


def notes_book(seed: int, mark_style: str, short_head: bool = False):
    """Pages whose last line ends inside a hyphenated word; footnote marks in the text, the notes'
    text at the page foot, then a page number and (next page) a running head. Returns the text
    and the planted unread ranges."""
    rng = random.Random(seed)
    out = _Pages()
    emit = out.emit

    pages = 3 if short_head else 6
    cont = ""
    for p in range(1, pages + 1):
        if p > 1 or short_head:
            emit("A SHORT LICENCE\n" if short_head else f"A TREATISE ON LICENCES{p:>40}\n", "header")
        marks = []
        for k in range(rng.randint(28, 34)):
            words = [rng.choice(WORDS) for _ in range(10)]
            if k == 5 or k == 17:
                n = len(marks) + 1
                mark = {"sup": "\u00b9\u00b2"[n - 1], "bracket": f"[{n}]", "star": "*" * n}[mark_style]
                emit(cont + " ".join(words[:4]) + " " + words[4])
                emit(mark, "footnote-mark")
                emit(" " + " ".join(words[5:]) + "\n")
                marks.append(mark)
            else:
                emit(cont + " ".join(words) + "\n")
            cont = ""
        # the page's last line ends in a hyphenated word that the next page ends
        emit(" ".join(rng.choice(WORDS) for _ in range(6)) + " distri")
        emit("-\n", "hyphen")
        for mk in marks:
            emit(f"{mk} A note that nobody reads: " + " ".join(rng.choice(WORDS) for _ in range(5)) + ".\n", "footnote")
        emit(f"- {p} -\n", "page-number")
        cont = "bution of copies "
    emit(cont + "to all.\n")
    return out.result()


def test_footnote_text_and_hyphens_across_pages_are_unread():
    for k, style in enumerate(("sup", "bracket", "star")):
        text, planted = notes_book(k, style)
        found = [(r.start, r.end, r.kind) for r in find_furniture(text)]
        # the planted marks, notes, page numbers, heads and hyphens ("*" marks are no letters: the
        # normalisation drops them, furniture detection leaves them)
        assert sorted(found) == sorted(x for x in planted if style != "star" or x[2] != "footnote-mark"), style
        ct = normalise(text, [Phrase(0, len(text))], EN)
        assert "note that nobody" not in ct.clean and "distri bution" not in ct.clean
        assert ct.clean.count("distribution of copies") == 6
        # the joined word maps back over the page break
        k2 = ct.clean.index("distribution")
        s, e = ct.original_span(k2, k2 + len("distribution"))
        assert text[s:s + 6] == "distri" and text[e - 6:e] == "bution" and "- 1 -" in text[s:e]


def test_a_short_documents_running_head_next_to_page_numbers():
    text, planted = notes_book(5, "sup", short_head=True)
    found = [(r.start, r.end, r.kind) for r in find_furniture(text)]
    assert sorted(found) == sorted(planted)


def test_lines_starting_with_marks_that_the_page_never_used_are_text():
    # a bulleted list right above a page number: no "*" mark in the text, so it stays
    text, planted = book("dash", seed=2)
    first = text.index("- 1 -")
    text = text[:first] + "* first item of the list\n* second item of the list\n" + text[first:]
    found = find_furniture(text)
    assert not any(r.kind == "footnote" for r in found)
    assert "first item of the list" in normalise(text, [Phrase(0, len(text))], EN).clean


def _groff(src: str, *args: str) -> str:
    import subprocess

    return subprocess.run(["groff", "-man", "-Tutf8", *args, "-P-cbou"], input=src, capture_output=True,
                          text=True, check=True).stdout


def test_a_groff_paginated_license_reads_as_its_continuous_rendering():
    """Real typesetting as oracle: groff lays GPL-3 out in pages (running head "GPL(7) Licenses
    GPL(7)" and a footer with the page number, often mid-sentence; words hyphenated at line ends
    with U+2010, some in upper-case paragraphs: "APPLI-/CABLE") and, with -rcR=1 -rHY=0, as one
    continuous page without hyphenation. After furniture removal both must say the same words,
    but for the continuous rendering's single head and foot, page 1's lone number and real
    compounds broken at their own hyphen ("non-/permissive")."""
    import difflib
    import shutil
    from pathlib import Path

    import pytest

    gpl = Path("/usr/share/common-licenses/GPL-3")
    if shutil.which("groff") is None or not gpl.exists():
        pytest.skip("needs groff (groff-base) and base-files' GPL-3")
    paras = [p.strip().replace("\n", " ") for p in gpl.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    body = [p.replace("\\", "\\\\") for p in paras]                 # troff escapes, then control lines
    body = ["\\&" + p if p[:1] in ".'" else p for p in body]
    src = ".TH GPL 7 2007-06-29 FSF Licenses\n.SH TEXT\n" + "\n.PP\n".join(body) + "\n"
    paged, cont = _groff(src, "-rcR=0"), _groff(src, "-rcR=1", "-rHY=0")
    assert paged.count("GPL(7)") >= 20 and paged.count("\u2010\n") >= 50     # pages, and U+2010 breaks
    al = Alphabet.from_labels(" abcdefghijklmnopqrstuvwxyz'")
    a = normalise(paged, [Phrase(0, len(paged))], al, TextParams()).clean.split()
    b = normalise(cont, [Phrase(0, len(cont))], al, TextParams()).clean.split()
    ops = [o for o in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes() if o[0] != "equal"]
    differ = sum(max(i2 - i1, j2 - j1) for _, i1, i2, j1, j2 in ops)
    assert differ <= 0.005 * len(b), [(a[i1:i2], b[j1:j2]) for _, i1, i2, j1, j2 in ops]
    assert "licenses gpl" not in " ".join(a)


def test_utterance_ids_of_prompt_lists_are_unread():
    from align.text.furniture import prompt_ids

    kaldi = "spk1_0001 Go forward 10 meters.\nspk1_0002 Front Left.\nspk1_0003 2 9 3 4 0\nspk1_0004 Rear Right.\n"
    assert [kaldi[r.start:r.end] for r in prompt_ids(kaldi)] == [f"spk1_000{k} " for k in range(1, 5)]
    arctic = "".join(f'( arctic_a000{k} "Author of the danger trail, part {k}." )\n' for k in range(1, 6))
    assert [arctic[r.start:r.end] for r in prompt_ids(arctic)] == [f"arctic_a000{k} " for k in range(1, 6)]
    ct = normalise(arctic, [Phrase(0, len(arctic))], EN)
    assert ct.clean.startswith("author of the danger trail part one author of")
    # a numbered sheet: rising numbers before "." or ")"; numbers that do not rise are text
    sheet = "1. Go forward.\n2. Front Left.\n3) Rear Right.\n4. 10 of clubs.\n"
    assert [sheet[r.start:r.end] for r in prompt_ids(sheet)] == ["1. ", "2. ", "3) ", "4. "]
    assert prompt_ids("3. Go forward.\n1. Front Left.\n4. Rear Right.\n2. Side Left.\n") == []
    # numbers that are read, repeated ids, and too few lines with ids are not prompt ids
    assert prompt_ids("10 of clubs.\n7 of clubs.\n5, 5.\n4, queen of clubs.\n") == []
    assert prompt_ids(kaldi.replace("spk1_0002", "spk1_0001")) == []
    assert prompt_ids("Q3 results were good.\nThe rest\nof the year\nwas not.\nAt all.\n") == []
