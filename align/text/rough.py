"""Rough alignment: place every transcript in the clean text, recursively, in document order.

Divide and conquer over (a run of transcripts, an interval of the text): try the run's
transcripts in priority order (long ones near the middle of the run first), accept the first
whose best match scores at least `min_score`, then solve the transcripts left of it inside the
text left of its match, and likewise on the right. Transcripts are thereby kept in order, long
unspoken stretches of text and untranscribed audio simply stay unmatched, and short transcripts
are searched only in the small interval their neighbours leave them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

from .search import Match, SearchParams, TrigramIndex


@dataclass(frozen=True)
class RoughParams:
    search: SearchParams = SearchParams()
    # Minimum normalised Smith-Waterman score for a match to be accepted (--align-min-sws).
    # The reference accepts any positive score for a lone transcript, which is how unrelated text
    # "aligns"; a fixed floor rejects such garbage while noisy true transcripts score ~0.8-0.95.
    min_score: float = 0.5
    # A placed transcript must belong to a run of at least `min_run` placed transcripts (in audio
    # order, skipping unplaced ones) whose matches follow each other with at most `run_gap` clean
    # characters of text between them (--align-min-run, --align-run-gap). True matches come in
    # such runs; matches of a text that was never read (an unrelated document, boilerplate shared
    # with another text) are isolated. 1 disables the rule.
    min_run: int = 2
    run_gap: int = 100


def priority_order(lengths: Sequence[int]) -> np.ndarray:
    """Indexes of a run of transcripts, best candidates first: (1 - w) * length, where the
    position weight w is 1 at both ends of the run and 0 in its middle. Ties keep run order."""
    n = len(lengths)
    if n == 1:
        return np.zeros(1, np.int64)
    i = np.arange(n, dtype=np.float64)
    w = 4.0 * ((i - (n - 1) / 2.0) / (n - 1)) ** 2
    prio = (1.0 - w) * np.asarray(lengths, dtype=np.float64)
    return np.argsort(-prio, kind="stable")


def rough_align(
    patterns: Sequence[str],
    index: TrigramIndex,
    params: RoughParams = RoughParams(),
    on_search: Optional[Callable[[], None]] = None,
) -> list[Optional[Match]]:
    """One Match (or None: not found) per pattern; accepted matches are in order and disjoint."""
    result: list[Optional[Match]] = [None] * len(patterns)
    lengths = [len(p) for p in patterns]
    # Explicit stack instead of recursion: long documents would exceed Python's recursion limit.
    stack = [(0, len(patterns), 0, len(index.clean))]
    while stack:
        lo, hi, start, end = stack.pop()
        if lo >= hi or end <= start:
            continue
        for k in priority_order(lengths[lo:hi]):
            i = lo + int(k)
            if not patterns[i]:
                continue
            m = index.find_best(patterns[i], start, end, params.search)
            if on_search is not None:
                on_search()
            if m is not None and m.score >= params.min_score:
                result[i] = m
                stack.append((i + 1, hi, m.end, end))
                stack.append((lo, i, start, m.start))
                break
    return result


def drop_isolated(matches: Sequence[Optional[Match]], params: RoughParams = RoughParams()) -> tuple[list[Optional[Match]], int]:
    """Unplace matches that are not part of a run (see RoughParams.min_run); returns the new list
    and how many were dropped. A log with fewer placed transcripts than `min_run` is left alone."""
    placed = [i for i, m in enumerate(matches) if m is not None]
    if params.min_run <= 1 or len(placed) < params.min_run:
        return list(matches), 0
    out = list(matches)
    dropped = 0
    run = [placed[0]]
    for i in placed[1:] + [None]:
        if i is not None and matches[i].start - matches[run[-1]].end <= params.run_gap:
            run.append(i)
            continue
        if len(run) < params.min_run:
            for j in run:
                out[j] = None
                dropped += 1
        run = [i] if i is not None else []
    return out, dropped
