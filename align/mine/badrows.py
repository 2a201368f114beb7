"""Rows that cannot be mined: NaN/Inf values, all-zero vectors, and exact duplicates within a side.

* A row with a NaN or Inf value has no defined cosine; faiss would train and search on garbage.
  By default the run fails with one line naming the shard, the row and how many values are bad;
  with `skip_bad_rows: true` such rows are skipped (reported in summary.json).
* An all-zero row has no direction (its cosine with anything is 0/0); it is always skipped and
  counted.
* Skipped rows stay in the row numbering (outputs keep global row numbers) but are read as zero
  vectors everywhere and can neither choose nor be chosen (their margins are -inf).
* Duplicate rows (the same segment embedded twice) are legal but distort margins: two equal
  candidates split every query's choice and raise each other's neighbourhood term. Groups of
  byte-identical rows are counted and reported in summary.json, with a few examples.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..common.errors import UserError
from .shards import ShardSet

SCAN_BLOCK = 8192  # rows per block (16 MB of float16 at dim 1024, plus masks of the same size)
EXAMPLES = 5


@dataclass
class RowReport:
    rows: int
    nonfinite: list[tuple[str, int, int]] = field(default_factory=list)  # (shard path, row in shard, bad values)
    zero_rows: int = 0
    skipped: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # global rows, sorted
    duplicate_rows: int = 0  # rows that repeat an earlier row
    duplicate_groups: int = 0
    duplicate_examples: list[list[int]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"nan_inf_rows": len(self.nonfinite),
                "nan_inf": [{"shard": s, "row": r, "count": c} for s, r, c in self.nonfinite[:100]],
                "zero_rows": self.zero_rows, "skipped_rows": int(len(self.skipped)),
                "duplicate_rows": self.duplicate_rows, "duplicate_groups": self.duplicate_groups,
                "duplicate_examples": self.duplicate_examples}


# IEEE bit masks per stored dtype: (unsigned view, exponent bits, all bits but the sign).
_BITS = {"float16": (np.uint16, 0x7C00, 0x7FFF), "float32": (np.uint32, 0x7F800000, 0x7FFFFFFF)}


def _row_keys(block: np.ndarray, mult: np.ndarray) -> np.ndarray:
    """A hash of each row's bytes (equal rows, equal keys): a wrapping dot product of the row's
    words with fixed odd multipliers. Collisions only cost a byte comparison in `_duplicates`."""
    width = next(w for w in (8, 4, 2, 1) if block.shape[1] * block.itemsize % w == 0)
    words = block.view(np.dtype(f"u{width}"))
    if width != 8:
        words = words.astype(np.uint64)
    return (words * mult[: words.shape[1]]).sum(axis=1, dtype=np.uint64)


def scan(ss: ShardSet, skip_bad_rows: bool) -> RowReport:
    """One pass over the memory-mapped shards (see module docstring).

    Works on the stored bits, without a float32 copy (that copy was most of the scan's time): a
    value is NaN or Inf when its exponent bits are all ones, and a row is zero when every value is
    0 or -0 apart from the sign bit."""
    rep = RowReport(rows=ss.rows)
    skipped = []
    uint, exp_bits, abs_bits = _BITS[ss.dtype]
    exp_bits, abs_bits = uint(exp_bits), uint(abs_bits)
    mult = np.random.default_rng(0).integers(1, 2**63, ss.dim * 4 + 8, dtype=np.uint64) | np.uint64(1)
    keys = np.zeros(ss.rows, np.uint64)
    valid = np.zeros(ss.rows, bool)
    for si, shard in enumerate(ss.shards):
        arr = shard.open()
        base = int(ss.starts[si])
        for start in range(0, shard.rows, SCAN_BLOCK):
            block = np.ascontiguousarray(arr[start : start + SCAN_BLOCK])
            bits = block.view(uint)
            nbad = ((bits & exp_bits) == exp_bits).sum(axis=1)
            for r in np.nonzero(nbad)[0].tolist():
                rep.nonfinite.append((shard.path, start + r, int(nbad[r])))
                skipped.append(base + start + r)
            zero = ~(bits & abs_bits).any(axis=1) & (nbad == 0)
            rep.zero_rows += int(zero.sum())
            skipped.extend((base + start + np.nonzero(zero)[0]).tolist())
            rows = slice(base + start, base + start + len(block))
            keys[rows] = _row_keys(block, mult)
            valid[rows] = (nbad == 0) & ~zero
    if rep.nonfinite and not skip_bad_rows:
        s, r, c = rep.nonfinite[0]
        raise UserError(f"{ss.key}: {len(rep.nonfinite)} row(s) with NaN or Inf values (first: '{s}' row {r}, "
                        f"{c} bad value(s)); fix the embeddings, or set skip_bad_rows: true to skip them")
    rep.skipped = np.unique(np.asarray(skipped, np.int64))
    _duplicates(ss, keys, valid, rep)
    return rep


def _row(ss: ShardSet, g: int) -> bytes:
    si = int(np.searchsorted(ss.starts, g, side="right") - 1)
    return np.asarray(ss.shards[si].open()[g - ss.starts[si]]).tobytes()


def _duplicates(ss: ShardSet, keys: np.ndarray, valid: np.ndarray, rep: RowReport) -> None:
    valid = np.nonzero(valid)[0]
    order = valid[np.argsort(keys[valid], kind="stable")]
    k = keys[order]
    same = np.nonzero(k[1:] == k[:-1])[0]
    if len(same) == 0:
        return
    groups: dict[bytes, list[int]] = {}
    cand = np.unique(np.concatenate([order[same], order[same + 1]]))
    for g in cand.tolist():
        groups.setdefault(_row(ss, g), []).append(g)
    dup = [sorted(v) for v in groups.values() if len(v) > 1]
    dup.sort()
    rep.duplicate_groups = len(dup)
    rep.duplicate_rows = sum(len(v) - 1 for v in dup)
    rep.duplicate_examples = [v[:10] for v in dup[:EXAMPLES]]
