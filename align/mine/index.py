"""faiss indexes over one language's shards: choice by size, seeded training sample, shard-by-shard
population, exact re-scoring stage, on-disk cache keyed by inputs and settings."""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from ..common.errors import UserError
from ..common.fileio import atomic_path, atomic_write_text, remove_stale_temps
from ..common.hashing import sha256_file, sha256_json
from ..common.progress import progress
from .shards import ShardSet, gather_rows, iter_blocks

log = logging.getLogger(__name__)

INDEX_VERSION = 1  # bump when the way an index is built changes
TRAIN_PER_LIST = 40  # faiss k-means wants at least 39 points per centroid


def choose_factory(rows: int, dim: int, exact_max_rows: int) -> str:
    """Index type by size, in the spirit of the reference's table but sized for CPUs.

    Up to `exact_max_rows` rows: exact inner product (Flat). Beyond: an IVF coarse quantiser with
    about sqrt(n) lists (the reference uses ~n/50 lists, whose k-means training alone would take
    minutes on a few cores at dim 1024) and 4-bit fast-scan PQ codes with 32-dimensional
    sub-vectors; the PQ scores only rank candidates, which the refine stage re-scores exactly.
    """
    if rows <= exact_max_rows:
        return "Flat"
    nlist = 1 << max(6, math.ceil(math.log2(math.sqrt(rows))))
    nlist = min(nlist, 65536)
    m = dim // 32
    if dim % 32 == 0 and m >= 2 and m % 2 == 0:
        codes = f"PQ{m}x4fs"
    else:
        codes = "SQ8"
    return f"IVF{nlist},{codes}"


@dataclass(frozen=True)
class IndexParams:
    factory: str
    refine: Optional[str]  # None | "SQfp16" | "Flat": exact re-scoring storage
    rescore_factor: int
    train_sample: int
    seed: int

    def key(self, shards: ShardSet) -> str:
        return sha256_json({"v": INDEX_VERSION, "params": asdict(self), "shards": shards.identity()})[:24]


def _faiss():
    import faiss

    return faiss


def make_params(shards: ShardSet, factory: Optional[str], exact_max_rows: int, rescore_factor: int,
                fp16: Optional[bool], train_sample: Optional[int], seed: int, key: str) -> IndexParams:
    faiss = _faiss()
    factory = factory or choose_factory(shards.rows, shards.dim, exact_max_rows)
    try:
        probe = faiss.index_factory(shards.dim, factory, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as e:
        msg = str(e).strip().splitlines()[-1] if str(e).strip() else "invalid"
        raise UserError(f"{key}: faiss cannot build index_type '{factory}' for dimension {shards.dim}: {msg}") from None
    exact = is_exact(probe)
    has_refine = "refine" in factory.lower() or "rflat" in factory.lower()
    refine = None
    if not exact and not has_refine and rescore_factor > 0:
        use_fp16 = (shards.dtype == "float16") if fp16 is None else fp16
        refine = "SQfp16" if use_fp16 else "Flat"
    nlist = _nlist(probe)
    want = train_sample if train_sample is not None else TRAIN_PER_LIST * max(nlist, 256 if "PQ" in factory else 1)
    need_training = not probe.is_trained
    return IndexParams(factory=factory, refine=refine, rescore_factor=rescore_factor if refine else 0,
                       train_sample=min(want, shards.rows) if need_training else 0, seed=seed)


def is_exact(index) -> bool:
    faiss = _faiss()
    return isinstance(faiss.downcast_index(index), faiss.IndexFlat)


def _nlist(index) -> int:
    faiss = _faiss()
    try:
        return faiss.extract_index_ivf(index).nlist
    except (RuntimeError, AttributeError):
        return 1


def _create(dim: int, params: IndexParams):
    faiss = _faiss()
    factory = params.factory
    if params.refine == "SQfp16":
        factory += ",Refine(SQfp16)"
    elif params.refine == "Flat":
        factory += ",RFlat"
    index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
    if params.refine:
        faiss.downcast_index(index).k_factor = float(params.rescore_factor)
    return index


def build_index(shards: ShardSet, params: IndexParams, cache_dir: Path, *, show_progress: bool = True,
                label: str = "") -> tuple[Path, bool]:
    """Train (if needed) and populate the index, or reuse the cached file. Returns (path, cached)."""
    faiss = _faiss()
    path = Path(cache_dir) / "index" / f"{label or 'lang'}.{params.key(shards)}.faiss"
    if remove_stale_temps(path.parent):
        log.info("%s: removed unfinished index files of interrupted runs in %s", label, path.parent)
    sums = path.with_name(path.name + ".sha256")
    if path.exists():
        # A truncated index file makes faiss raise deep inside the search: check the checksum
        # written with it first.
        try:
            ok = sums.read_text(encoding="ascii").strip() == sha256_file(path)
        except OSError:
            ok = False
        if ok:
            log.info("%s: reusing cached index %s", label, path)
            return path, True
        log.warning("%s: cached index %s is damaged (checksum mismatch or missing): removed, rebuilding it",
                    label, path)
        path.unlink(missing_ok=True)
    index = _create(shards.dim, params)
    if not index.is_trained:
        rng = np.random.default_rng(params.seed)
        rows = np.sort(rng.choice(shards.rows, size=params.train_sample, replace=False))
        log.info("%s: training %s on %d sampled rows", label, params.factory, len(rows))
        sample = gather_rows(shards, rows)
        index.train(sample)
        del sample
    bar = progress(total=shards.rows, enabled=show_progress, desc=f"index {label}", unit="rows")
    for shard in shards.shards:  # populated shard by shard, block by block: memory stays bounded
        for _, block in iter_blocks(shard, 16384):
            index.add(block)
            bar.update(len(block))
    bar.close()
    if index.ntotal != shards.rows:
        raise RuntimeError(f"index holds {index.ntotal} rows, expected {shards.rows}")
    with atomic_path(path) as tmp:
        faiss.write_index(index, str(tmp))
        digest = sha256_file(tmp)
    atomic_write_text(sums, digest + "\n")
    return path, False


def load_index(path: Path, nprobe: int, gpu: bool):
    """Read a cached index and set its search-time parameters (nprobe, optional GPU clone)."""
    faiss = _faiss()
    index = faiss.read_index(str(path))
    try:
        faiss.extract_index_ivf(index).nprobe = nprobe
    except (RuntimeError, AttributeError):
        pass  # not an IVF index
    if gpu:
        index = to_gpu(index)
    return index


def to_gpu(index):
    faiss = _faiss()
    ngpu = faiss.get_num_gpus() if hasattr(faiss, "get_num_gpus") else 0
    if ngpu == 0:
        log.warning("--gpu: faiss sees no GPU (faiss-cpu build or no device); searching on the CPU. "
                    "For GPU search install a faiss GPU build, e.g. `pip install faiss-gpu-cu12`.")
        return index
    try:
        co = faiss.GpuMultipleClonerOptions()
        co.useFloat16 = True
        co.shard = True
        return faiss.index_cpu_to_all_gpus(index, co=co)
    except (RuntimeError, AttributeError) as e:
        log.warning("--gpu: this index type cannot run on the GPU (%s); searching on the CPU", e)
        return index
