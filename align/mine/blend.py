"""Candidate extraction after the margin, auxiliary scores, and the blended choice per row.

Each query row keeps its `k_extract` best candidates by margin; with auxiliary embeddings
each candidate gets an aux score and the row picks the candidate with the highest

    blended = alpha * margin + (1 - alpha) * aux.

Without auxiliary embeddings the blend is skipped: blended == margin exactly (alpha is not
applied), so the result is plain margin mining. Unlike the reference, the chosen candidate's
blended score is kept (for thresholding and sorting) and k_extract defaults to knn when aux
embeddings are present, so that the blend can actually re-rank.
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
    """One direction's pick per query row (rows without any valid candidate are dropped)."""

    query: np.ndarray  # int64 query rows
    other: np.ndarray  # int64 chosen row of the other language
    margin: np.ndarray  # float32
    aux: np.ndarray  # float32 (NaN without aux)
    blended: np.ndarray  # float32 (== margin without aux)


def top_candidates(margins: np.ndarray, k_extract: int) -> np.ndarray:
    """Column indices of each row's k_extract best margins, best first; ties keep neighbour order."""
    order = np.argsort(-margins, axis=1, kind="stable")
    return order[:, :k_extract]


def cosine_aux(q: np.ndarray, cands: np.ndarray) -> np.ndarray:
    """Cosine between each (normalised) query vector and its (normalised) candidates."""
    return np.einsum("nd,nmd->nm", q, cands, optimize=False)


def choose(margins: np.ndarray, ids: np.ndarray, k_extract: int, *, alpha: float,
           q_aux: Optional[ShardSet] = None, o_aux: Optional[ShardSet] = None, aux_fn: Optional[AuxFn] = None,
           batch_size: int = 8192, show_progress: bool = False, label: str = "") -> Choice:
    """Pick one candidate per query row (see module docstring)."""
    n = len(margins)
    cols = top_candidates(margins, k_extract)
    rows = np.arange(n)[:, None]
    m_k = margins[rows, cols]  # (n, k_extract)
    id_k = ids[rows, cols]
    if q_aux is None:
        pick = np.zeros(n, dtype=np.int64)  # the best margin (first column)
        aux_k = None
        blended_k = m_k
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
                    cv = _gather_raw(o_aux, safe.ravel()).reshape(len(qv), k_extract, -1)
                else:
                    cv = gather_rows(o_aux, safe.ravel()).reshape(len(qv), k_extract, -1)
                a = fn(qv, cv).astype(np.float32)
                aux_k[sl] = np.where(valid, a, np.nan)
                bar.update(len(qv))
        bar.close()
        blended_k = alpha * m_k + (1.0 - alpha) * aux_k
        blended_k = np.where(np.isfinite(blended_k), blended_k, -np.inf).astype(np.float32)
        pick = np.argmax(blended_k, axis=1)  # first maximum on ties
    r = np.arange(n)
    chosen_margin = m_k[r, pick]
    keep = np.isfinite(chosen_margin) & (id_k[r, pick] >= 0)
    blended = blended_k[r, pick]
    keep &= np.isfinite(blended)
    return Choice(
        query=r[keep].astype(np.int64),
        other=id_k[r, pick][keep].astype(np.int64),
        margin=chosen_margin[keep].astype(np.float32),
        aux=(aux_k[r, pick][keep] if aux_k is not None else np.full(int(keep.sum()), np.nan)).astype(np.float32),
        blended=blended[keep].astype(np.float32),
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
