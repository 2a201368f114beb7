"""The verbatim check: where the text is probably not what was read, keep only utterances whose
label says, word for word, what the transcript says.

A text that shares passages with what was read (another version of a licence, an edition of a
book) places many transcripts next to a close paraphrase of their words: the Smith-Waterman
score stays high because most letters agree, and the neighbours, placed in the same shared
passage, confirm each other. The speech-to-text's own errors look different: they damage the
letters of a word (a sound-alike, a dropped ending, split or merged words) but keep most of
them, while a paraphrase has whole words the transcript lacks ("february" for "june", "licenses
are" for "license is") or says words the text lacks.

The check: squeeze the spaces out of transcript and label, align them character by character
(Levenshtein), and call a word of either side *unmatched* when fewer than `min_matched` of its
letters fall in the aligned equal stretches, or when `max_run` of its letters in a row fall
outside them (a word glued to its neighbour by the speech-to-text, "codewith"). The utterance passes when no unmatched word of at
least `min_letters` letters lies strictly inside either word sequence; the first and last word
of each side are free (an edge word lost or claimed, as anywhere else).

Where it applies: to every fragment of a document of which fewer than `doc_share` of the
transcripts were placed by the rough alignment (the text is at best a near copy), and elsewhere
to fragments fewer than `local_share` of whose `reach` neighbours on each side (in audio order)
were placed (an island in speech the text does not hold). Inside a well-placed run nothing
changes: there the neighbours vouch for the text, and real speech-to-text has word errors that
the check would mistake for paraphrase.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class VerbatimParams:
    enabled: bool = True         # --align-no-verbatim-check
    doc_share: float = 0.5       # --align-verbatim-share: placed share under which every fragment is checked
    local_share: float = 0.5     # --align-verbatim-local: placed share of the neighbours under which one is
    reach: int = 3               # neighbours on each side (audio order) for local_share
    min_letters: int = 2         # shorter words are no evidence (one letter of "a"/"of" is noise)
    min_matched: float = 0.5     # share of a word's letters that must align for it to count as said
    max_run: int = 3             # this many letters in a row that do not align: not said either


def _unmatched(a_words: Sequence[str], b: str, p: "VerbatimParams") -> list[str]:
    """The words strictly inside `a_words` that the Levenshtein alignment of their joined letters
    against `b` (spaces removed) does not keep: under `min_matched` of the letters of a word of at
    least `min_letters` letters kept, or a run of `max_run` letters in a row not kept (a word the
    speech-to-text glued to its neighbour, "codewith" for "code")."""
    from rapidfuzz.distance import Levenshtein

    a = "".join(a_words)
    kept = [False] * len(a)
    for op in Levenshtein.opcodes(a, b):
        if op.tag == "equal":
            kept[op.src_start:op.src_end] = [True] * (op.src_end - op.src_start)
    out = []
    k = len(a_words[0])
    for w in a_words[1:-1]:
        mask = kept[k:k + len(w)]
        k += len(w)
        run = longest = 0
        for m in mask:
            run = 0 if m else run + 1
            longest = max(longest, run)
        if (len(w) >= p.min_letters and sum(mask) < p.min_matched * len(w)) or longest >= p.max_run:
            out.append(w)
    return out


def inner_unmatched(transcript: str, label: str, p: VerbatimParams = VerbatimParams()) -> list[str]:
    """Words strictly inside the label or the transcript (clean text, words split by spaces)
    that the other side does not say (see the module docstring); empty: the label is verbatim."""
    t_words, l_words = transcript.split(), label.split()
    out = []
    for words, other in ((l_words, "".join(t_words)), (t_words, "".join(l_words))):
        if len(words) >= 3:
            out += _unmatched(words, other, p)
    return out


def checked_fragments(placed: Sequence[bool], nonempty: Sequence[bool], p: VerbatimParams) -> list[bool]:
    """Per fragment: must it pass the word check? placed: the rough alignment placed it;
    nonempty: its transcript has words (empty ones count neither way)."""
    n = len(placed)
    if not p.enabled or n == 0:
        return [False] * n
    total = sum(nonempty)
    share = sum(1 for a, b in zip(placed, nonempty) if a and b) / max(total, 1)
    if share < p.doc_share:
        return [True] * n
    # neighbours i-reach..i+reach (self excluded) by prefix sums: one pass, not n windows
    cum_n, cum_p = [0], [0]
    for a, b in zip(placed, nonempty):
        cum_n.append(cum_n[-1] + b)
        cum_p.append(cum_p[-1] + (a and b))
    out = []
    for i in range(n):
        lo, hi = max(0, i - p.reach), min(n, i + p.reach + 1)
        own = 1 if nonempty[i] else 0
        nb = cum_n[hi] - cum_n[lo] - own
        nb_placed = cum_p[hi] - cum_p[lo] - (1 if own and placed[i] else 0)
        out.append(nb > 0 and nb_placed / nb < p.local_share)
    return out
