"""Numbers, symbols and abbreviations in their spoken form ("Press 2" -> "press two").

A reader says "two" where the text has "2"; the speech-to-text writes "two"; the document LM and
the alignment must therefore see "two" too, while the utterance's `aligned-raw` stays the
original "2". `verbalize` finds such tokens in the original text and returns, per token, the
spoken words, each with the original range it came from (a number's words map to its digits,
"percent" to the "%", a currency's words to the whole "$5"); `normalise` splices them into the
clean text and keeps that map per clean character.

Modes (--text-verbalize): none; numbers (digits, with their %, currency sign, ordinal suffix,
decimal point, time colon, thousands commas); all (numbers, plus & % # + @ = and common
abbreviations such as Dr. Mr. St. e.g. i.e. etc.). The words come from num2words, in the
language of the alphabet (`language_of`). A token with digits that cannot be said (no num2words
language for the alphabet, a number num2words rejects) is left as it was (its digits then fall
out of the alphabet) and counted, never dropped silently.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import NamedTuple, Optional, Sequence

MODES = ("none", "numbers", "all")


class Spoken(NamedTuple):
    word: str     # one spoken word
    start: int    # the original range it says
    end: int


class Token(NamedTuple):
    start: int    # original range replaced by `words`
    end: int
    words: tuple[Spoken, ...]


@dataclass
class Verbalized:
    tokens: list[Token] = field(default_factory=list)
    unsaid: list[tuple[int, int]] = field(default_factory=list)   # tokens that could not be said


# Alphabet letters that identify a num2words language (checked in this order; English last).
_LANG_LETTERS = (
    ("ru", "\u0439\u044b"), ("uk", "\u0457\u0454"), ("de", "\u00df\u00e4"), ("es", "\u00f1"),
    ("pl", "\u0142\u0105"), ("cs", "\u0159\u011b"), ("pt", "\u00e3\u00f5"), ("fr", "\u00e7\u00e8"),
    ("it", "\u00ec\u00f2"), ("en", "abcdefghijklmnopqrstuvwxyz"),
)


@functools.lru_cache(maxsize=16)
def language_of(labels: frozenset) -> Optional[str]:
    """The num2words language for an alphabet (a frozenset of labels), or None."""
    for lang, letters in _LANG_LETTERS:
        if all(c in labels for c in letters):
            return lang
    return None


_WORDS = {  # per language: spoken forms of symbols and abbreviations (mode "all")
    "en": {
        "point": "point", "percent": "percent", "oclock": "o'clock", "oh": "oh", "to": "to",
        "currency": {"$": "dollars", "\u20ac": "euros", "\u00a3": "pounds", "\u00a5": "yen"},
        "symbols": {"&": "and", "%": "percent", "+": "plus", "@": "at", "=": "equals",
                    "\u00d7": "times", "\u00b0": "degrees", "#": "number"},
        "abbreviations": {
            "e.g.": "for example", "i.e.": "that is", "etc.": "et cetera", "vs.": "versus",
            "Dr.": "doctor", "Mr.": "mister", "Mrs.": "missus", "Ms.": "miz", "Prof.": "professor",
            "Jr.": "junior", "Sr.": "senior", "St.": "saint", "approx.": "approximately", "No.": "number",
        },
    },
}
_ORDINAL_SUFFIX = re.compile(r"(?:st|nd|rd|th)$", re.IGNORECASE)

_NUMBER = re.compile(
    r"(?P<cur>[$\u20ac\u00a3\u00a5])?"
    r"(?P<num>\d{1,2}:\d{2}(?!\d)|\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)|\d+(?:\.\d+)*)"
    r"(?P<ord>st\b|nd\b|rd\b|th\b)?(?P<pct>\s?%)?"
)
_SYMBOL = re.compile(r"[&%+@=\u00d7\u00b0#]")


@functools.lru_cache(maxsize=16)
def _abbr_re(abbrs: tuple[str, ...]) -> re.Pattern:
    alts = "|".join(re.escape(a) for a in sorted(abbrs, key=len, reverse=True))
    return re.compile(r"(?<![^\W\d_])(?:" + alts + r")")


def _say(n2w, value, **kw) -> list[str]:
    """num2words output as plain words (its hyphens and commas dropped)."""
    return re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", n2w(value, **kw).lower())


def _number_words(num: str, ordinal: bool, lang: str, n2w, words) -> list[str]:
    if ":" in num:
        h, m = num.split(":")
        out = _say(n2w, int(h), lang=lang)
        if m == "00":
            return out + ([words["oclock"]] if "oclock" in words else [])
        if m[0] == "0":
            out += [words["oh"]] if "oh" in words else _say(n2w, 0, lang=lang)
        return out + _say(n2w, int(m), lang=lang)
    if "," in num:  # thousands separators
        num = num.replace(",", "")
    if "." in num:
        parts = num.split(".")
        if len(parts) == 2:  # a decimal: digits after the point one by one
            return _say(n2w, int(parts[0]), lang=lang) + [words["point"]] + [
                w for d in parts[1] for w in _say(n2w, int(d), lang=lang)]
        out: list[str] = []
        for k, part in enumerate(parts):  # a version number 1.6.36
            if k:
                out.append(words["point"])
            out += _say(n2w, int(part), lang=lang)
        return out
    if ordinal:
        return _say(n2w, int(num), lang=lang, to="ordinal")
    if len(num) > 1 and num[0] == "0":  # 007, 0800: digit by digit
        return [w for d in num for w in _say(n2w, int(d), lang=lang)]
    n = int(num)
    if len(num) == 4 and 1100 <= n <= 2099 and n % 1000 >= 10:
        return _say(n2w, n, lang=lang, to="year")
    return _say(n2w, n, lang=lang)


def verbalize(text: str, mode: str, lang: Optional[str], skip: Sequence[tuple[int, int]] = ()) -> Verbalized:
    """Spoken forms of the tokens of `text` (sorted, disjoint), outside the `skip` ranges
    (page furniture); see the module docstring."""
    if mode not in MODES:
        raise ValueError(f"verbalize mode must be one of {MODES}, got {mode!r}")
    out = Verbalized()
    if mode == "none":
        return out
    words = _WORDS.get(lang or "", {})
    n2w = None
    if lang is not None:
        from num2words import num2words as n2w  # imported on first use: it loads many languages
    found: list[tuple[int, int, tuple[Spoken, ...] | None]] = []
    for m in _NUMBER.finditer(text):
        s, e = m.start(), m.end()
        if s > 0 and (text[s - 1].isalnum() and not m.group("cur")) and not text[s - 1].isalpha():
            continue
        num = m.group("num")
        ns, ne = m.start("num"), m.end("num")
        if n2w is None or not words:
            found.append((s, e, None))
            continue
        try:
            said = _number_words(num, bool(m.group("ord")), lang, n2w, words)
        except (ValueError, NotImplementedError, OverflowError, KeyError, IndexError):
            found.append((s, e, None))
            continue
        if not said:
            found.append((s, e, None))
            continue
        if m.group("cur"):  # "$5" -> "five dollars": every word says the whole token
            said = said + [words["currency"][m.group("cur")]]
            sp = tuple(Spoken(w, s, ne) for w in said)
            e = ne
        else:
            end_num = m.end("ord") if m.group("ord") else ne
            sp = tuple(Spoken(w, ns, end_num) for w in said)
            if m.group("pct"):
                sp += (Spoken(words["percent"], e - 1, e),)
            else:
                e = end_num
        found.append((s, e, sp))
    if mode == "all" and words:
        taken = [(s, e) for s, e, _ in found]
        abbr = words["abbreviations"]
        for m in _abbr_re(tuple(abbr)).finditer(text):
            g = m.group()
            if g == "No." and not re.match(r"\s*\d", text[m.end():m.end() + 3]):
                continue
            found.append((m.start(), m.end(), tuple(Spoken(w, m.start(), m.end()) for w in abbr[g].split())))
        for m in _SYMBOL.finditer(text):
            g = m.group()
            if g == "#" and not re.match(r"\s?\d", text[m.end():m.end() + 2]):
                continue  # "#include": not a number sign, say nothing
            found.append((m.start(), m.end(), (Spoken(words["symbols"][g], m.start(), m.end()),)))
        del taken
    found.sort(key=lambda t: (t[0], -t[1]))
    skip = sorted(skip)
    k = 0
    last_end = -1
    for s, e, sp in found:
        if s < last_end:
            continue  # inside a token already taken (a % that belongs to a number)
        while k < len(skip) and skip[k][1] <= s:
            k += 1
        if k < len(skip) and skip[k][0] < e:
            continue  # page furniture: never said
        last_end = e
        if sp is None:
            out.unsaid.append((s, e))
        else:
            out.tokens.append(Token(s, e, sp))
    return out
