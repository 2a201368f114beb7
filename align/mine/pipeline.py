"""The mining pipeline: shards -> indexes -> kNN both ways -> margin -> blend -> select -> output."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from ..common.errors import UserError
from ..common.locks import exclusive_lock
from .blend import Choice, choose
from .config import AuxScorer, Dedup, MarginType, MineConfig, MineType
from .index import build_index, make_params
from .knn import KnnResult, knn_dir, run_knn
from .margin import margins, neighbourhood
from .output import counts_at, histogram, write_config, write_pairs, write_summary
from .select import Pairs, combine, dedup_meta, one_to_one, threshold
from .shards import MetaSet, ShardSet, check_aux, lookup_meta, open_meta, open_shards
from .steps import StepMeter

log = logging.getLogger(__name__)

LOCK_NAME = ".mine.lock"  # in output_dir while a run writes there


@dataclass(frozen=True)
class MineHooks:
    """Library-only hooks (not on the CLI). `on_knn_shard_done(direction, shard_no)` runs after each
    query shard's kNN checkpoint is written; tests raise from it to simulate a crash."""

    on_knn_shard_done: Optional[Callable[[str, int], None]] = None


@dataclass
class LangData:
    name: str
    emb: ShardSet
    aux: Optional[ShardSet]
    meta: Optional[MetaSet]


@dataclass
class PairResult:
    src_lang: str
    tgt_lang: str
    out_dir: Path
    pairs: Pairs
    summary: dict


def open_language(cfg: MineConfig, lang: str, dim: Optional[int] = None) -> LangData:
    lc = cfg.lang(lang)
    key = f"lang_configs.{lang}"
    emb = open_shards(lc.existing_embedding_glob, f"{key}.existing_embedding_glob", dim, hash_content=True)
    aux = None
    if lc.existing_aux_embedding_glob:
        aux = open_shards(lc.existing_aux_embedding_glob, f"{key}.existing_aux_embedding_glob")
        check_aux(emb, aux)
    meta = open_meta(lc.meta_glob, f"{key}.meta_glob", emb) if lc.meta_glob else None
    return LangData(lang, emb, aux, meta)


def _needed_directions(cfg: MineConfig) -> set[str]:
    picks = {MineType.FORWARD: {"x2y"}, MineType.BACKWARD: {"y2x"}}.get(cfg.mine_type, {"x2y", "y2x"})
    if cfg.margin_type is MarginType.ABSOLUTE:
        return picks
    return {"x2y", "y2x"}  # the neighbourhood terms of both sides are needed


def mine(cfg: MineConfig, *, show_progress: bool = True, hooks: MineHooks = MineHooks()) -> list[PairResult]:
    """Run every language pair of the config; outputs go to output_dir (or output_dir/<src>-<tgt>)."""
    results = []
    pairs = cfg.lang_pairs()
    root = Path(cfg.output_dir)
    created = not root.exists()
    try:
        # Two runs into one output_dir would do the same work twice and race on every file.
        with exclusive_lock(root / LOCK_NAME, f"output_dir {root}"):
            for src, tgt in pairs:
                out_dir = root if len(pairs) == 1 else root / f"{src}-{tgt}"
                results.append(mine_pair(cfg, src, tgt, out_dir, show_progress=show_progress, hooks=hooks))
    except BaseException:
        if created:  # a run that failed before writing anything leaves no empty output_dir
            try:
                root.rmdir()
            except OSError:
                pass
        raise
    return results


def mine_pair(cfg: MineConfig, src_lang: str, tgt_lang: str, out_dir: Path, *, show_progress: bool = True,
              hooks: MineHooks = MineHooks()) -> PairResult:
    t_start = time.perf_counter()
    meter = StepMeter()
    cache_dir = Path(cfg.cache_dir) if cfg.cache_dir else Path(cfg.output_dir) / "cache"

    with meter.step("open_shards"):
        x = open_language(cfg, src_lang)
        y = open_language(cfg, tgt_lang, dim=x.emb.dim)
        if (x.aux is None) != (y.aux is None):
            has, lacks = (src_lang, tgt_lang) if x.aux is not None else (tgt_lang, src_lang)
            raise UserError(f"lang_configs.{lacks}.existing_aux_embedding_glob: missing, but '{has}' has aux "
                            f"embeddings; give both languages aux embeddings or neither")
        if x.aux is not None and x.aux.dim != y.aux.dim:
            raise UserError(f"lang_configs.{tgt_lang}.existing_aux_embedding_glob: dimension {y.aux.dim} differs "
                            f"from {src_lang}'s aux dimension {x.aux.dim}")
    use_aux = x.aux is not None
    k_extract = cfg.k_extract if cfg.k_extract is not None else (cfg.knn if use_aux else 1)
    aux_fn = None
    if use_aux and cfg.aux_scorer is AuxScorer.AUTOPCP:
        from .autopcp import aux_fn_for

        aux_fn = aux_fn_for(cfg.autopcp_path, cfg.autopcp_symmetrize)
    directions = _needed_directions(cfg)

    # Indexes: the x2y search runs against y's index and vice versa.
    index_info = {}
    index_paths = {}
    for d, lang in (("x2y", y), ("y2x", x)):
        if d not in directions:
            continue
        lc = cfg.lang(lang.name)
        params = make_params(lang.emb, lc.index_type or cfg.index_type, cfg.exact_max_rows, cfg.rescore_factor,
                             cfg.fp16, cfg.train_sample, cfg.seed,
                             f"lang_configs.{lang.name}.index_type" if lc.index_type else "index_type")
        with meter.step(f"index_{lang.name}"):
            path, cached = build_index(lang.emb, params, cache_dir, show_progress=show_progress, label=lang.name)
        index_paths[d] = (path, params.key(lang.emb))
        index_info[lang.name] = {"factory": params.factory, "refine": params.refine,
                                 "rescore_factor": params.rescore_factor, "train_sample": params.train_sample,
                                 "cached": cached}

    knn: dict[str, KnnResult] = {}
    for d, query in (("x2y", x), ("y2x", y)):
        if d not in directions:
            continue
        path, ikey = index_paths[d]
        label = f"{src_lang}-{tgt_lang}.{d}"
        with meter.step(f"knn_{d}"):
            knn[d] = run_knn(query.emb, path, knn_dir(cache_dir, label, query.emb, ikey, cfg.knn, cfg.nprobe, cfg.gpu),
                             k=cfg.knn, nprobe=cfg.nprobe, batch_size=cfg.batch_size, gpu=cfg.gpu,
                             n_other=(y if d == "x2y" else x).emb.rows,
                             executor=cfg.executor.value, show_progress=show_progress, label=label,
                             on_shard_done=hooks.on_knn_shard_done)

    with meter.step("margin"):
        nb = {d: neighbourhood(r.sims, r.ids, cfg.margin_norm) for d, r in knn.items()}
        mg = {}
        for d, r in knn.items():
            own = nb.get(d)
            other = nb.get("y2x" if d == "x2y" else "x2y")
            if other is None:  # absolute margin with one direction: the terms are unused
                other = np.zeros(x.emb.rows if d == "y2x" else y.emb.rows, np.float32)
            mg[d] = margins(r.sims, r.ids, own, other, cfg.margin_type)

    choices: dict[str, Choice] = {}
    want = {MineType.FORWARD: ["x2y"], MineType.BACKWARD: ["y2x"]}.get(cfg.mine_type, ["x2y", "y2x"])
    with meter.step("blend" if use_aux else "choose"):
        for d in want:
            q_aux, o_aux = (x.aux, y.aux) if d == "x2y" else (y.aux, x.aux)
            choices[d] = choose(mg[d], knn[d].ids, k_extract, alpha=cfg.alpha, q_aux=q_aux, o_aux=o_aux,
                                aux_fn=aux_fn, batch_size=cfg.batch_size, show_progress=show_progress, label=d)

    with meter.step("select"):
        cands = combine(choices.get("x2y"), choices.get("y2x"), cfg.mine_type)
        values = cands.value(cfg.threshold_on)
        chosen = threshold(cands, cfg.threshold_on, cfg.threshold, cfg.score_max)
        src_meta = lookup_meta(x.meta, x.emb, chosen.src) if x.meta else {}
        tgt_meta = lookup_meta(y.meta, y.emb, chosen.tgt) if y.meta else {}
        if cfg.dedup is Dedup.ONE_TO_ONE:
            chosen = one_to_one(chosen)
        elif cfg.dedup is Dedup.META:
            chosen = dedup_meta(chosen, src_meta, tgt_meta)

    with meter.step("output"):
        out_dir.mkdir(parents=True, exist_ok=True)
        write_pairs(out_dir, chosen, src_meta, tgt_meta)
        write_config(out_dir, cfg.to_dict())
        summary = {
            "src_lang": src_lang,
            "tgt_lang": tgt_lang,
            "rows": {"src": x.emb.rows, "tgt": y.emb.rows},
            "dim": x.emb.dim,
            "aux": use_aux,
            "k_extract": k_extract,
            "index": index_info,
            "knn": {d: {"query_shards": len((x if d == "x2y" else y).emb.shards),
                        "computed_shards": r.computed_shards,
                        "missing_neighbours": int((r.ids < 0).sum())} for d, r in knn.items()},
            "candidates": len(cands),
            "pairs": len(chosen),
            "by_direction": {n: int((chosen.direction == c).sum()) for c, n in ((1, "fwd"), (2, "bwd"), (3, "both"))},
            "threshold_on": cfg.threshold_on.value,
            "counts_at_threshold": {"note": "candidates (after mine type, before threshold and dedup) whose "
                                            f"{cfg.threshold_on.value} value is >= t",
                                    **counts_at(values, cfg.score_thresholds)},
            "histogram": histogram(values),
        }
    summary["timings"] = {**meter.steps, "total_seconds": round(time.perf_counter() - t_start, 3)}
    write_summary(out_dir, summary)
    return PairResult(src_lang, tgt_lang, out_dir, chosen, summary)
