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
    run_gap: int = 600
    # A transcript whose best match elsewhere in the interval scores at least this fraction of
    # its best is only used as an anchor when no unambiguous transcript of the run can be.
    max_ambiguity: float = 0.9
    # A match at least this good of a transcript of at least SOLO_MIN_CHARS characters stands on its
    # own, without neighbours (--align-solo-sws): a reader may skip whole paragraphs. Chance matches
    # in unrelated text stay far below it (at most ~0.7 in bench/text_align.py).
    solo_score: float = 0.8
    # A transcript shorter than short_chars clean characters (one or two short words) is placed
    # only with a score of at least short_score (--align-short-chars, --align-short-sws): two
    # letters of "lies" inside another word must not pass as a match.
    short_chars: int = 10
    short_score: float = 0.8

    def min_score_for(self, pattern: str) -> float:
        return self.min_score if len(pattern) >= self.short_chars else max(self.min_score, self.short_score)


SOLO_MIN_CHARS = 30


def _solo(pattern: str, m: Match, params: RoughParams) -> bool:
    return m.score >= params.solo_score and len(pattern) >= SOLO_MIN_CHARS


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
    n_total = len(patterns)
    confirm = params.min_run >= 2 and sum(1 for p in patterns if p) >= params.min_run
    stack = [(0, n_total, 0, len(index.clean))]
    while stack:
        lo, hi, start, end = stack.pop()
        if lo >= hi or end <= start:
            continue
        deferred = []
        anchor = None
        for k in priority_order(lengths[lo:hi]):
            i = lo + int(k)
            if not patterns[i]:
                continue
            ms = params.min_score_for(patterns[i])
            m = index.find_best(patterns[i], start, end, params.search, ms)
            if on_search is not None:
                on_search()
            if m is None or m.score < ms:
                continue
            if confirm and not _confirmed(i, m, lo, hi, start, end, n_total, patterns, index, params, on_search):
                continue
            if m.ambiguity >= params.max_ambiguity:
                deferred.append((i, m))  # fits a repeated passage: anchor elsewhere first
                continue
            anchor = (i, m)
            break
        if anchor is None and deferred:
            anchor = deferred[0]
        if anchor is not None:
            i, m = anchor
            result[i] = m
            stack.append((i + 1, hi, m.end, end))
            stack.append((lo, i, start, m.start))
    return result


# How many transcripts on each side may confirm an anchor (so one untranscribable fragment
# beside a true one does not unplace it).
CONFIRM_REACH = 2


def _confirmed(i, m, lo, hi, start, end, n_total, patterns, index, params, on_search) -> bool:
    """Is the match of transcript i backed by its neighbourhood?

    Within a run [lo, hi) the interval [start, end) is bounded by the matches of transcripts
    lo-1 and hi (or the text's ends). The match is backed when it lies within `run_gap` of such a
    bounding match, or when one of the CONFIRM_REACH nearest transcripts on either side of it in
    the run is found right beside it. An anchor placed by chance (unrelated text, a phrase
    repeated elsewhere) has no such neighbour, and is then not allowed to split the run.
    """
    if _solo(patterns[i], m, params):
        return True
    gap = params.run_gap
    # Backed by the match that bounds the run, with at most CONFIRM_REACH - 1 transcripts between
    # (they may be untranscribable, or need the text in between).
    if lo > 0 and i - lo < CONFIRM_REACH and m.start - start <= gap + sum(len(patterns[j]) + 1 for j in range(lo, i)):
        return True
    if hi < n_total and hi - 1 - i < CONFIRM_REACH and end - m.end <= gap + sum(len(patterns[j]) + 1 for j in range(i + 1, hi)):
        return True
    reach = 0
    for j in range(i - 1, max(lo, i - CONFIRM_REACH) - 1, -1):
        reach += len(patterns[j]) + 1
        if not patterns[j]:
            continue
        nb = index.find_best(patterns[j], max(start, m.start - gap - 2 * reach), m.start, params.search, params.min_score)
        if on_search is not None:
            on_search()
        if nb is not None and nb.score >= params.min_score and m.start - nb.end <= gap + reach:
            return True
    reach = 0
    for j in range(i + 1, min(hi, i + 1 + CONFIRM_REACH)):
        reach += len(patterns[j]) + 1
        if not patterns[j]:
            continue
        nb = index.find_best(patterns[j], m.end, min(end, m.end + gap + 2 * reach), params.search, params.min_score)
        if on_search is not None:
            on_search()
        if nb is not None and nb.score >= params.min_score and nb.start - m.end <= gap + reach:
            return True
    return False


def drop_isolated(matches: Sequence[Optional[Match]], patterns: Sequence[str],
                  params: RoughParams = RoughParams()) -> tuple[list[Optional[Match]], int]:
    """Unplace matches that are not part of a run (see RoughParams.min_run) and cannot stand
    alone (solo_score); returns the new list and how many were dropped. A log with fewer placed
    transcripts than `min_run` is left alone."""
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
                if not _solo(patterns[j], matches[j], params):
                    out[j] = None
                    dropped += 1
        run = [i] if i is not None else []
    return out, dropped
