"""Per-utterance metrics, the `--output-<id>` flags and the `--output-min/max-<id>` filters.

All rates and similarities are fractions (1.0 = 100%); lengths are character counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from .similarity import WngParams, cer, similarity, wer

METRIC_IDS = ("tlen", "mlen", "sws", "wng", "jaro_winkler", "editex", "levenshtein", "mra", "hamming", "cer", "wer")
METRIC_NAMES = {
    "tlen": "transcript length",
    "mlen": "match length",
    "sws": "Smith-Waterman score",
    "wng": "weighted n-gram similarity",
    "jaro_winkler": "Jaro-Winkler similarity",
    "editex": "Editex similarity",
    "levenshtein": "Levenshtein similarity",
    "mra": "MRA similarity",
    "hamming": "Hamming similarity",
    "cer": "character error rate",
    "wer": "word error rate",
}
INT_METRICS = frozenset({"tlen", "mlen"})


@dataclass(frozen=True)
class Bound:
    metric: str
    min: Optional[float] = None
    max: Optional[float] = None


@dataclass(frozen=True)
class FilterParams:
    output: tuple[str, ...] = ()        # metrics written to every utterance, in METRIC_IDS order
    bounds: tuple[Bound, ...] = ()      # a bound of 0 is a real bound
    wng: WngParams = field(default_factory=WngParams)

    def needed(self) -> tuple[str, ...]:
        want = set(self.output) | {b.metric for b in self.bounds}
        return tuple(m for m in METRIC_IDS if m in want)


def metric_value(metric: str, transcript: str, aligned: str, sws: float, wng: WngParams) -> float:
    """`transcript` and `aligned` are both clean text (the model's alphabet)."""
    if metric == "tlen":
        return len(transcript)
    if metric == "mlen":
        return len(aligned)
    if metric == "sws":
        return sws
    if metric == "cer":
        return cer(transcript, aligned)
    if metric == "wer":
        return wer(transcript, aligned)
    return similarity(metric, aligned, transcript, wng, direction=0)


def evaluate(transcript: str, aligned: str, sws: float, params: FilterParams) -> tuple[dict[str, float], Optional[str]]:
    """(the metrics to output, the drop reason or None). Every bound is checked, in id order."""
    values: dict[str, float] = {}
    bounds = {b.metric: b for b in params.bounds}
    reason = None
    for m in params.needed():
        v = metric_value(m, transcript, aligned, sws, params.wng)
        values[m] = v
        b = bounds.get(m)
        if reason is None and b is not None:
            if b.min is not None and v < b.min:
                reason = f"{m} below {b.min:g}"
            elif b.max is not None and v > b.max:
                reason = f"{m} above {b.max:g}"
    return {m: values[m] for m in METRIC_IDS if m in params.output}, reason
