"""Grapheme-to-phoneme: pronunciations in pocketsphinx's en-us phone set for words cmudict lacks.

espeak-ng (a Debian package, installed by bin/setup.sh) spells every word of the batch in one
process as IPA with a phoneme separator; each IPA phoneme is mapped to ARPAbet (CMU phones
without stress digits, the phone set of pocketsphinx's en-us model). Without espeak-ng, a
letter-based fallback gives a rough pronunciation and a warning is logged: the word then rarely
gets recognised, but the language model and the rest of the run still work (decided so
because a missing system package should not stop an alignment over a handful of rare words).
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from typing import Mapping, Sequence

from ..common.errors import UserError

log = logging.getLogger(__name__)

ESPEAK_VOICE = "en-us"
_SEP = "_"

# espeak-ng en-us IPA phonemes -> ARPAbet. Multi-phone values split r-coloured and syllabic
# sounds the way cmudict writes them ('n̩' in "button" is AH N, 'ɪɹ' in "near" is IH R).
IPA_TO_ARPABET: dict[str, str] = {
    # vowels and diphthongs
    "aɪ": "AY", "aɪə": "AY AH", "aɪɚ": "AY ER", "aʊ": "AW", "eɪ": "EY", "oʊ": "OW", "ɔɪ": "OY",
    "iə": "IY AH", "iː": "IY", "i": "IY", "ɪ": "IH", "ᵻ": "IH", "ɛ": "EH", "e": "EH", "æ": "AE",
    "a": "AE", "ɑː": "AA", "ɑ": "AA", "ɒ": "AA", "ɔː": "AO", "ɔ": "AO", "oː": "AO", "o": "OW",
    "ʊ": "UH", "uː": "UW", "u": "UW", "ʌ": "AH", "ə": "AH", "ɐ": "AH", "ɜː": "ER", "ɜ": "ER",
    "ɚ": "ER", "ɝ": "ER", "əl": "AH L", "n̩": "AH N", "l̩": "AH L", "m̩": "AH M",
    "ɛɹ": "EH R", "ɪɹ": "IH R", "ʊɹ": "UH R", "ɔːɹ": "AO R", "oːɹ": "AO R", "ɑːɹ": "AA R",
    "ɜːɹ": "ER", "əɹ": "ER", "ɛə": "EH R", "ɪə": "IH R", "ʊə": "UH R",
    # consonants
    "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "g": "G", "ɡ": "G", "f": "F", "v": "V",
    "θ": "TH", "ð": "DH", "s": "S", "z": "Z", "ʃ": "SH", "ʒ": "ZH", "h": "HH", "tʃ": "CH",
    "dʒ": "JH", "m": "M", "n": "N", "ŋ": "NG", "l": "L", "ɫ": "L", "ɬ": "L", "ɹ": "R", "r": "R",
    "w": "W", "ʍ": "W", "j": "Y", "x": "HH", "ç": "HH",
    # American flap and glottal stop: cmudict writes the /t/ they usually stand for.
    "ɾ": "T", "ʔ": "T",
}
_MAX_KEY = max(len(k) for k in IPA_TO_ARPABET)
# Stress, length-less ties and syllable marks carry no phone; parenthesised "(en)" switches too.
_DROP = re.compile(r"[ˈˌ.\u0361\u035c‿]|\([a-z-]+\)")

# Letter fallback (no espeak-ng): digraphs first, then single letters.
_LETTERS: dict[str, str] = {
    "tch": "CH", "sch": "S K", "ch": "CH", "sh": "SH", "th": "TH", "ph": "F", "ng": "NG",
    "ck": "K", "qu": "K W", "wh": "W", "ee": "IY", "ea": "IY", "oo": "UW", "ou": "AW",
    "ai": "EY", "ay": "EY", "oa": "OW", "oi": "OY", "oy": "OY", "au": "AO", "aw": "AO",
    "a": "AE", "b": "B", "c": "K", "d": "D", "e": "EH", "f": "F", "g": "G", "h": "HH", "i": "IH",
    "j": "JH", "k": "K", "l": "L", "m": "M", "n": "N", "o": "AA", "p": "P", "q": "K", "r": "R",
    "s": "S", "t": "T", "u": "AH", "v": "V", "w": "W", "x": "K S", "y": "Y", "z": "Z",
}


def ipa_to_arpabet(ipa: str) -> str:
    """One word's espeak-ng IPA (phonemes separated by `_`, words by spaces) -> ARPAbet phones.

    A token the table lacks is split greedily into the longest known prefixes; characters
    that match nothing (a lone length mark, a diacritic) are dropped.
    """
    phones: list[str] = []
    for token in re.split(r"[_\s]+", _DROP.sub("", ipa)):
        phones.extend(_longest_matches(token, IPA_TO_ARPABET, _MAX_KEY))
    # 'ɚɹ' (separable) is one r-coloured vowel in cmudict: ER R -> ER.
    merged = [p for k, p in enumerate(phones) if not (p == "R" and k and phones[k - 1] == "ER")]
    return " ".join(merged)


def _longest_matches(s: str, table: dict[str, str], max_key: int) -> list[str]:
    """Phones of `s`, reading it left to right by the longest key of `table` (unknown characters
    are skipped)."""
    phones: list[str] = []
    i = 0
    while i < len(s):
        for n in range(min(max_key, len(s) - i), 0, -1):
            hit = table.get(s[i : i + n])
            if hit is not None:
                phones.extend(hit.split())
                i += n
                break
        else:
            i += 1
    return phones


def letters_to_arpabet(word: str) -> str:
    """Crude spelling-based pronunciation, used only when espeak-ng is unavailable."""
    import unicodedata

    w = "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if "a" <= c <= "z")
    w = re.sub(r"(.)\1+", r"\1", w)  # doubled letters sound once
    return " ".join(_longest_matches(w, _LETTERS, 3)) or "AH"


def espeak_path() -> str | None:
    return shutil.which("espeak-ng")


def g2p_method() -> str:
    """Which grapheme-to-phoneme step `pronounce` will use (part of LM cache keys)."""
    exe = espeak_path()
    if exe is None:
        return "letters-v1"
    try:
        ver = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return "letters-v1"
    return "espeak-ng-ipa-v1 " + " ".join(ver.split()[:4])


def _espeak_batch(exe: str, words: Sequence[str]) -> list[str] | None:
    """IPA for each word from one espeak-ng process (one word per input line, one per output line).

    Returns None when the output lines cannot be matched one-to-one with the words.
    """
    proc = subprocess.run(
        [exe, "-q", "--ipa", f"--sep={_SEP}", "-v", ESPEAK_VOICE],
        input="".join(w + "\n" for w in words),
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=600,
    )
    if proc.returncode != 0:
        raise UserError(f"espeak-ng failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
    lines = proc.stdout.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != len(words):
        return None
    return lines


def pronounce(words: Sequence[str], known: Mapping[str, str] | None = None) -> dict[str, str]:
    """word -> ARPAbet pronunciation (space-separated phones) for every word given.

    Words found in `known` (e.g. cmudict) keep that pronunciation; the others are spelled by
    espeak-ng in one batch (or by the letter fallback when espeak-ng is missing). Every word
    gets a non-empty pronunciation.
    """
    known = known or {}
    out: dict[str, str] = {}
    todo = sorted({w for w in words if w not in known})
    for w in words:
        if w in known:
            out[w] = known[w]
    if not todo:
        return out
    exe = espeak_path()
    if exe is None:
        log.warning(
            "espeak-ng not found: %d word(s) got letter-based pronunciations (install it: "
            "apt-get install espeak-ng, or run `bash bin/setup.sh`)",
            len(todo),
        )
        out.update((w, letters_to_arpabet(w)) for w in todo)
        return out
    ipa = _espeak_batch(exe, todo)
    if ipa is None:
        # A word espeak split into two clauses (rare): one process per word keeps the mapping exact.
        ipa = []
        for w in todo:
            one = _espeak_batch(exe, [w])
            ipa.append(one[0] if one else "")
    for w, line in zip(todo, ipa):
        out[w] = ipa_to_arpabet(line) or letters_to_arpabet(w)
    return out
