"""kNN search of one language's shards against the other language's index.

Queries are streamed block by block from the memory-mapped shards; the result of each query
shard is checkpointed atomically in the cache, so an interrupted run resumes with the first
shard that is not done, and a rerun with new margin/blend/threshold settings reads them back.

The search blocks have a fixed size (SEARCH_BLOCK rows from each shard's start), not
`batch_size`: faiss's matrix products round differently for differently shaped blocks, and the
scores, hence the output bytes, must not depend on a memory setting.

A checkpoint is checked before use (readable, the expected shapes, neighbour ids within the other
language's rows, cosines within [-1, 1]); a damaged one is reported, removed and recomputed.
"""

from __future__ import annotations

import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from ..common.executors import Executor
from ..common.fileio import atomic_path, remove_stale_temps
from ..common.hashing import sha256_json
from ..common.progress import progress
from .shards import Shard, ShardSet, iter_blocks

log = logging.getLogger(__name__)

KNN_VERSION = 2  # 2: fixed search blocks, content-hashed shards
SEARCH_BLOCK = 4096  # query rows per faiss search call (see the module docstring); 1024 was ~15% slower


@dataclass(frozen=True)
class KnnJob:
    """Search one query shard; everything a (possibly remote) worker needs, all picklable."""

    index_path: str
    shard: Shard
    k: int
    nprobe: int
    batch_size: int
    gpu: bool
    out_path: str


@dataclass
class KnnResult:
    sims: np.ndarray  # (n, k) float32 cosines, best first; NaN where no neighbour
    ids: np.ndarray  # (n, k) int64 global rows of the other language; -1 where none
    computed_shards: int = 0  # query shards searched in this run (the rest came from the cache)


def knn_dir(cache_dir: Path, label: str, query: ShardSet, index_key: str, k: int, nprobe: int, gpu: bool) -> Path:
    key = sha256_json({"v": KNN_VERSION, "query": query.identity(), "index": index_key, "k": k,
                       "nprobe": nprobe, "gpu": gpu})[:24]
    return Path(cache_dir) / "knn" / f"{label}.{key}"


def search_block(index, block: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    k_eff = min(k, index.ntotal)
    dist, ids = index.search(block, k_eff)
    ids = ids.astype(np.int64, copy=False)
    sims = dist.astype(np.float32, copy=False)
    # faiss pads with id -1 when it finds fewer than k candidates (small IVF probes); the
    # reference cast those to uint32 and crashed. Keep them as -1 with a NaN similarity.
    sims = np.where(ids < 0, np.float32(np.nan), sims)
    if k_eff < k:
        pad = k - k_eff
        sims = np.pad(sims, ((0, 0), (0, pad)), constant_values=np.nan)
        ids = np.pad(ids, ((0, 0), (0, pad)), constant_values=-1)
    return sims, ids


def run_job(job: KnnJob, index=None) -> str:
    """Search one query shard and write its checkpoint (sims, ids). Returns the file path."""
    from .index import load_index

    if index is None:
        index = load_index(Path(job.index_path), job.nprobe, job.gpu)
    sims = np.empty((job.shard.rows, job.k), np.float32)
    ids = np.empty((job.shard.rows, job.k), np.int64)
    for start, block in iter_blocks(job.shard, SEARCH_BLOCK):
        s, i = search_block(index, block, job.k)
        sims[start : start + len(block)] = s
        ids[start : start + len(block)] = i
    with atomic_path(job.out_path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, sims=sims, ids=ids)
    return job.out_path


def checkpoint_problem(path: Path, rows: int, k: int, n_other: int) -> tuple[Optional[str], Optional[tuple]]:
    """(None, (sims, ids)) for a usable checkpoint; (reason, None) for a damaged one."""
    try:
        with np.load(path) as z:
            sims, ids = z["sims"], z["ids"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        return f"unreadable: {type(e).__name__}", None
    if sims.shape != (rows, k) or ids.shape != (rows, k):
        return f"shape {sims.shape}/{ids.shape}, expected ({rows}, {k})", None
    if ids.dtype.kind not in "iu" or sims.dtype != np.float32:
        return f"dtypes {sims.dtype}/{ids.dtype}", None
    if ids.size and (ids.min() < -1 or ids.max() >= n_other):
        return f"neighbour ids outside 0..{n_other - 1}", None
    valid = ids >= 0
    s = sims[valid]
    if not np.all(np.isfinite(s)) or (s.size and (s.min() < -1.01 or s.max() > 1.01)):
        return "cosines outside [-1, 1]", None
    return None, (sims, ids.astype(np.int64, copy=False))


def load_checkpoint(path: Path, rows: int, k: int, n_other: int) -> Optional[tuple[np.ndarray, np.ndarray]]:
    """A finished query shard's result, or None if missing; a damaged one is reported in one
    warning and removed (it will be recomputed)."""
    if not path.exists():
        return None
    problem, got = checkpoint_problem(path, rows, k, n_other)
    if problem is not None:
        log.warning("kNN checkpoint %s is damaged (%s): removed, recomputing it", path, problem)
        path.unlink(missing_ok=True)
        return None
    return got


# Per worker process (or Ray actor) only: the index its setup loaded, used for every shard it searches.
_WORKER: dict = {}


def _load_worker_index(index_path: str, nprobe: int, gpu: bool) -> None:
    from .index import load_index

    _WORKER["index"] = load_index(Path(index_path), nprobe, gpu)


def _search_shard(job: KnnJob) -> str:
    return run_job(job, _WORKER["index"])


def run_knn(query: ShardSet, index_path: Path, out_dir: Path, *, k: int, nprobe: int, batch_size: int,
            gpu: bool, n_other: int, executor: Optional[Executor] = None, show_progress: bool = True,
            label: str = "", on_shard_done: Optional[Callable[[str, int], None]] = None) -> KnnResult:
    """kNN of every query row; per-shard checkpoints in `out_dir` make the step resumable.

    `executor` (align.common.executors) searches the query shards in its workers, each loading
    the index once; None searches them here, one after the other.

    `on_shard_done(label, shard_no)` is a library hook (not exposed on the CLI) called after each
    shard's checkpoint is written; tests use it to simulate a crash mid-step.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out_dir)
    jobs = [KnnJob(index_path=str(index_path), shard=s, k=k, nprobe=nprobe, batch_size=batch_size, gpu=gpu,
                   out_path=str(out_dir / f"q{i:05d}.npz")) for i, s in enumerate(query.shards)]
    todo = [i for i, j in enumerate(jobs) if load_checkpoint(Path(j.out_path), j.shard.rows, k, n_other) is None]
    if len(todo) < len(jobs):
        log.info("%s: %d of %d query shards already searched (cache)", label, len(jobs) - len(todo), len(jobs))
    if todo:
        if executor is not None:
            bar = progress(total=len(todo), enabled=show_progress, desc=f"kNN {label} ({executor.name})",
                           unit="shards")
            setup = (_load_worker_index, (str(index_path), nprobe, gpu))
            for res in executor.imap_unordered(_search_shard, [jobs[i] for i in todo], setup=setup):
                if not res.ok:
                    raise RuntimeError(f"kNN of {jobs[todo[res.index]].shard.path} failed in a worker: {res.error}")
                bar.update(1)
                if on_shard_done is not None:
                    on_shard_done(label, todo[res.index])
            bar.close()
        else:
            from .index import load_index

            index = load_index(index_path, nprobe, gpu)
            bar = progress(total=sum(jobs[i].shard.rows for i in todo), enabled=show_progress,
                           desc=f"kNN {label}", unit="rows")
            for i in todo:
                run_job(jobs[i], index)
                bar.update(jobs[i].shard.rows)
                if on_shard_done is not None:
                    on_shard_done(label, i)
            bar.close()
            del index
    sims = np.empty((query.rows, k), np.float32)
    ids = np.empty((query.rows, k), np.int64)
    starts = query.starts
    for i, job in enumerate(jobs):
        problem, got = checkpoint_problem(Path(job.out_path), job.shard.rows, k, n_other)
        if problem is not None:
            raise RuntimeError(f"kNN result for {job.shard.path} is not usable right after the search: {problem}")
        sims[starts[i] : starts[i + 1]], ids[starts[i] : starts[i + 1]] = got
    return KnnResult(sims=sims, ids=ids, computed_shards=len(todo))
