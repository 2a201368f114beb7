"""Synthetic text-alignment benchmark: a "book" and the transcript log of someone reading it.

    python3 bench/make_text_bench.py --out DIR --chars 100000 --seed 1 [--unrelated]

writes DIR/book.txt, DIR/book.tlog (JSON list of {start, end, transcript}, ms) and
DIR/truth.json (one entry per tlog fragment, in order: {junk, orig_start, orig_end, words}).

The book is Debian's license texts (/usr/share/common-licenses) in a fixed order, with their
casing, punctuation and line breaks, paginated: every page ends with a page number and starts
with a running-title header, and a table of contents (titles, dotted leaders, page numbers)
comes first. None of that inserted text is read. The reader's words are cut into fragments of
4-20 words that never cross a page break, normalised like STT output (lower case, a-z and
apostrophe, dashes to spaces, punctuation dropped) and damaged like STT output (character
substitutions and deletions, split and merged words). Junk fragments (transcripts of audio
with no text: random words from a license vocabulary that never form a phrase of the book)
are mixed in. Truth offsets [orig_start, orig_end) run from the first letter of a fragment's
first word to just after the last letter of its last word in book.txt.

--unrelated: the tlog reads one set of documents and book.txt holds another; every fragment is
junk. Fragments whose words happen to occur verbatim in the other book are left out, so that
accepting none is the right answer; each truth entry then also has "verbatim_run", the longest
run of its words found verbatim in the book (license texts share many phrases).

Deterministic for a given seed (random.Random(seed) only; no set or hash order is used).
"""

from __future__ import annotations

import argparse
import glob
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from align.common.fileio import atomic_write_json, atomic_write_text  # noqa: E402

LICENSES = Path("/usr/share/common-licenses")
# The book: GPL-3 first, then others (the first six make ~99,300 characters); cycled if a
# larger book is asked for.
MAIN_DOCS = ("GPL-3", "MPL-2.0", "Apache-2.0", "GFDL-1.3", "CC0-1.0", "Artistic", "BSD", "MPL-1.1", "GPL-1")
# The book of --unrelated: a document the tlog never reads, on another subject (Perl's
# diagnostics manual, Debian package perl-modules-5.xx: about 300,000 characters of prose).
UNRELATED_DOCS = ("/usr/share/perl/5.*/pod/perldiag.pod",)
# The book of --near-copies: other licenses of the same families, which repeat long passages of
# the read ones (GPL-2/LGPL-2.1 vs GPL-3, MPL-1.1 vs MPL-2.0): there, matching is correct.
NEAR_COPY_DOCS = ("LGPL-2.1", "GPL-2", "MPL-1.1", "GPL-1")

MIN_WORDS, MAX_WORDS = 4, 20  # words per fragment
PAGE_LINES = (40, 56)  # body lines per page (drawn per page)
MS_PER_CHAR = 60
PAUSE_MS = (150, 1200)
LETTERS = "abcdefghijklmnopqrstuvwxyz"
APOSTROPHES = "'`\u2019\u2018"
TOKEN_RE = re.compile(r"[^\s\-\u2010-\u2015\u2212]+")  # split on whitespace and dashes
HEADING_RE = re.compile(r"^\s*\d{1,2}(?:\.\d+)?\.\s+([A-Z][A-Za-z ,'()/-]{2,60}?)\.?\s*$")
TOC_WIDTH = 72


@dataclass(frozen=True)
class Word:
    text: str  # clean: lower case a-z and inner apostrophes
    start: int  # book offset of its first letter
    end: int  # book offset just after its last letter


@dataclass
class Book:
    text: str
    words: list[Word]  # the words a reader speaks, in order
    page_breaks: list[int]  # word indexes where a new page starts (a fragment never spans one)
    inserted: list[tuple[int, int, str]]  # (start, end, kind) of text nobody reads


@dataclass
class Case:
    book: str
    tlog: list[dict[str, Any]]  # {start, end, transcript}
    truth: list[dict[str, Any]]  # {junk, orig_start, orig_end, words}
    inserted: list[tuple[int, int, str]]  # unread spans of book: toc, header, page-number
    stats: dict[str, Any] = field(default_factory=dict)


def clean_word(token: str) -> tuple[str, int, int] | None:
    """(clean word, first letter index, last letter index + 1) of a token, or None if it has
    no letter. Punctuation is dropped, apostrophes kept only inside the word."""
    letters = [i for i, c in enumerate(token) if c.isascii() and c.isalpha()]
    if not letters:
        return None
    first, last = letters[0], letters[-1]
    kept = []
    for c in token[first : last + 1]:
        if c.isascii() and c.isalpha():
            kept.append(c.lower())
        elif c in APOSTROPHES:
            kept.append("'")
    return "".join(kept), first, last + 1


def words_of(text: str, base: int = 0) -> list[Word]:
    out = []
    for m in TOKEN_RE.finditer(text):
        cw = clean_word(m.group())
        if cw is not None:
            out.append(Word(cw[0], base + m.start() + cw[1], base + m.start() + cw[2]))
    return out


def _read_doc(name: str) -> str:
    if name.startswith("/"):
        found = sorted(glob.glob(name))
        if not found:
            raise SystemExit(f"make_text_bench: {name} not found (install Debian package perl)")
        path = Path(found[-1])
    else:
        path = LICENSES / name
    return path.read_text(encoding="utf-8").replace("\f", "\n")


def _title(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return " ".join(line.replace('"', "").split())
    return "Untitled"


def select_docs(names: tuple[str, ...], target_chars: int) -> list[tuple[str, str]]:
    """(title, text) of whole documents in order, cycling, the last one cut at a line end so
    that the total is about target_chars."""
    out: list[tuple[str, str]] = []
    total = 0
    i = 0
    while total < target_chars:
        text = _read_doc(names[i % len(names)])
        if not text.endswith("\n"):
            text += "\n"
        room = target_chars - total
        if len(text) > room:
            lines = text.splitlines(keepends=True)
            kept = []
            n = 0
            for line in lines:
                if n + len(line) > room:
                    break
                kept.append(line)
                n += len(line)
            if kept:
                out.append((_title(text), "".join(kept)))
            break
        out.append((_title(text), text))
        total += len(text)
        i += 1
    return out


class _BookText:
    """A book's text as it is written out, with the spans of what nobody reads (kind != None)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.inserted: list[tuple[int, int, str]] = []
        self.pos = 0

    def emit(self, s: str, kind: str | None) -> None:
        self.parts.append(s)
        if kind is not None:
            self.inserted.append((self.pos, self.pos + len(s), kind))
        self.pos += len(s)

    def text(self) -> str:
        return "".join(self.parts)


def _body_lines(docs: list[tuple[str, str]], prepare=lambda text: text) -> list[tuple[int, str]]:
    """Body lines with their document index; documents separated by two blank lines."""
    lines: list[tuple[int, str]] = []
    for di, (_, text) in enumerate(docs):
        if di:
            lines += [(di, "\n"), (di, "\n")]
        lines += [(di, ln) for ln in prepare(text).splitlines(keepends=True)]
    return lines


def build_book(docs: list[tuple[str, str]], rng: Random) -> Book:
    """Paginate the documents, add headers, page numbers and a table of contents."""
    lines = _body_lines(docs)
    # Pages: lists of body line indexes.
    pages: list[tuple[int, int]] = []
    i = 0
    while i < len(lines):
        n = rng.randint(*PAGE_LINES)
        pages.append((i, min(i + n, len(lines))))
        i += n
    # Table of contents: document titles and numbered section headings, with their pages.
    toc: list[tuple[int, str, int]] = []  # (indent, title, page)
    seen_doc = set()
    for p, (a, b) in enumerate(pages, start=1):
        for li in range(a, b):
            di, ln = lines[li]
            if di not in seen_doc:
                seen_doc.add(di)
                toc.append((0, docs[di][0], p))
            m = HEADING_RE.match(ln)
            if m and len(m.group(1).split()) <= 7:
                toc.append((4, m.group(1).strip(), p))

    out = _BookText()
    emit = out.emit

    toc_lines = ["CONTENTS\n", "\n"]
    for indent, title, page in toc:
        head = " " * indent + title + " "
        num = f" {page}"
        toc_lines.append(head + "." * max(3, TOC_WIDTH - len(head) - len(num)) + num + "\n")
    emit("".join(toc_lines) + "\n\n", "toc")

    words: list[Word] = []
    page_breaks: list[int] = []
    for p, (a, b) in enumerate(pages, start=1):
        running = docs[lines[a][0]][0].upper()
        emit(f"{running}{p:>{max(1, TOC_WIDTH - len(running))}}\n\n", "header")
        if words:
            page_breaks.append(len(words))
        body = "".join(ln for _, ln in lines[a:b])
        words += words_of(body, out.pos)
        emit(body, None)
        emit("\n" + f"- {p} -".center(TOC_WIDTH).rstrip() + "\n\n", "page-number")
    return Book(out.text(), words, page_breaks, out.inserted)


def cut_fragments(n_words: int, breaks: list[int], rng: Random) -> list[tuple[int, int]]:
    """[first, last) word ranges of 4-20 words, never across a break (a page may force a
    shorter fragment only when it holds fewer than 4 words in all)."""
    stops = sorted(set(b for b in breaks if 0 < b < n_words)) + [n_words]
    out = []
    w = 0
    for stop in stops:
        while w < stop:
            length = rng.randint(MIN_WORDS, MAX_WORDS)
            left = stop - w
            if left <= MAX_WORDS and (length >= left or left - length < MIN_WORDS):
                length = left
            elif left - length < MIN_WORDS:
                length = left - MIN_WORDS
            out.append((w, w + length))
            w += length
    return out


def stt_noise(words: list[str], rng: Random, noise: float, split_rate: float, merge_rate: float) -> str:
    """What a speech recogniser might make of the words: split and merged words, then
    character substitutions and deletions (each half of `noise`, per character)."""
    toks: list[str] = []
    for w in words:
        if len(w) >= 6 and rng.random() < split_rate:
            k = rng.randint(2, len(w) - 2)
            toks += [w[:k], w[k:]]
        else:
            toks.append(w)
    merged = [toks[0]]
    for t in toks[1:]:
        if rng.random() < merge_rate:
            merged[-1] += t
        else:
            merged.append(t)
    out = []
    for tok in merged:
        chars = []
        for c in tok:
            r = rng.random()
            if r < noise / 2:
                continue
            if r < noise:
                chars.append(rng.choice(LETTERS.replace(c, "")))
            else:
                chars.append(c)
        if chars:
            out.append("".join(chars))
    return " ".join(out) if out else merged[0]


def _bigrams(words: list[str]) -> set[tuple[str, str]]:
    return set(zip(words, words[1:]))


def _junk_words(rng: Random, vocab: list[str], taboo: set[tuple[str, str]]) -> list[str]:
    """4-20 random vocabulary words in which no two neighbours occur together in the texts."""
    n = rng.randint(MIN_WORDS, MAX_WORDS)
    out = [rng.choice(vocab)]
    while len(out) < n:
        w = rng.choice(vocab)
        if (out[-1], w) not in taboo and w != out[-1]:
            out.append(w)
    return out


def _find(haystack: list[str], needle: list[str], index: dict[str, list[int]]) -> int:
    """Index of the first occurrence of the word sequence `needle` in `haystack`, or -1."""
    for i in index.get(needle[0], ()):
        if haystack[i : i + len(needle)] == needle:
            return i
    return -1


def _longest_run(words: list[str], grams: dict[int, set[tuple[str, ...]]]) -> int:
    best = 0
    for n in range(1, len(words) + 1):
        if not any(tuple(words[i : i + n]) in grams[n] for i in range(len(words) - n + 1)):
            break
        best = n
    return best


def make_case(
    seed: int,
    target_chars: int,
    noise: float = 0.05,
    junk_fraction: float = 0.05,
    unrelated: bool = False,
    skip_fraction: float = 0.0,
    near_copies: bool = False,
    split_rate: float = 0.02,
    merge_rate: float = 0.02,
    keep_verbatim: bool = False,
) -> Case:
    """Build one benchmark case (see the module docstring). skip_fraction: share of the read
    fragments left out of the tlog (audio never transcribed); split_rate / merge_rate: per
    word chance of being split in two / merged with the previous word.

    keep_verbatim (with unrelated / near_copies): fragments whose words all occur, in order, in
    the book are kept instead of left out: they are true readings of the book (junk False, truth
    span at the first occurrence, "verbatim" True); every other fragment has "verbatim" False."""
    if not 0 <= junk_fraction < 1 or not 0 <= skip_fraction < 1 or not 0 <= noise <= 1:
        raise ValueError("noise must be in [0, 1]; junk_fraction and skip_fraction in [0, 1)")
    rng = Random(seed)
    read_docs = select_docs(MAIN_DOCS, target_chars)
    read_book = build_book(read_docs, rng)
    if near_copies:
        unrelated = True
    docs = NEAR_COPY_DOCS if near_copies else UNRELATED_DOCS
    book = build_book(select_docs(docs, target_chars), rng) if unrelated else read_book

    spoken = [w.text for w in read_book.words]
    book_word_spans = words_of(book.text)
    book_words = [w.text for w in book_word_spans]
    taboo = _bigrams(spoken) | _bigrams(book_words)
    index: dict[str, list[int]] = {}
    for i, w in enumerate(book_words):
        index.setdefault(w, []).append(i)

    frags: list[dict[str, Any]] = []  # {"junk", "words", "span"}
    dropped_verbatim = skipped = 0
    for a, b in cut_fragments(len(spoken), read_book.page_breaks, rng):
        if skip_fraction and rng.random() < skip_fraction:
            skipped += 1
            continue
        ws = spoken[a:b]
        if unrelated:
            at = _find(book_words, ws, index)
            if at >= 0 and keep_verbatim:
                frags.append({"junk": False, "words": ws, "verbatim": True,
                              "span": (book_word_spans[at].start, book_word_spans[at + len(ws) - 1].end)})
                continue
            if at >= 0:
                dropped_verbatim += 1
                continue
            frags.append({"junk": True, "words": ws, "span": None, **({"verbatim": False} if keep_verbatim else {})})
        else:
            frags.append({"junk": False, "words": ws, "span": (read_book.words[a].start, read_book.words[b - 1].end)})

    # Junk: vocabulary = sorted distinct words of every license text, so junk shares words
    # (not phrases) with the book.
    vocab = sorted({w.text for name in sorted(p.name for p in LICENSES.iterdir()) for w in words_of(_read_doc(name))})
    n_junk = round(junk_fraction * len(frags) / (1 - junk_fraction))
    slots = sorted(rng.randint(0, len(frags)) for _ in range(n_junk))
    for k, slot in enumerate(slots):
        frags.insert(slot + k, {"junk": True, "words": _junk_words(rng, vocab, taboo), "span": None})

    if unrelated:
        # Near-verbatim fragments stay (they are no true reading); record, per fragment, its
        # longest run of words that occurs verbatim in the book, to explain any acceptance.
        grams = {n: set(zip(*(book_words[i:] for i in range(n)))) for n in range(1, MAX_WORDS + 1)}
        for f in frags:
            f["run"] = _longest_run(f["words"], grams)

    tlog: list[dict[str, Any]] = []
    truth: list[dict[str, Any]] = []
    t = rng.randint(*PAUSE_MS)
    for f in frags:
        transcript = stt_noise(f["words"], rng, noise, split_rate, merge_rate)
        dur = max(1, round(MS_PER_CHAR * len(transcript) * rng.uniform(0.85, 1.15)))
        tlog.append({"start": t, "end": t + dur, "transcript": transcript})
        t += dur + rng.randint(*PAUSE_MS)
        span = f["span"]
        entry = {
            "junk": f["junk"],
            "orig_start": None if span is None else span[0],
            "orig_end": None if span is None else span[1],
            "words": " ".join(f["words"]),
        }
        if "run" in f:
            entry["verbatim_run"] = f["run"]
        if "verbatim" in f:
            entry["verbatim"] = f["verbatim"]
        truth.append(entry)
    stats = {
        "seed": seed,
        "book_chars": len(book.text),
        "read_docs": [title for title, _ in read_docs],
        "fragments": len(tlog),
        "junk": sum(1 for x in truth if x["junk"]),
        "skipped": skipped,
        "dropped_verbatim": dropped_verbatim,
        "pages": len(read_book.page_breaks) + 1,
        # --unrelated: fragments with >= 70 % of their words in one verbatim run of the book.
        "near_verbatim": sum(1 for f in frags if f.get("run", 0) >= 0.7 * len(f["words"])),
        "audio_hours": round(t / 3.6e6, 2),
    }
    return Case(book.text, tlog, truth, book.inserted, stats)


# --------------------------------------------------------------------------------------------
# Messy cases (issue 9): closer to real books and real recordings than make_case.
#
# Three kinds of text, each from Debian packages:
#   licenses: /usr/share/common-licenses (as make_case);
#   tech:     technical manuals full of identifiers, numbers and symbols (libpng's and S-Lang's
#             manuals from /usr/share/doc);
#   prose:    narrative English prose, the King James Genesis (package bible-kjv), verse numbers
#             removed and verses run together into paragraphs.
# On top of make_case's noise: the page furniture (running heads with the page number, page
# numbers alone on a line in one of several styles) falls INSIDE spoken sentences, fragments run
# across page breaks, footnote marks sit after words, words are hyphenated at line ends, the
# reader says numbers, symbols and abbreviations aloud (with its own choices, e.g. "e.g." as
# "for example" or "e g"), and the speech-to-text loses short edge words, confuses
# similar-sounding words and inserts filler words.
# --------------------------------------------------------------------------------------------

KINDS = {
    "licenses": ("GPL-3", "MPL-2.0", "Apache-2.0", "GFDL-1.3", "CC0-1.0", "Artistic", "BSD", "MPL-1.1", "GPL-1"),
    "tech": ("gz:/usr/share/doc/libpng16-16/libpng-manual.txt.gz", "gz:/usr/share/doc/libslang2/slang.txt.gz"),
    "prose": ("kjv:Ge1:1-50:26", "kjv:Ex1:1-40:38"),
}
FURNITURE_STYLES = ("head-right", "dash-number", "bracket-number", "bare-number", "page-word", "alternating")
FOOTNOTE_STYLES = ("\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079", "bracket", "star")
FOOTNOTES = (
    "See the discussion of this point in the previous chapter.",
    "This passage is missing from the earliest editions of the text.",
    "The wording follows the revised version published later.",
    "Compare the similar provision in the appendix.",
    "Some readers take this to mean the opposite.",
    "The original has a different word here, of uncertain meaning.",
)
SOFT = "\x00"  # marks a hyphen put at a line end by _hyphenate until the spoken words are known
HOMOPHONES = {
    "their": "there", "there": "their", "to": "too", "two": "to", "for": "four", "four": "for", "than": "then",
    "then": "than", "know": "no", "no": "know", "new": "knew", "here": "hear", "by": "buy", "be": "bee",
    "one": "won", "where": "wear", "which": "witch", "would": "wood", "our": "are", "right": "write",
    "its": "it's", "it's": "its", "whole": "hole", "made": "maid", "see": "sea", "some": "sum", "sun": "son",
}
SHORT_WORDS = frozenset("a an the of to in on and or is it as at by be we he if so".split())
FILLERS = ("uh", "um", "the", "and")
SPOKEN_SYMBOLS = {"&": "and", "%": "percent", "+": "plus", "#": "number", "@": "at", "=": "equals"}
ABBREVIATIONS = {  # the reader picks one form per occurrence
    "e.g.": (("for", "example"), ("e", "g")), "i.e.": (("that", "is"), ("i", "e")),
    "Dr.": (("doctor",),), "Mr.": (("mister",),), "Mrs.": (("missus",),), "St.": (("saint",), ("street",)),
    "etc.": (("et", "cetera"),), "vs.": (("versus",),), "No.": (("number",),),
}
PIECE_RE = re.compile(
    r"(?P<abbr>e\.g\.|i\.e\.|Dr\.|Mr\.|Mrs\.|St\.|etc\.|vs\.|No\.(?=\s*\d))"
    r"|(?P<money>[$\u20ac\u00a3]\d[\d,]*(?:\.\d+)?)"
    r"|(?P<num>\d+(?:[.,:]\d+)*(?:st|nd|rd|th)?%?)"
    r"|(?P<word>[A-Za-z]+(?:(?:['\u2019]|\x00\n)[A-Za-z]+)*)"
    r"|(?P<sym>[&%+#@=])"
)


def _read_messy_doc(name: str) -> str:
    import gzip
    import subprocess

    if name.startswith("gz:"):
        with gzip.open(name[3:], "rt", encoding="utf-8", errors="replace") as f:
            return f.read().replace("\f", "\n")
    if name.startswith("kjv:"):
        try:
            raw = subprocess.run(["bible", name[4:]], capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            raise SystemExit("make_text_bench: the prose kind needs Debian package bible-kjv (apt-get install bible-kjv)")
        import textwrap

        paras: list[str] = []
        cur: list[str] = []
        for line in raw.splitlines():
            m = re.match(r"^\s+\d+ (.*)$", line)
            if m:  # a new verse: a paragraph every few verses, as a printed book would
                if len(cur) >= 4:
                    paras.append(" ".join(cur))
                    cur = []
                cur.append(m.group(1).strip())
            elif line.strip() and cur and not re.match(r"^[A-Z][a-z]+ \d+$", line.strip()):
                cur[-1] += " " + line.strip()
            elif line.strip():  # a chapter heading, e.g. "Genesis 12"
                if cur:
                    paras.append(" ".join(cur))
                    cur = []
                paras.append(line.strip())
        if cur:
            paras.append(" ".join(cur))
        return "\n\n".join(textwrap.fill(p, 72) for p in paras) + "\n"
    return _read_doc(name)


def _num_words(tok: str, rng: Random) -> list[str]:
    """How the reader says a number token (its own choices, with num2words for the words)."""
    from num2words import num2words

    def words(s: str) -> list[str]:
        return re.findall(r"[a-z]+", s.lower())

    pct = tok.endswith("%")
    if pct:
        tok = tok[:-1]
    out: list[str]
    m = re.fullmatch(r"(\d+)(st|nd|rd|th)", tok)
    if m:
        out = words(num2words(int(m.group(1)), to="ordinal"))
    elif re.fullmatch(r"\d{1,2}:\d{2}", tok):
        h, mi = tok.split(":")
        out = words(num2words(int(h))) + (["o'clock"] if mi == "00" else (["oh"] if mi[0] == "0" else []) + words(num2words(int(mi))))
    elif re.fullmatch(r"\d{1,3}(,\d{3})+", tok):
        out = words(num2words(int(tok.replace(",", ""))))
    elif re.fullmatch(r"\d+\.\d+", tok):
        a, b = tok.split(".")
        out = words(num2words(int(a))) + ["point"] + [w for d in b for w in words(num2words(int(d)))]
    elif re.fullmatch(r"\d+", tok):
        n = int(tok)
        if 1100 <= n <= 2099 and len(tok) == 4 and rng.random() < 0.9:
            out = words(num2words(n, to="year"))
        elif len(tok) > 1 and tok[0] == "0":
            out = [w for d in tok for w in words(num2words(int(d)))]
        else:
            out = words(num2words(n))
    else:  # version numbers, dotted or colon lists: each part, "point" between
        out = []
        for k, part in enumerate(re.split(r"[.,:]", tok)):
            if k:
                out.append("point" if "." in tok else "")
            out += words(num2words(int(part))) if part else []
        out = [w for w in out if w]
    if rng.random() < 0.5:  # "one hundred and five" or "one hundred five"
        out = [w for w in out if w != "and"] or out
    return out + (["percent"] if pct else [])


def spoken_words(text: str, base: int, rng: Random, natural: bool = False) -> list[tuple[str, int, int, int]]:
    """(clean word, start, end, token id) the reader says for `text` (at offset base). Words
    from one number/abbreviation share its span and token id: a fragment never splits them."""
    out = []
    tid = 0
    for m in PIECE_RE.finditer(text):
        s, e = base + m.start(), base + m.end()
        tid += 1
        kind = m.lastgroup
        g = m.group()
        if kind == "word":
            out.append((g.lower().replace("\u2019", "'").replace("\x00\n", ""), s, e, tid))
            continue
        if kind == "abbr":
            forms = ABBREVIATIONS[g]
            ws = list(forms[rng.randrange(len(forms))])
            e -= 1 if g.endswith(".") and g != "e.g." and g != "i.e." else 0
        elif kind == "money":
            num = g[1:]
            ws = _num_words(num, rng) + [{"$": "dollars", "\u20ac": "euros", "\u00a3": "pounds"}[g[0]]]
        elif kind == "num":
            ws = _num_words(g, rng)
        else:
            if natural and g == "#" and text[m.end():m.end() + 1].isalpha():
                # "#include": a programmer says "hash include" or just "include", never "number"
                if rng.random() < 0.5:
                    continue
                ws = ["hash"]
            else:
                ws = [SPOKEN_SYMBOLS[g]]
        out += [(w, s, e, tid) for w in ws]
    return out


def _hyphenate(body: str, rng: Random, rate: float) -> str:
    """Break some long words across a line end with a hyphen, as a typesetter would."""
    lines = body.split("\n")
    for i in range(len(lines) - 1):
        nxt = lines[i + 1]
        m = re.match(r"^([a-z]{7,})(?=[\s,.;:]|$)", nxt)
        if m and lines[i].strip() and rng.random() < rate:
            w = m.group(1)
            k = rng.randint(3, len(w) - 3)
            lines[i] = lines[i].rstrip() + " " + w[:k] + SOFT  # a hyphen once the words are known
            lines[i + 1] = w[k:] + nxt[len(w):]
    return "\n".join(lines)


@dataclass
class MessyBook:
    text: str
    words: list[tuple[str, int, int, int]]
    inserted: list[tuple[int, int, str]]


def build_messy_book(docs: list[tuple[str, str]], rng: Random, footnote_rate: float, hyphen_rate: float,
                     footnote_bodies: bool = True, natural: bool = False) -> MessyBook:
    style = FURNITURE_STYLES[rng.randrange(len(FURNITURE_STYLES))]
    fstyle = FOOTNOTE_STYLES[rng.randrange(len(FOOTNOTE_STYLES))]
    lines = _body_lines(docs, lambda text: _hyphenate(text, rng, hyphen_rate))
    out = _BookText()
    emit = out.emit
    words: list[tuple[str, int, int, int]] = []
    tid_base = 0

    def body(s: str) -> list[str]:
        nonlocal tid_base
        # footnote marks after some words that end before punctuation or a space
        out_pos = 0
        marks = []
        for m in re.finditer(r"[a-z](?=[,.;:]?\s)", s):
            if rng.random() < footnote_rate:
                j = m.end()
                chunk = s[out_pos:j]
                sw = spoken_words(chunk, out.pos, rng, natural)
                words.extend((w, a, b, t + tid_base) for w, a, b, t in sw)
                tid_base += len(sw) + 1
                emit(chunk, None)
                n = rng.randint(1, 9)
                mark = fstyle[n - 1] if len(fstyle) == 9 else (f"[{n}]" if fstyle == "bracket" else "*")
                emit(mark, "footnote-mark")
                marks.append(mark)
                out_pos = j
        chunk = s[out_pos:]
        sw = spoken_words(chunk, out.pos, rng, natural)
        words.extend((w, a, b, t + tid_base) for w, a, b, t in sw)
        tid_base += len(sw) + 1
        emit(chunk, None)
        return marks

    i = 0
    p = 0
    while i < len(lines):
        p += 1
        n = rng.randint(*PAGE_LINES)
        title = docs[lines[i][0]][0].upper()[:50]
        if style in ("head-right", "page-word") or (style == "alternating" and p % 2):
            emit(f"{title}{p:>{max(1, TOC_WIDTH - len(title))}}\n", "header")
        elif style == "alternating":
            emit(f"{p:<6}{title}\n", "header")
        else:
            emit(f"{title}\n", "header")
        marks = body("".join(ln for _, ln in lines[i:i + n]))
        i += n
        if marks and footnote_bodies:
            # the notes at the foot of the page: nobody reads them, and the page's last sentence
            # usually goes on after them on the next page
            text = "".join(f"{mk} {FOOTNOTES[rng.randrange(len(FOOTNOTES))]}\n" for mk in marks)
            emit(("" if out.parts and out.parts[-1].endswith("\n") else "\n") + text, "footnote")
        foot = {"dash-number": f"- {p} -".center(TOC_WIDTH).rstrip(), "bracket-number": f"[{p}]",
                "bare-number": f"{p}".center(TOC_WIDTH).rstrip(), "page-word": f"Page {p}"}.get(style)
        if foot is not None:
            emit(foot + "\n", "page-number")
    raw = out.text()
    # A word hyphenated at a page's last line ends on the next page ("part-" / notes, page number,
    # head / "ies"): the two pages' pieces were found apart, but the reader says one word.
    joined: list[tuple[str, int, int, int]] = []
    for w in words:
        if joined and raw[joined[-1][2]:joined[-1][2] + 1] == SOFT:
            prev = joined[-1]
            joined[-1] = (prev[0] + w[0], prev[1], w[2], prev[3])
        else:
            joined.append(w)
    return MessyBook(raw.replace(SOFT, "-"), joined, out.inserted)


def stt_messy(words: list[str], rng: Random, noise: float) -> str:
    """make_case's noise plus: short first/last words lost, similar-sounding words swapped,
    filler words inserted."""
    ws = list(words)
    if len(ws) > 2 and ws[0] in SHORT_WORDS and rng.random() < 0.35:
        ws = ws[1:]
    if len(ws) > 2 and ws[-1] in SHORT_WORDS and rng.random() < 0.35:
        ws = ws[:-1]
    ws = [HOMOPHONES[w] if w in HOMOPHONES and rng.random() < 0.15 else w for w in ws]
    if rng.random() < 0.05:
        ws.insert(rng.randrange(len(ws) + 1), FILLERS[rng.randrange(len(FILLERS))])
    return stt_noise(ws, rng, noise, 0.03, 0.03)


def make_messy_case(kind: str, seed: int, target_chars: int = 100_000, noise: float = 0.05,
                    junk_fraction: float = 0.05, footnote_rate: float = 0.004, hyphen_rate: float = 0.15,
                    pause_at_punctuation: float = 0.75, footnote_bodies: bool = True,
                    reader: str = "natural", hesitation: float = 0.1) -> Case:
    """One messy case of `kind` (licenses, tech, prose); fragments of 4-20 spoken words run
    across page breaks; truth spans cover the spoken words (the inserts inside them included).
    pause_at_punctuation: share of the cuts moved to punctuation within 3 words (where a reader
    pauses). The other cuts depend on `reader`:
    - "natural" (default): they fall at a phrase boundary without punctuation (after a word a
      reader can pause on: not an article, preposition, auxiliary, conjunction ... that leans on
      the next word), except a share `hesitation` of them (a reader's hesitation) that fall
      between any two words; the reader has its own speaking rate (ms per character, drawn per
      case), each fragment's duration varies around it (log-normal) and includes short pauses at
      its inner punctuation; pauses between fragments are longer at sentence ends than at
      commas, and shortest at phrase boundaries and hesitations;
    - "legacy" (the first version, for comparison): they fall between any two words; every
      fragment lasts 60 ms per character +-15% (uniform); pauses are 150-1200 ms anywhere."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}")
    if reader not in ("natural", "legacy"):
        raise ValueError("reader must be 'natural' or 'legacy'")
    rng = Random(seed * 1000 + sorted(KINDS).index(kind))
    docs: list[tuple[str, str]] = []
    total = 0
    names = KINDS[kind]
    k = 0
    while total < target_chars:
        text = _read_messy_doc(names[k % len(names)])
        room = target_chars - total
        if len(text) > room:
            cut = text.rfind("\n\n", 0, room)
            text = text[: cut if cut > room // 2 else room]
        docs.append((_title(text), text if text.endswith("\n") else text + "\n"))
        total += len(docs[-1][1])
        k += 1
    book = build_messy_book(docs, rng, footnote_rate, hyphen_rate, footnote_bodies, reader == "natural")
    spoken = book.words
    # fragment cuts never split the words of one token ("one hundred and five")
    natural = reader == "natural"
    frags = []
    w = 0
    while w < len(spoken):
        b = min(len(spoken), w + rng.randint(MIN_WORDS, MAX_WORDS))
        if b < len(spoken) and rng.random() < pause_at_punctuation:
            # a reader pauses (and the VAD cuts) mostly where the text has punctuation
            near = [t for t in range(max(w + 2, b - 3), min(len(spoken), b + 4))
                    if re.search(r"[.,;:!?]|\n\s*\n", book.text[spoken[t - 1][2]:spoken[t][1]])]
            if near:
                b = min(near, key=lambda t: (abs(t - b), t))
            elif natural and rng.random() >= hesitation:
                b = _phrase_cut(spoken, w, b)
        elif b < len(spoken) and natural and rng.random() >= hesitation:
            b = _phrase_cut(spoken, w, b)
        while b < len(spoken) and spoken[b][3] == spoken[b - 1][3]:
            b += 1
        if len(spoken) - b < MIN_WORDS:
            b = len(spoken)
        frags.append({"junk": False, "words": [x[0] for x in spoken[w:b]], "span": (spoken[w][1], spoken[b - 1][2])})
        w = b
    vocab = sorted({x[0] for x in spoken})
    taboo = _bigrams([x[0] for x in spoken])
    n_junk = round(junk_fraction * len(frags) / (1 - junk_fraction))
    slots = sorted(rng.randint(0, len(frags)) for _ in range(n_junk))
    for j, slot in enumerate(slots):
        frags.insert(slot + j, {"junk": True, "words": _junk_words(rng, vocab, taboo), "span": None})
    tlog: list[dict[str, Any]] = []
    truth: list[dict[str, Any]] = []
    t = rng.randint(*PAUSE_MS)
    ms_per_char = rng.uniform(50, 75) if natural else MS_PER_CHAR  # this reader's speaking rate
    for k, f in enumerate(frags):
        transcript = stt_messy(f["words"], rng, noise)
        if natural:
            dur = _natural_duration(book.text, f, ms_per_char, rng)
        else:
            dur = max(1, round(MS_PER_CHAR * len(" ".join(f["words"])) * rng.uniform(0.85, 1.15)))
        tlog.append({"start": t, "end": t + dur, "transcript": transcript})
        if natural:
            nxt = frags[k + 1] if k + 1 < len(frags) else None
            t += dur + _natural_pause(book.text, f, nxt, rng)
        else:
            t += dur + rng.randint(*PAUSE_MS)
        span = f["span"]
        truth.append({"junk": f["junk"], "orig_start": None if span is None else span[0],
                      "orig_end": None if span is None else span[1], "words": " ".join(f["words"])})
    inside = sum(1 for f in truth if not f["junk"] for s, e, _ in book.inserted if f["orig_start"] < s < f["orig_end"])
    stats = {"kind": kind, "seed": seed, "book_chars": len(book.text), "fragments": len(tlog),
             "junk": sum(1 for x in truth if x["junk"]), "inserts_inside_fragments": inside}
    return Case(book.text, tlog, truth, book.inserted, stats)


# Words a reader does not pause after: they lean on the next word (articles, prepositions,
# possessives, auxiliaries, conjunctions, subordinators). The generator's own list, kept apart
# from the aligner's.
PROCLITIC = frozenset(
    "a an the of to in on at for with by from into onto upon unto about over under through between "
    "among against within without after before during than as and or but nor if when while because "
    "although though since unless until whether where that which who whom whose this these those my "
    "your his her its our their thy thine is are was were be been being am will shall would should can "
    "could may might must do does did has have had not no every each any some all such very so".split()
)


def _phrase_cut(spoken, w: int, b: int) -> int:
    """The cut nearest b (within 3 words) after a word a reader can pause on; b if none."""
    near = [t for t in range(max(w + 2, b - 3), min(len(spoken), b + 4)) if spoken[t - 1][0] not in PROCLITIC]
    return min(near, key=lambda t: (abs(t - b), t)) if near else b


def _natural_duration(text: str, f, ms_per_char: float, rng: Random) -> int:
    """Speech time of a fragment: its characters at the reader's rate, varied per fragment
    (log-normal, sigma 0.08), plus short pauses the VAD did not cut at its inner punctuation.
    Words the speech-to-text later loses are spoken, so they count."""
    chars = len(" ".join(f["words"]))
    dur = ms_per_char * chars * rng.lognormvariate(0.0, 0.08)
    if f["span"] is not None:
        inner = text[f["span"][0]:f["span"][1]]
        dur += sum(rng.randint(40, 250) for _ in re.finditer(r"[,;:]\s", inner))
        dur += sum(rng.randint(100, 300) for _ in re.finditer(r"[.!?]\s", inner))
    return max(1, round(dur))


def _natural_pause(text: str, f, nxt, rng: Random) -> int:
    """Silence after fragment f: longer at a sentence end than at a comma, shortest at a phrase
    boundary or a hesitation (and anywhere next to junk)."""
    if nxt is None or f["span"] is None or nxt["span"] is None:
        return rng.randint(*PAUSE_MS)
    between = text[f["span"][1]:nxt["span"][0]]
    if re.search(r"[.!?]|\n\s*\n", between):
        return rng.randint(400, 1500)
    if re.search(r"[,;:]", between):
        return rng.randint(250, 900)
    return rng.randint(150, 600)


def write_case(case: Case, out: str | Path) -> None:
    out = Path(out)
    atomic_write_text(out / "book.txt", case.book)
    atomic_write_json(out / "book.tlog", case.tlog)
    atomic_write_json(out / "truth.json", case.truth)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Write a synthetic text-alignment benchmark case.")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--chars", type=int, default=100_000, help="book body size in characters")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--unrelated", action="store_true", help="book.txt is a text the tlog never reads")
    ap.add_argument("--near-copies", action="store_true",
                    help="book.txt holds other licenses that repeat passages of the read ones")
    ap.add_argument("--noise", type=float, default=0.05, help="per-character substitution+deletion rate")
    ap.add_argument("--junk-fraction", type=float, default=0.05, help="share of fragments that are junk")
    ap.add_argument("--skip-fraction", type=float, default=0.0, help="share of read fragments left out")
    args = ap.parse_args(argv)
    case = make_case(
        args.seed, args.chars, args.noise, args.junk_fraction, args.unrelated, skip_fraction=args.skip_fraction,
        near_copies=args.near_copies
    )
    write_case(case, args.out)
    print(" ".join(f"{k}={v}" for k, v in case.stats.items() if k != "read_docs"))


if __name__ == "__main__":
    main()
