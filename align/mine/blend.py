"""Candidate extraction after the margin, auxiliary scores, and the blended choice per row.

Each query row ranks its neighbours by margin. Without auxiliary embeddings the row's
`k_extract` best candidates by margin are extracted (blended == margin exactly; alpha is not
applied). With auxiliary embeddings the `blend_candidates` best candidates by margin get an
aux score each, and the row extracts the `k_extract` candidates with the highest

    blended = alpha * margin + (1 - alpha) * aux.

`k_extract` has the reference's meaning (up to k pairs per row); `blend_candidates` is the
project's own key for the blend's candidate set (the reference used k_extract for both, which
made its blend a no-op at its default k_extract 1). The chosen candidate's blended score is
kept (for thresholding and sorting).

For the adaptive threshold each row also reports its runner-up: the best margin (and blended
score) among the candidates it did not extract, a sample of what a non-translation scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from ..common.progress import progress
from .shards import ShardSet, gather_rows, iter_blocks, load_normalised

# Candidate aux vectors are fetched by random row access. When the other side's aux embeddings
# fit in this budget (200k x 128 float32 is 100 MB) they are read into memory once, which is
# several times faster than gathering from the memory-mapped shards block by block.
AUX_IN_MEMORY_BYTES = 1 << 30

AuxFn = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (q (n,d), cands (n,m,d)) -> (n,m)


@dataclass
class Choice:
    """One direction's picks: up to k_extract per query row, best first within a row (rows without
    any valid candidate contribute nothing)."""

    query: np.ndarray  # int64 query rows
    other: np.ndarray  # int64 chosen row of the other language
    margin: np.ndarray  # float32
    aux: np.ndarray  # float32 (NaN without aux)
    blended: np.ndarray  # float32 (== margin without aux)
    # per query row (length = all query rows): best value among the candidates not extracted;
    # -inf where there is none (k = 1 or every other neighbour missing)
    runner_up_margin: Optional[np.ndarray] = None
    runner_up_blended: Optional[np.ndarray] = None


def top_candidates(margins: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's k best margins, best first; ties keep neighbour order."""
    order = np.argsort(-margins, axis=1, kind="stable")
    return order[:, :k]


def cosine_aux(q: np.ndarray, cands: np.ndarray) -> np.ndarray:
    """Cosine between each (normalised) query vector and its (normalised) candidates."""
    return np.einsum("nd,nmd->nm", q, cands, optimize=False)


def _best_excluding(values: np.ndarray, taken: np.ndarray) -> np.ndarray:
    """Row-wise maximum of `values` over the columns not in `taken` (n, j); -inf if none."""
    v = values.copy()
    np.put_along_axis(v, taken, -np.inf, axis=1)
    return v.max(axis=1, initial=-np.inf)


def choose(margins: np.ndarray, ids: np.ndarray, k_extract: int = 1, *, alpha: float,
           blend_candidates: Optional[int] = None, q_aux: Optional[ShardSet] = None,
           o_aux: Optional[ShardSet] = None, aux_fn: Optional[AuxFn] = None, batch_size: int = 8192,
           show_progress: bool = False, label: str = "") -> Choice:
    """Extract up to k_extract candidates per query row (see module docstring)."""
    n, k = margins.shape
    k_extract = min(k_extract, k)
    m_cands = k_extract if q_aux is None else min(k, max(k_extract, blend_candidates or k))
    cols = top_candidates(margins, m_cands)
    rows = np.arange(n)[:, None]
    m_k = margins[rows, cols]  # (n, m_cands), margin descending
    id_k = ids[rows, cols]
    if q_aux is None:
        aux_k = None
        blended_k = m_k
        pick = np.broadcast_to(np.arange(k_extract), (n, k_extract))  # already best first
    else:
        aux_k = np.full(m_k.shape, np.nan, dtype=np.float32)
        fn = aux_fn or cosine_aux
        # A comparator (AutoPCP) gets its input features as they are: it normalises them itself
        # when it was trained so (norm_emb); the cosine works on unit vectors.
        raw = aux_fn is not None
        fits = o_aux.rows * o_aux.dim * 4 <= AUX_IN_MEMORY_BYTES
        in_mem = (_load_raw(o_aux) if raw else load_normalised(o_aux)) if fits else None
        bar = progress(total=n, enabled=show_progress, desc=f"aux {label}", unit="rows")
        for sh_i, shard in enumerate(q_aux.shards):
            base = int(q_aux.starts[sh_i])
            for start, qv in (_raw_blocks(shard, batch_size) if raw else iter_blocks(shard, batch_size)):
                sl = slice(base + start, base + start + len(qv))
                cid = id_k[sl]
                valid = cid >= 0
                safe = np.where(valid, cid, 0)
                if in_mem is not None:
                    cv = in_mem[safe]
                elif raw:
                    cv = _gather_raw(o_aux, safe.ravel()).reshape(len(qv), m_cands, -1)
                else:
                    cv = gather_rows(o_aux, safe.ravel()).reshape(len(qv), m_cands, -1)
                a = fn(qv, cv).astype(np.float32)
                aux_k[sl] = np.where(valid, a, np.nan)
                bar.update(len(qv))
        bar.close()
        blended_k = alpha * m_k + (1.0 - alpha) * aux_k
        blended_k = np.where(np.isfinite(blended_k), blended_k, -np.inf).astype(np.float32)
        # stable: equal blended scores keep the margin order (first maximum wins, as before)
        pick = np.argsort(-blended_k, axis=1, kind="stable")[:, :k_extract]
    # runner-ups: margin over every neighbour column not extracted; blended over the blend set
    taken_cols = np.take_along_axis(cols, pick, axis=1)
    runner_m = _best_excluding(margins, taken_cols)
    runner_b = runner_m if aux_k is None else _best_excluding(blended_k, pick)
    r = np.repeat(np.arange(n), k_extract)
    pick_f = pick.reshape(-1)
    chosen_margin = m_k[r, pick_f]
    chosen_id = id_k[r, pick_f]
    blended = blended_k[r, pick_f]
    keep = np.isfinite(chosen_margin) & (chosen_id >= 0) & np.isfinite(blended)
    return Choice(
        query=r[keep].astype(np.int64),
        other=chosen_id[keep].astype(np.int64),
        margin=chosen_margin[keep].astype(np.float32),
        aux=(aux_k[r, pick_f][keep] if aux_k is not None else np.full(int(keep.sum()), np.nan)).astype(np.float32),
        blended=blended[keep].astype(np.float32),
        runner_up_margin=runner_m.astype(np.float32),
        runner_up_blended=runner_b.astype(np.float32),
    )


def _raw_blocks(shard, batch_size: int):
    arr = shard.open()
    for start in range(0, shard.rows, batch_size):
        yield start, np.asarray(arr[start : start + batch_size], dtype=np.float32)


def _load_raw(ss: ShardSet) -> np.ndarray:
    return np.concatenate([np.asarray(s.open(), dtype=np.float32) for s in ss.shards])


def _gather_raw(ss: ShardSet, rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.int64)
    out = np.zeros((len(rows), ss.dim), dtype=np.float32)
    shard_of = np.searchsorted(ss.starts, rows, side="right") - 1
    for si in np.unique(shard_of):
        sel = np.nonzero(shard_of == si)[0]
        out[sel] = ss.shards[si].open()[rows[sel] - ss.starts[si]]
    return out
