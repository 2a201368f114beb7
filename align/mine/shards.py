"""Embedding shards: discovery, ordering, header checks, memory-mapped normalised blocks, meta lines.

Rows are numbered globally across a language's shards in shard order; that global row number
is what the index returns and what pairs.tsv.gz reports.
"""

from __future__ import annotations

import dataclasses
import glob as globmod
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from ..common.errors import UserError

# A shard number is a run of 3+ digits between dots (`emb.007.npy`, `x.00012.fp16.npy`);
# the last such run in the file name wins.
_SHARD_NO = re.compile(r"\.(\d{3,})(?=\.)")
_DTYPES = ("float16", "float32")


def shard_number(path: str) -> Optional[int]:
    found = _SHARD_NO.findall(os.path.basename(path))
    return int(found[-1]) if found else None


def discover(pattern: str, key: str) -> list[str]:
    """Files matching `pattern`, ordered by shard number.

    Without any `.NNN.` numbers the order is by file name (defined, documented); a mix of
    numbered and unnumbered files, or two files with the same number, is an error because
    the row order would be a guess.
    """
    paths = sorted(globmod.glob(pattern))
    if not paths:
        raise UserError(f"{key}: no file matches the glob '{pattern}'")
    for p in paths:  # a shard silently left out would shift every later row number
        if not os.path.isfile(p):
            raise UserError(f"{key}: '{p}' matches the glob '{pattern}' but is {_not_file(p)}; "
                            f"remove it or narrow the glob")
    numbers = [shard_number(p) for p in paths]
    if all(n is None for n in numbers):
        return paths
    if any(n is None for n in numbers):
        odd = paths[numbers.index(None)]
        raise UserError(f"{key}: '{odd}' has no .NNN. shard number but other files matching "
                        f"'{pattern}' do; name every shard like name.000.npy, name.001.npy, ...")
    seen: dict[int, str] = {}
    for n, p in zip(numbers, paths):
        if n in seen:
            raise UserError(f"{key}: '{seen[n]}' and '{p}' have the same shard number {n:03d}")
        seen[n] = p
    return [seen[n] for n in sorted(seen)]


def _not_file(p: str) -> str:
    if os.path.islink(p):
        try:
            os.stat(p)
        except FileNotFoundError:
            return f"a dangling symlink (to '{os.readlink(p)}')"
        except OSError as e:
            return f"a symlink that cannot be followed ({e.strerror})"
    if os.path.isdir(p):
        return "a directory"
    return "not a regular file"


def content_hash(path: str, chunk: int = 8 << 20) -> str:
    """sha256 of a shard's bytes: the cache key must change when the content does, even when a
    rewrite keeps the size and the modification time (about 0.5 GB/s; hashlib releases the GIL,
    so shards are hashed in parallel threads)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class Shard:
    path: str
    rows: int
    dim: int
    dtype: str
    sha256: Optional[str] = None  # content hash (embedding shards: what cache keys depend on)

    def identity(self) -> dict:
        """What the cache key depends on: the content hash and the header's shape/dtype (not the
        path or modification time: a moved data directory keeps its cache, a rewritten shard
        does not)."""
        if self.sha256 is None:
            raise AssertionError(f"{self.path}: shard opened without its content hash")
        return {"sha256": self.sha256, "rows": self.rows, "dim": self.dim, "dtype": self.dtype}

    def open(self) -> np.ndarray:
        return np.load(self.path, mmap_mode="r")


@dataclass(frozen=True)
class ShardSet:
    """One language's embedding (or aux embedding) shards."""

    key: str
    shards: tuple[Shard, ...]

    @property
    def dim(self) -> int:
        return self.shards[0].dim

    @property
    def dtype(self) -> str:
        return self.shards[0].dtype

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.shards)

    @property
    def starts(self) -> np.ndarray:
        """Global row number of each shard's first row (and the total at the end)."""
        return np.concatenate([[0], np.cumsum([s.rows for s in self.shards])]).astype(np.int64)

    def identity(self) -> list:
        return [s.identity() for s in self.shards]


def open_shard(path: str, key: str) -> Shard:
    try:
        arr = np.load(path, mmap_mode="r")
    except (ValueError, OSError, EOFError) as e:
        raise UserError(f"{key}: '{path}' is not a readable .npy file ({e})") from None
    if not isinstance(arr, np.ndarray):
        raise UserError(f"{key}: '{path}' is not a single .npy array")
    if arr.ndim != 2:
        raise UserError(f"{key}: '{path}' has shape {arr.shape}; expected rows x dim")
    if arr.dtype.name not in _DTYPES:
        raise UserError(f"{key}: '{path}' has dtype {arr.dtype}; expected float16 or float32")
    if not arr.flags.c_contiguous:
        raise UserError(f"{key}: '{path}' is stored in Fortran order; save it C-ordered")
    return Shard(path=path, rows=int(arr.shape[0]), dim=int(arr.shape[1]), dtype=arr.dtype.name)


def open_shards(pattern: str, key: str, dim: Optional[int] = None, hash_content: bool = False) -> ShardSet:
    """Discover and check a glob's shards: 2-D float16/float32, one dimension, one dtype.
    hash_content: also compute each shard's content hash (for shards that key a cache)."""
    shards = tuple(open_shard(p, key) for p in discover(pattern, key))
    if hash_content:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as ex:
            digests = list(ex.map(content_hash, [s.path for s in shards]))
        shards = tuple(dataclasses.replace(s, sha256=h) for s, h in zip(shards, digests))
    first = shards[0]
    for s in shards[1:]:
        if s.dim != first.dim:
            raise UserError(f"{key}: '{s.path}' has dimension {s.dim} but '{first.path}' has {first.dim}")
        if s.dtype != first.dtype:
            raise UserError(f"{key}: '{s.path}' is {s.dtype} but '{first.path}' is {first.dtype}; "
                            f"convert all shards to one dtype")
    if dim is not None and first.dim != dim:
        raise UserError(f"{key}: '{first.path}' has dimension {first.dim}, expected {dim} "
                        f"(the other language's embeddings)")
    if sum(s.rows for s in shards) == 0:
        raise UserError(f"{key}: the shards matching '{pattern}' hold no rows")
    return ShardSet(key=key, shards=shards)


def check_aux(emb: ShardSet, aux: ShardSet) -> None:
    """Aux shards must pair one-to-one with the embedding shards, with equal row counts."""
    if len(aux.shards) != len(emb.shards):
        raise UserError(f"{aux.key}: {len(aux.shards)} aux shards but {len(emb.shards)} embedding shards "
                        f"({emb.key})")
    for e, a in zip(emb.shards, aux.shards):
        if e.rows != a.rows:
            raise UserError(f"{aux.key}: '{a.path}' has {a.rows} rows but its embedding shard "
                            f"'{e.path}' has {e.rows}")


def normalise(block: np.ndarray) -> np.ndarray:
    """float32 copy with unit rows (zero rows stay zero instead of becoming NaN; rows with a NaN or
    Inf value, which reach here only with skip_bad_rows, become zero rows)."""
    out = np.array(block, dtype=np.float32, copy=True)
    _zero_nonfinite(out)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


def _zero_nonfinite(out: np.ndarray) -> None:
    bad = ~np.isfinite(out).all(axis=1)
    if bad.any():
        out[bad] = 0.0


def iter_blocks(shard: Shard, batch_size: int) -> Iterator[tuple[int, np.ndarray]]:
    """(row offset within the shard, normalised float32 block) over a memory-mapped shard."""
    arr = shard.open()
    for start in range(0, shard.rows, batch_size):
        yield start, normalise(arr[start : start + batch_size])


def gather_rows(ss: ShardSet, rows: np.ndarray) -> np.ndarray:
    """Normalised float32 vectors of the given global rows (any order, repeats allowed)."""
    rows = np.asarray(rows, dtype=np.int64)
    out = np.zeros((len(rows), ss.dim), dtype=np.float32)
    starts = ss.starts
    shard_of = np.searchsorted(starts, rows, side="right") - 1
    for si in np.unique(shard_of):
        sel = np.nonzero(shard_of == si)[0]
        local = rows[sel] - starts[si]
        arr = ss.shards[si].open()
        order = np.argsort(local, kind="stable")  # sorted reads are kinder to the page cache
        out[sel[order]] = arr[local[order]]
    _zero_nonfinite(out)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


def load_normalised(ss: ShardSet) -> np.ndarray:
    """All rows, normalised float32, filled shard by shard (for small sets such as aux embeddings)."""
    out = np.empty((ss.rows, ss.dim), dtype=np.float32)
    for i, shard in enumerate(ss.shards):
        base = int(ss.starts[i])
        for start, block in iter_blocks(shard, 65536):
            out[base + start : base + start + len(block)] = block
    return out


# ---------------------------------------------------------------------------------------------
# meta lines


@dataclass(frozen=True)
class MetaSet:
    key: str
    paths: tuple[str, ...]


def open_meta(pattern: str, key: str, emb: ShardSet) -> MetaSet:
    """Meta shards, one per embedding shard, with one line per embedding row (checked)."""
    paths = tuple(discover(pattern, key))
    if len(paths) != len(emb.shards):
        raise UserError(f"{key}: {len(paths)} meta files but {len(emb.shards)} embedding shards ({emb.key})")
    for p, s in zip(paths, emb.shards):
        n = _count_lines(p)
        if n != s.rows:
            raise UserError(f"{key}: '{p}' has {n} lines but its embedding shard '{s.path}' has {s.rows} rows")
    return MetaSet(key=key, paths=paths)


def _count_lines(path: str) -> int:
    n = 0
    last = b"\n"
    with _open_bytes(path) as f:
        while chunk := f.read(1 << 20):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (0 if last == b"\n" else 1)


def _open_bytes(path: str):
    if path.endswith(".gz"):
        import gzip

        return gzip.open(path, "rb")
    return open(path, "rb")


def lookup_meta(meta: MetaSet, emb: ShardSet, rows: np.ndarray) -> dict[int, str]:
    """Meta line (without newline; tabs/newlines replaced by spaces) of each requested global row,
    streaming the files once."""
    wanted = np.unique(np.asarray(rows, dtype=np.int64))
    starts = emb.starts
    out: dict[int, str] = {}
    for si, path in enumerate(meta.paths):
        lo, hi = np.searchsorted(wanted, [starts[si], starts[si + 1]])
        if lo == hi:
            continue
        need = set(int(r - starts[si]) for r in wanted[lo:hi])
        last = max(need)
        with _open_bytes(path) as f:
            for i, line in enumerate(f):
                if i in need:
                    text = line.decode("utf-8", errors="replace").rstrip("\r\n")
                    out[int(starts[si]) + i] = text.replace("\t", " ").replace("\n", " ")
                if i >= last:
                    break
    return out


def resolve_path(p: str) -> str:
    return str(Path(p).expanduser())
