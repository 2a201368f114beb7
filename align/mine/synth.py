"""Synthetic embedding shards with planted translation pairs (demo, tests, benchmarks).

Uniform random vectors are a poor stand-in for sentence embeddings: in 1024 dimensions every
pair of them is almost orthogonal, there are no clusters for an IVF index to exploit and no
hubs for the margin to correct. The generator below therefore builds vectors the way real
encoder outputs look:

* anisotropy: every vector shares a common mean direction (unrelated sentences have cosine
  about 0.3, as with LASER/SONAR), plus a per-language offset (language identity is visible
  in real multilingual embeddings);
* low intrinsic dimension and topics: the meaning of a sentence lives in a `rank`-dimensional
  subspace with a decaying spectrum, drawn around one of many topic centres, so the data is
  clustered (what IVF coarse quantisers rely on) and neighbourhoods have uneven density
  (what the margin normalises away);
* utterance noise: each rendering of a meaning (a source utterance, its translation, a twin)
  adds its own isotropic noise, so a translation is close to, but not equal to, its source.

Semantic twins are two utterances with the *same* meaning but independent prosody: the main
embeddings cannot tell them apart, the auxiliary ("prosody") embeddings can. A translation
keeps the prosody of its source (plus noise).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..common.fileio import atomic_path, atomic_write_text


@dataclass(frozen=True)
class PlantedSpec:
    n_src: int = 2000
    n_tgt: int = 2000
    dim: int = 1024
    n_pairs: int = 1000  # targets that are translations of sources
    n_src_twins: int = 0  # extra source rows sharing the meaning of a translated source
    n_tgt_twins: int = 0  # extra target rows sharing the meaning of a translated target
    aux_dim: int = 0  # 0: no auxiliary embeddings
    shard_rows: int = 1000
    dtype: str = "float16"
    seed: int = 0
    rank: int = 512  # intrinsic dimension of meanings
    n_topics: int = 0  # 0: one topic per `topic_size` meanings
    topic_size: int = 1000
    topic_weight: float = 0.5  # share of a meaning's variance that comes from its topic
    spectrum_power: float = 0.2  # variance of latent direction j ~ (1+j)^(-2*power)
    translation_noise: float = 0.45  # norm of per-utterance noise relative to a unit meaning
    aux_noise: float = 0.6


@dataclass
class PlantedData:
    spec: PlantedSpec
    src_glob: str
    tgt_glob: str
    src_aux_glob: str | None
    tgt_aux_glob: str | None
    src_meta_glob: str
    tgt_meta_glob: str
    pairs: set[tuple[int, int]]  # planted (src row, tgt row)
    twin_pairs: set[tuple[int, int]]  # the planted pairs whose source or target has a twin


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _write_shards(
    out: Path, prefix: str, n: int, shard_rows: int, dtype: str, make_rows, meta: list[str] | None
) -> None:
    for shard, start in enumerate(range(0, n, shard_rows)):
        stop = min(n, start + shard_rows)
        rows = make_rows(start, stop).astype(dtype)
        with atomic_path(out / f"{prefix}.{shard:03d}.npy") as tmp:
            with open(tmp, "wb") as f:
                np.save(f, rows)
        if meta is not None:
            atomic_write_text(out / f"{prefix}.{shard:03d}.tsv", "".join(m + "\n" for m in meta[start:stop]))


def make_planted(out_dir: str | Path, spec: PlantedSpec) -> PlantedData:
    """Write src/tgt embedding shards (+aux, +meta) under `out_dir`; return the planted truth.

    Layout of meanings: sources 0..n_pairs-1 are translated; the first n_src_twins of them get
    a source twin and the next n_tgt_twins a target twin. All other rows are distractors with
    their own meaning. Rows are shuffled on both sides so that pairs are not aligned by index.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    s = spec
    if s.n_pairs + s.n_tgt_twins > s.n_tgt or s.n_pairs + s.n_src_twins > s.n_src:
        raise ValueError("n_tgt/n_src too small for the planted pairs and twins")
    if s.n_src_twins + s.n_tgt_twins > s.n_pairs:
        raise ValueError("more twins than planted pairs")
    rng = np.random.default_rng(s.seed)
    rank = min(s.rank, s.dim)

    # Meaning ids: 0..n_pairs-1 shared; then distractor meanings for each side.
    n_src_distr = s.n_src - s.n_pairs - s.n_src_twins
    n_tgt_distr = s.n_tgt - s.n_pairs - s.n_tgt_twins
    n_meanings = s.n_pairs + n_src_distr + n_tgt_distr
    src_meaning = np.concatenate(
        [np.arange(s.n_pairs), np.arange(s.n_src_twins), s.n_pairs + np.arange(n_src_distr)]
    )
    tgt_meaning = np.concatenate(
        [
            np.arange(s.n_pairs),
            s.n_src_twins + np.arange(s.n_tgt_twins),
            s.n_pairs + n_src_distr + np.arange(n_tgt_distr),
        ]
    )
    # Utterance kinds, to know who inherits prosody: 0 original, 1 twin (new prosody).
    src_twin = np.zeros(s.n_src, bool)
    src_twin[s.n_pairs : s.n_pairs + s.n_src_twins] = True
    tgt_twin = np.zeros(s.n_tgt, bool)
    tgt_twin[s.n_pairs : s.n_pairs + s.n_tgt_twins] = True

    # Latent meanings: topic centre + within-topic spread, decaying spectrum.
    spectrum = (1.0 + np.arange(rank, dtype=np.float32)) ** -s.spectrum_power
    spectrum /= np.linalg.norm(spectrum)
    n_topics = s.n_topics or max(8, n_meanings // s.topic_size)
    topics = rng.standard_normal((n_topics, rank), dtype=np.float32) * spectrum * np.sqrt(rank)
    topic_of = rng.integers(0, n_topics, n_meanings)
    tw = np.sqrt(s.topic_weight)
    spread = rng.standard_normal((n_meanings, rank), dtype=np.float32) * spectrum * np.sqrt(rank)
    latent = topics[topic_of] * tw + spread * np.sqrt(1.0 - s.topic_weight)
    basis = np.linalg.qr(rng.standard_normal((s.dim, rank), dtype=np.float32))[0].T  # (rank, dim)
    mean_dir = _unit(rng.standard_normal(s.dim, dtype=np.float32)) * 0.65
    lang_off = {side: _unit(rng.standard_normal(s.dim, dtype=np.float32)) * 0.25 for side in ("src", "tgt")}

    if s.aux_dim:
        a_mean = _unit(rng.standard_normal(s.aux_dim, dtype=np.float32)) * 0.6
        # Prosody per (meaning, original utterance); twins draw fresh prosody.
        prosody = rng.standard_normal((n_meanings, s.aux_dim), dtype=np.float32) / np.sqrt(s.aux_dim)
        src_twin_pros = rng.standard_normal((s.n_src, s.aux_dim), dtype=np.float32) / np.sqrt(s.aux_dim)
        tgt_twin_pros = rng.standard_normal((s.n_tgt, s.aux_dim), dtype=np.float32) / np.sqrt(s.aux_dim)

    src_perm = rng.permutation(s.n_src)  # position p holds logical row src_perm[p]
    tgt_perm = rng.permutation(s.n_tgt)
    seeds = {side: int(rng.integers(0, 2**31)) for side in ("src", "tgt", "src_aux", "tgt_aux")}

    def emb_rows(side, meaning, perm):
        def make(start, stop):
            logical = perm[start:stop]
            r = np.random.default_rng([seeds[side], start])
            sem = latent[meaning[logical]] @ basis
            noise = r.standard_normal((stop - start, s.dim), dtype=np.float32)
            noise *= s.translation_noise / np.sqrt(s.dim)
            return _unit(sem / np.sqrt(rank) + mean_dir + lang_off[side] + noise)

        return make

    def aux_rows(side, meaning, twin, twin_pros, perm):
        def make(start, stop):
            logical = perm[start:stop]
            r = np.random.default_rng([seeds[side + "_aux"], start])
            base = np.where(twin[logical, None], twin_pros[logical], prosody[meaning[logical]])
            noise = r.standard_normal((stop - start, s.aux_dim), dtype=np.float32) * s.aux_noise / np.sqrt(s.aux_dim)
            return _unit(base + a_mean + noise)

        return make

    inv_src = np.argsort(src_perm)  # logical row -> file row
    inv_tgt = np.argsort(tgt_perm)
    src_meta = [f"src_{src_perm[p]:07d}.wav 0 16000" for p in range(s.n_src)]
    tgt_meta = [f"tgt_{tgt_perm[p]:07d}.wav 0 16000" for p in range(s.n_tgt)]
    _write_shards(out, "src_emb", s.n_src, s.shard_rows, s.dtype, emb_rows("src", src_meaning, src_perm), src_meta)
    _write_shards(out, "tgt_emb", s.n_tgt, s.shard_rows, s.dtype, emb_rows("tgt", tgt_meaning, tgt_perm), tgt_meta)
    if s.aux_dim:
        _write_shards(out, "src_aux", s.n_src, s.shard_rows, s.dtype,
                      aux_rows("src", src_meaning, src_twin, src_twin_pros, src_perm), None)
        _write_shards(out, "tgt_aux", s.n_tgt, s.shard_rows, s.dtype,
                      aux_rows("tgt", tgt_meaning, tgt_twin, tgt_twin_pros, tgt_perm), None)

    pairs = {(int(inv_src[i]), int(inv_tgt[i])) for i in range(s.n_pairs)}
    twinned = list(range(s.n_src_twins + s.n_tgt_twins))
    twin_pairs = {(int(inv_src[i]), int(inv_tgt[i])) for i in twinned}
    glob = lambda prefix, ext: str(out / f"{prefix}.[0-9][0-9][0-9].{ext}")  # noqa: E731
    return PlantedData(
        spec=s,
        src_glob=glob("src_emb", "npy"),
        tgt_glob=glob("tgt_emb", "npy"),
        src_aux_glob=glob("src_aux", "npy") if s.aux_dim else None,
        tgt_aux_glob=glob("tgt_aux", "npy") if s.aux_dim else None,
        src_meta_glob=glob("src_emb", "tsv"),
        tgt_meta_glob=glob("tgt_emb", "tsv"),
        pairs=pairs,
        twin_pairs=twin_pairs,
    )


def replace(spec: PlantedSpec, **changes) -> PlantedSpec:
    return dataclasses.replace(spec, **changes)
