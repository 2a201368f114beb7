"""Combine the two directions' choices by mine type, threshold, order and de-duplicate."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .blend import Choice
from .config import Dedup, MineType, ThresholdOn

class Direction(enum.IntEnum):
    """The one encoding of a mining direction. FWD: source rows query the target index (the
    search called "x2y" in summaries and cache names); BWD: the reverse ("y2x"); BOTH: a pair
    found both ways. The int is the code in `Pairs.direction`, `label` the name in pairs.tsv."""

    FWD = 1
    BWD = 2
    BOTH = 3

    @property
    def label(self) -> str:
        return ("fwd", "bwd", "both")[self - 1]

    @property
    def key(self) -> str:
        return ("x2y", "y2x", "both")[self - 1]

    @property
    def reverse(self) -> "Direction":
        return {Direction.FWD: Direction.BWD, Direction.BWD: Direction.FWD}.get(self, self)

    @classmethod
    def searches(cls, mine_type: MineType) -> list["Direction"]:
        """The searches whose choices a mine type combines."""
        return {MineType.FORWARD: [cls.FWD], MineType.BACKWARD: [cls.BWD]}.get(mine_type, [cls.FWD, cls.BWD])


FWD, BWD, BOTH = Direction.FWD, Direction.BWD, Direction.BOTH


@dataclass
class Pairs:
    src: np.ndarray  # int64
    tgt: np.ndarray  # int64
    margin: np.ndarray  # float32
    aux: np.ndarray  # float32, NaN without aux
    score: np.ndarray  # float32: blended (== margin without aux)
    direction: np.ndarray  # int8: FWD | BWD | BOTH

    def __len__(self) -> int:
        return len(self.src)

    def take(self, idx: np.ndarray) -> "Pairs":
        return Pairs(self.src[idx], self.tgt[idx], self.margin[idx], self.aux[idx], self.score[idx],
                     self.direction[idx])

    def value(self, on: ThresholdOn) -> np.ndarray:
        return self.score if on is ThresholdOn.BLENDED else self.margin


def _as_pairs(c: Choice, forward: bool) -> Pairs:
    src, tgt = (c.query, c.other) if forward else (c.other, c.query)
    d = np.full(len(src), FWD if forward else BWD, dtype=np.int8)
    return Pairs(src, tgt, c.margin, c.aux, c.blended, d)


def _concat(ps: list[Pairs]) -> Pairs:
    return Pairs(*(np.concatenate([getattr(p, f) for p in ps]) for f in
                   ("src", "tgt", "margin", "aux", "score", "direction")))


def sort_pairs(p: Pairs) -> Pairs:
    """Score descending; ties by margin descending, then src row, then tgt row (deterministic)."""
    order = np.lexsort((p.tgt, p.src, -p.margin.astype(np.float64), -p.score.astype(np.float64)))
    return p.take(order)


def combine(fwd: Optional[Choice], bwd: Optional[Choice], mine_type: MineType) -> Pairs:
    """Candidate pairs of the mine type, best score first; a pair found in both directions appears
    once ('both'). Every mine type leaves here sorted, so that one_to_one and meta dedup, which keep
    the first pair they meet, keep the best one (not the first row)."""
    if mine_type is MineType.FORWARD:
        return sort_pairs(_as_pairs(fwd, True))
    if mine_type is MineType.BACKWARD:
        return sort_pairs(_as_pairs(bwd, False))
    f, b = _as_pairs(fwd, True), _as_pairs(bwd, False)
    allp = sort_pairs(_concat([f, b]))  # best first, so the kept copy of a duplicate is the best one
    key = allp.src.astype(np.int64) * (int(max(allp.tgt.max(initial=0), 0)) + 1) + allp.tgt
    uniq, first, counts = np.unique(key, return_index=True, return_counts=True)
    allp.direction[first[counts > 1]] = BOTH
    if mine_type is MineType.INTERSECTION:
        first = first[counts > 1]
    return sort_pairs(allp.take(np.sort(first)))


def threshold(p: Pairs, on: ThresholdOn, minimum: float, maximum: Optional[float]) -> Pairs:
    v = p.value(on)
    keep = v >= minimum
    if maximum is not None:
        keep &= v <= maximum
    return p.take(np.nonzero(keep)[0])


def one_to_one(p: Pairs) -> Pairs:
    """Greedy in the current (score) order: keep a pair only if neither row was used before.
    A plain loop: numpy has no vectorised form of this sequential rule and n is the number of
    thresholded pairs (small)."""
    used_s: set[int] = set()
    used_t: set[int] = set()
    keep = []
    for i, (s, t) in enumerate(zip(p.src.tolist(), p.tgt.tolist())):
        if s in used_s or t in used_t:
            continue
        used_s.add(s)
        used_t.add(t)
        keep.append(i)
    return p.take(np.asarray(keep, dtype=np.int64))


def dedup_meta(p: Pairs, src_meta: dict[int, str], tgt_meta: dict[int, str]) -> Pairs:
    """Keep the first (best) pair of each (src meta, tgt meta) text, as the reference's dedup."""
    seen: set[tuple[str, str]] = set()
    keep = []
    for i, (s, t) in enumerate(zip(p.src.tolist(), p.tgt.tolist())):
        k = (src_meta.get(s, f"#{s}"), tgt_meta.get(t, f"#{t}"))
        if k in seen:
            continue
        seen.add(k)
        keep.append(i)
    return p.take(np.asarray(keep, dtype=np.int64))


def select(fwd: Optional[Choice], bwd: Optional[Choice], *, mine_type: MineType, on: ThresholdOn,
           minimum: float, maximum: Optional[float], dedup: Dedup,
           src_meta: Optional[dict] = None, tgt_meta: Optional[dict] = None) -> Pairs:
    p = threshold(combine(fwd, bwd, mine_type), on, minimum, maximum)
    if dedup is Dedup.ONE_TO_ONE:
        p = one_to_one(p)
    elif dedup is Dedup.META:
        p = dedup_meta(p, src_meta or {}, tgt_meta or {})
    return p
