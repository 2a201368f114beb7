"""Text similarity and error-rate metrics, as fractions (1.0 = identical / 100 %).

Used by gap alignment (thousands of batched calls per document: `similarities`) and as
per-utterance output metrics and filters (`similarity`, `cer`, `wer`).

Levenshtein, Jaro-Winkler and Hamming come from rapidfuzz; WNG, Editex and MRA are numba
kernels in `_similarity_kernels` (imported on first use, so importing this module stays
cheap). All results are deterministic: no sum runs over a hash-ordered container.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

SIMILARITY_ALGOS = ("wng", "jaro_winkler", "editex", "levenshtein", "mra", "hamming")


@dataclass(frozen=True)
class WngParams:
    """Weighted n-gram similarity: n-gram sizes min_size..max_size; each occurrence weighs
    size * size_factor + position_weight**2 * position_factor."""

    min_size: int = 1
    max_size: int = 3
    size_factor: float = 1.0
    position_factor: float = 2.5

    def __post_init__(self) -> None:
        if self.min_size < 1 or self.max_size < self.min_size:
            raise ValueError(
                f"WNG n-gram sizes must satisfy 1 <= min_size <= max_size, got {self.min_size}..{self.max_size}"
            )
        if self.size_factor < 0 or self.position_factor < 0:
            raise ValueError("WNG size_factor and position_factor must be >= 0")


def validate_algo(algo: str) -> str:
    """Return `algo` if it names a similarity algorithm, else raise ValueError listing them."""
    if algo not in SIMILARITY_ALGOS:
        raise ValueError(f"unknown similarity algorithm {algo!r}; valid: {', '.join(SIMILARITY_ALGOS)}")
    return algo


def _check_direction(direction: int) -> int:
    if direction not in (-1, 0, 1):
        raise ValueError(f"WNG direction must be -1, 0 or 1, got {direction!r}")
    return int(direction)


@functools.lru_cache(maxsize=None)
def _rapidfuzz_scorer(algo: str) -> Callable:
    from rapidfuzz.distance import Hamming, JaroWinkler, Levenshtein

    return {
        "levenshtein": Levenshtein.normalized_similarity,
        "jaro_winkler": JaroWinkler.normalized_similarity,
        # pad=True: extra characters of the longer string count as mismatches.
        "hamming": functools.partial(Hamming.normalized_similarity, pad=True),
    }[algo]


def _kernels():
    from . import _similarity_kernels

    return _similarity_kernels


# Editex letter groups (Zobel & Dart 1996, as in textdistance); a letter may be in two.
_EDITEX_GROUPS = ("AEIOUY", "BP", "CKQ", "DT", "LR", "MN", "GJ", "FPV", "SXZ", "CSZ")


@functools.lru_cache(maxsize=1)
def _editex_masks() -> np.ndarray:
    """Bit g of masks[c] is set when code point c is in group g (ASCII upper case only)."""
    masks = np.zeros(128, dtype=np.int64)
    for g, letters in enumerate(_EDITEX_GROUPS):
        for ch in letters:
            masks[ord(ch)] |= 1 << g
    return masks


def _pack(strings: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """All strings as one uint32 code-point array plus their boundaries (string s is
    codes[offs[s]:offs[s + 1]]): one encode for the whole batch."""
    joined = "".join(strings)
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    offs = np.fromiter(itertools.accumulate(map(len, strings), initial=0), dtype=np.int64, count=len(strings) + 1)
    return codes, offs


def similarities(
    algo: str, a: str, bs: Sequence[str], wng: WngParams = WngParams(), direction: int = 0
) -> np.ndarray:
    """similarity(algo, a, b) for every b in bs, as a float64 array, in one call."""
    validate_algo(algo)
    bs = list(bs)
    if not bs:
        return np.zeros(0, dtype=np.float64)
    if algo in ("levenshtein", "jaro_winkler", "hamming"):
        scorer = _rapidfuzz_scorer(algo)
        return np.fromiter((scorer(a, b) for b in bs), dtype=np.float64, count=len(bs))
    k = _kernels()
    if algo == "wng":
        direction = _check_direction(direction)
        codes, offs = _pack([a, *bs])
        return k.wng_batch(
            codes, offs, wng.min_size, wng.max_size, float(wng.size_factor), float(wng.position_factor), direction
        )
    strings = [a, *bs]
    upper = [s.upper() for s in strings]
    codes, offs = _pack(upper)
    if algo == "editex":
        orig_len = np.fromiter((len(s) for s in strings), dtype=np.int64, count=len(strings))
        return k.editex_batch(codes, offs, orig_len, _editex_masks())
    return k.mra_batch(codes, offs)


def similarity(algo: str, a: str, b: str, wng: WngParams = WngParams(), direction: int = 0) -> float:
    """Similarity of a and b in [0, 1] by `algo` (one of SIMILARITY_ALGOS).

    Empty vs empty is 1.0, empty vs non-empty 0.0, for every algorithm. `direction` only
    matters for wng (+1: the right end weighs more, -1: the left end, 0: both ends).
    """
    validate_algo(algo)
    if algo in ("levenshtein", "jaro_winkler", "hamming"):
        return float(_rapidfuzz_scorer(algo)(a, b))
    return float(similarities(algo, a, (b,), wng, direction)[0])


def _levenshtein(a: Sequence, b: Sequence) -> int:
    from rapidfuzz.distance import Levenshtein

    return int(Levenshtein.distance(a, b))


def cer(transcript: str, aligned: str) -> float:
    """Character error rate: Levenshtein(transcript, aligned) / len(aligned).

    The aligned (reference) text is the denominator; with an empty aligned text it is 1, so
    the rate is 0.0 for two empty strings and len(transcript) otherwise. May exceed 1.0.
    Computed on the strings as given (callers pass clean text).
    """
    return _levenshtein(transcript, aligned) / max(len(aligned), 1)


def wer(transcript: str, aligned: str) -> float:
    """Word error rate: word-level Levenshtein(transcript, aligned) / number of aligned words.

    Words are whitespace-separated. With no aligned word the denominator is 1 (so 0.0 when
    the transcript has no word either, else its word count). May exceed 1.0.
    """
    t_words = transcript.split()
    a_words = aligned.split()
    # Words as small ints numbered in order of appearance: exact and independent of str hashing.
    ids: dict[str, int] = {}
    t_ids = [ids.setdefault(w, len(ids)) for w in t_words]
    a_ids = [ids.setdefault(w, len(ids)) for w in a_words]
    return _levenshtein(t_ids, a_ids) / max(len(a_words), 1)
