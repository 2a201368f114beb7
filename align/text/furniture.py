"""Page furniture: text of a printed or scanned book that nobody reads aloud.

Found on the original text, before normalisation, as original ranges that the clean text then
leaves out (so an utterance simply spans them):

- running heads and feet: a line that repeats at regular intervals (pages), the same apart from
  a number that changes ("GNU GENERAL PUBLIC LICENSE     13"), or repeated identically at least
  `min_identical` times at such intervals, and that often interrupts a sentence (a chapter
  heading "Chapter 12" repeats with a changing number too, but always after a sentence end);
- page numbers alone on a line: "12", "- 12 -", "[12]", "(xii)", "Page 12", "p. 12"; a bare
  number only when such lines form a rising sequence (pages), so a lone number in a table stays;
- footnote marks right after a word: superscript digits ("word¹"), bracketed numbers ("word[3]",
  only when a line starts with "[3]", the note itself: "name[5]" in code is an index);
- line-end hyphenation: "circum-\\nvention" reads as one word, so "-\\n" and the indentation after
  it are left out (only before a lower-case letter: "Randers-\\nPehrson" keeps its hyphen; in
  upper-case text between two capitals on each side: "APPLI-\\nCABLE"); the
  hyphen may be U+2010 (groff and typesetters write it), and a soft hyphen (U+00AD) at a line
  end joins the lines before any letter;
- soft hyphens (U+00AD);
- footnote text at the foot of a page: lines starting with a footnote mark ("¹ See ...",
  "[3] ...", "* ...") right above a running head or page number, whose marks occur in the page;
- a word hyphenated across a page break ("circum-" / running head / "vention") is joined as
  line-end hyphenation is.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from typing import NamedTuple


@dataclass(frozen=True)
class FurnitureParams:
    enabled: bool = True            # --text-furniture / --no-text-furniture
    min_repeats: int = 3            # a running head occurs at least this often
    min_identical: int = 5          # ... or this often when it has no changing number
    max_line_chars: int = 100       # longer lines are text, never furniture
    mid_sentence_share: float = 0.25  # ... and this share of them interrupts a sentence
    min_page_lines: int = 10        # running heads repeat at least this many lines apart (median)
    regularity: float = 0.3         # gaps (in lines) within this fraction of their median ...
    regular_share: float = 0.75     # ... for at least this share of them: page-like spacing
    footnote_bodies: bool = True    # footnote text right above a running head / page number


class Removed(NamedTuple):
    start: int
    end: int
    kind: str   # header, page-number, footnote-mark, hyphen, soft-hyphen, prompt-id


_PAGE_NUM = re.compile(
    r"^[ \t]*(?:[-\u2013\u2014][ \t]*)?(?:(?P<open>[\[(])[ \t]*)?(?P<word>(?:page|p\.|pg\.?)[ \t]*)?"
    r"(?P<num>\d{1,4}|[ivxlcdm]{1,7})[ \t]*(?(open)[\])])(?:[ \t]*[-\u2013\u2014])?[ \t]*$",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")
# An utterance id at the start of a prompt line, as speech corpora write their prompt lists (a
# Kaldi `text` file "spk1_0001 Go forward.", festival's `( arctic_a0001 "Author of ..." )`): one
# token mixing letters and digits, or holding "_", with a digit, before the prompt itself.
PROMPT_ID = re.compile(r"^[ \t]*(?:\([ \t]*)?(?P<id>(?=[^\s]*\d)(?=[^\s]*(?:_|[^\W\d_]))[\w.\-]*\w)[ \t]+(?=\S)", re.M)
_SUPERSCRIPTS = "\u00b9\u00b2\u00b3\u2070\u2074\u2075\u2076\u2077\u2078\u2079"
_FOOTNOTE = re.compile(r"(?<=[^\W\d_])(?:[" + _SUPERSCRIPTS + r"]+|\[\d{1,3}\])|(?<=[.,;:!?\"')\]])[" + _SUPERSCRIPTS + r"]+")
# ASCII hyphen-minus or U+2010 HYPHEN (what groff and typesetting tools write at a line break)
# (before a lower-case letter; in upper-case text, between two capitals on each side: "APPLI-\nCABLE")
_HYPHEN = re.compile(r"(?<=[^\W\d_])[-\u2010][ \t]*\r?\n[ \t]*(?=[a-z\u00df-\u00ff])"
                     r"|(?<=[A-Z\u00c0-\u00de]{2})[-\u2010][ \t]*\r?\n[ \t]*(?=[A-Z\u00c0-\u00de]{2})")
# a soft hyphen shows only where a word is broken: at a line end it always joins the two lines
_SOFT_BREAK = re.compile(r"(?<=[^\W\d_])\u00ad+[ \t]*\r?\n[ \t]*(?=[^\W\d_])")


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line, end past its newline."""
    out = []
    pos = 0
    for line in text.splitlines(keepends=True):
        out.append((pos, pos + len(line)))
        pos += len(line)
    return out


def _regular(idx: list[int], p: FurnitureParams) -> bool:
    gaps = [b - a for a, b in zip(idx, idx[1:])]
    if not gaps:
        return False
    med = statistics.median(gaps)
    if med < p.min_page_lines:  # lines that repeat every few lines are code or a table, not pages
        return False
    ok = sum(1 for g in gaps if abs(g - med) <= p.regularity * med)
    return ok >= p.regular_share * len(gaps)


def _interrupts(text: str, lines, idx: list[int], skip: dict, p: FurnitureParams) -> bool:
    """Do enough occurrences sit inside running text (the line before them ends mid-sentence, or
    the line after them continues in lower case)? Pages break anywhere, chapter headings only
    after a sentence end and before a capital."""
    mid = 0
    members = set(idx)
    for li in idx:
        k = li - 1
        while k >= 0 and (k in skip or k in members or not text[lines[k][0]:lines[k][1]].strip()):
            k -= 1
        n = li + 1
        while n < len(lines) and (n in skip or n in members or not text[lines[n][0]:lines[n][1]].strip()):
            n += 1
        before = text[lines[k][0]:lines[k][1]].rstrip()[-1:] if k >= 0 else "."
        after = text[lines[n][0]:lines[n][1]].lstrip()[:1] if n < len(lines) else "A"
        # the line before ends mid-sentence, or the line after goes on in lower case (notes at
        # the foot of a page end in full stops, the sentence still runs on across the page)
        if before not in _CLOSING or after.islower():
            mid += 1
    return mid >= max(1, p.mid_sentence_share * len(idx))


_CLOSING = frozenset(".!?:;\"'\u201d\u2019)]}")


_NOTE_LINE = re.compile(r"^[ \t]*(?P<mark>[" + _SUPERSCRIPTS + r"]+|\[\d{1,3}\]|\*{1,3}|\u2020|\u2021)[ \t]+\S")


def _mark_used(body: str, mark: str) -> bool:
    """Does the page's text carry footnote mark `mark` right after a word or punctuation?"""
    if mark[0] in "*\u2020\u2021":
        return re.search(r"(?<=[^\W\d_]|[.,;:!?)\]\"'])" + re.escape(mark) + r"(?![*\u2020\u2021])", body) is not None
    return re.search(r"(?<=[^\W_]|[.,;:!?)\]\"'])" + re.escape(mark), body) is not None


def _next_to(text: str, lines, li: int, marked: set) -> bool:
    """Is the nearest non-blank line above or below line li one of `marked`?"""
    for step in (-1, 1):
        k = li + step
        while 0 <= k < len(lines) and not text[lines[k][0]:lines[k][1]].strip():
            k += step
        if k in marked:
            return True
    return False


def _footnote_bodies(text: str, lines, page_lines: dict) -> dict[int, str]:
    """Lines of footnote text at the foot of a page: a run of lines, each starting with a
    footnote mark ("¹ ...", "[3] ...", "* ..."), right above a running head or page number (or at
    the end of the text), every mark of which occurs after a word in the page's text above. Their
    text is nobody's reading of the page (a narrator reads notes apart, if at all)."""
    out: dict[int, str] = {}
    bounds = sorted(page_lines) + [len(lines)]
    prev = -1
    for li in bounds:
        k = li - 1
        while k > prev and (k in page_lines or not text[lines[k][0]:lines[k][1]].strip()):
            k -= 1
        block = []
        while k > prev:
            line = text[lines[k][0]:lines[k][1]]
            if line.strip():
                m = _NOTE_LINE.match(line)
                if not m:
                    break
                block.append((k, m.group("mark")))
            k -= 1
        if block:
            top = block[-1][0]
            body = text[lines[prev][1] if prev >= 0 else 0:lines[top][0]]
            if all(_mark_used(body, mark) for _, mark in block):
                for kk, _ in block:
                    out[kk] = "footnote"
        prev = li
    return out


def _hyphens_across(text: str, lines, page_lines: dict) -> list[Removed]:
    """A word hyphenated at the last line of a page and ended on the next ("circum-" / running
    head / "vention"): the hyphen, the blank lines between and the continuation's indentation
    (the furniture lines are removed on their own)."""
    out: list[Removed] = []
    done = set()
    for li in sorted(page_lines):
        if li in done:
            continue
        k = li - 1
        while k >= 0 and (k in page_lines or not text[lines[k][0]:lines[k][1]].strip()):
            k -= 1
        n = li + 1
        while n < len(lines) and (n in page_lines or not text[lines[n][0]:lines[n][1]].strip()):
            n += 1
        done.update(range(k + 1, n))
        if k < 0 or n >= len(lines):
            continue
        before = text[lines[k][0]:lines[k][1]]
        m = re.search(r"(?<=[^\W\d_])[-\u2010\u00ad][ \t]*\r?\n$", before)
        after = text[lines[n][0]:lines[n][1]]
        first = len(after) - len(after.lstrip(" \t"))
        caps = re.search(r"[A-Z\u00c0-\u00de]{2}[-\u2010\u00ad][ \t]*\r?\n$", before) is not None
        if m is None or not (after[first:first + 1].islower()
                             or caps and re.match(r"[A-Z\u00c0-\u00de]{2}", after[first:first + 2])):
            continue
        out.append(Removed(lines[k][0] + m.start(), lines[k][1], "hyphen"))
        for b in range(k + 1, n):
            if b not in page_lines:
                out.append(Removed(lines[b][0], lines[b][1], "hyphen"))
        if first:
            out.append(Removed(lines[n][0], lines[n][0] + first, "hyphen"))
    return out


# The number of a numbered prompt sheet, "12. Go forward 10 meters." (a number read as part of the
# prompt, "10 of clubs", has no "." or ")" after it).
PROMPT_NUM = re.compile(r"^[ \t]*(?P<id>\d{1,5})[.)][ \t]+(?=\S)", re.M)


def prompt_id_pattern(text: str, lines=None):
    """`PROMPT_ID` or `PROMPT_NUM` when the lines of `text` are a prompt list led by utterance ids
    or by rising list numbers, else None: at least 4 non-empty lines, 80% of them led by one,
    the ids all different (the numbers rising from one line to the next at least 70% of the
    time, like page numbers)."""
    return _prompt_lead(text, lines)[0]


def prompt_ids(text: str, lines=None) -> list[Removed]:
    """The utterance ids or list numbers that lead the lines of a prompt list
    (`prompt_id_pattern`). Nobody reads them."""
    return [Removed(m.start("id"), m.end(), "prompt-id") for m in _prompt_lead(text, lines)[1]]


def _prompt_lead(text: str, lines=None):
    """(the pattern, its matches on the lines it leads), or (None, [])."""
    head = [ln for ln in text[:4000].split("\n")[:40] if ln.strip()]
    for pat in (PROMPT_ID, PROMPT_NUM):
        # a quick look first: a book's first lines start with neither (this runs on every text)
        if len(head) >= 8 and sum(1 for ln in head[:20] if pat.match(ln)) < 0.5 * min(len(head), 20):
            continue
        lines = _lines(text) if lines is None else lines
        body = [(s, e) for s, e in lines if text[s:e].strip()]
        found = [m for s, e in body if (m := pat.match(text, s, e)) is not None]
        if len(body) < 4 or len(found) < 0.8 * len(body):
            continue
        ids = [m.group("id") for m in found]
        if len(set(ids)) < len(ids):
            continue
        if pat is PROMPT_NUM:
            nums = [int(x) for x in ids]
            if sum(1 for a, b in zip(nums, nums[1:]) if b > a) < 0.7 * (len(nums) - 1):
                continue
        return pat, found
    return None, []


def find_furniture(text: str, params: FurnitureParams = FurnitureParams()) -> list[Removed]:
    """Sorted, disjoint original ranges that are page furniture (see the module docstring)."""
    if not params.enabled:
        return []
    lines = _lines(text)
    found: list[Removed] = prompt_ids(text, lines)
    page_lines: dict[int, str] = {}
    bare: list[tuple[int, int]] = []   # (line index, value) of bare numbers
    groups: dict[str, list[int]] = {}
    for li, (s, e) in enumerate(lines):
        line = text[s:e].strip()
        if not line or len(line) > params.max_line_chars:
            continue
        m = _PAGE_NUM.match(line)
        if m:
            decorated = m.group("open") or m.group("word") or line[0] in "-\u2013\u2014"
            if decorated and (m.group("num").isdigit() or m.group("open") or m.group("word")):
                page_lines[li] = "page-number"
            elif m.group("num").isdigit():
                bare.append((li, int(m.group("num"))))
            continue
        if any(c.isalpha() for c in line):
            # digits and spacing left out of the key: "12  TITLE" and "TITLE  13" (left and right
            # pages) are one running head
            key = ("#" if _DIGITS.search(line) else "") + re.sub(r"[\d\s]+", "", line)
            groups.setdefault(key, []).append(li)
    if len(bare) >= params.min_repeats:
        rising = sum(1 for (_, a), (_, b) in zip(bare, bare[1:]) if b > a)
        if rising >= 0.7 * (len(bare) - 1):
            for li, _ in bare:
                page_lines[li] = "page-number"
    for key, idx in groups.items():
        changing = key.startswith("#") and len({tuple(_DIGITS.findall(text[lines[i][0]:lines[i][1]])) for i in idx}) > 1
        if changing:
            if len(idx) < params.min_repeats:
                continue
        elif len(idx) < params.min_identical:
            continue
        if _regular(idx, params) and _interrupts(text, lines, idx, page_lines, params):
            for li in idx:
                page_lines[li] = "header"
    # A running head of a short document repeats too few times to show page-like spacing, but
    # when (all but one of) its occurrences sit right next to a page number, it is furniture too.
    numbered = {li for li, kind in page_lines.items() if kind == "page-number"}
    if numbered:
        for key, idx in groups.items():
            near = sum(1 for li in idx if _next_to(text, lines, li, numbered))
            # (the first page's head may have no page number before it)
            if near >= 2 and near >= len(idx) - 1 and not any(li in page_lines for li in idx):
                for li in idx:
                    page_lines[li] = "header"
    if params.footnote_bodies and page_lines:
        page_lines.update(_footnote_bodies(text, lines, page_lines))
    for li, kind in page_lines.items():
        s, e = lines[li]
        found.append(Removed(s, e, kind))
    if page_lines:
        found += _hyphens_across(text, lines, page_lines)
    # "word[3]" is a footnote mark only where some line starts with "[3]" (its note, at the page
    # foot or at the end): in code and tables "name[5]" is an index and is read
    noted = {int(x) for x in re.findall(r"(?m)^[ \t]*\[(\d{1,3})\][ \t]+\S", text)}
    for m in _FOOTNOTE.finditer(text):
        g = m.group()
        if g[0] == "[" and int(g[1:-1]) not in noted:
            continue
        found.append(Removed(m.start(), m.end(), "footnote-mark"))
    for m in _HYPHEN.finditer(text):
        found.append(Removed(m.start(), m.end(), "hyphen"))
    for m in _SOFT_BREAK.finditer(text):
        found.append(Removed(m.start(), m.end(), "hyphen"))
    for m in re.finditer("\u00ad+", text):
        found.append(Removed(m.start(), m.end(), "soft-hyphen"))
    found.sort()
    out: list[Removed] = []
    for r in found:  # disjoint: a range inside a removed line is dropped
        if out and r.start < out[-1].end:
            if r.end > out[-1].end:
                out[-1] = Removed(out[-1].start, r.end, out[-1].kind)
            continue
        out.append(r)
    return out
