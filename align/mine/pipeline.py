"""The mining pipeline: shards -> indexes -> kNN both ways -> margin -> blend -> select -> output."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from ..common.errors import UserError
from ..common.executors import Executor, make_executor
from ..common.locks import exclusive_lock
from .blend import Choice, choose
from .autothreshold import Decision, decide
from .badrows import RowReport, scan
from .config import AuxScorer, Dedup, MarginType, MineConfig, ThresholdOn
from .config import Executor as ExecutorKind
from .index import build_index, make_params
from .knn import KnnResult, knn_dir, run_knn
from .margin import margins, neighbourhood
from .output import counts_at, histogram, write_config, write_pairs, write_summary
from .select import Direction, Pairs, combine, dedup_meta, one_to_one, threshold
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
    rows: RowReport


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
    rows = scan(emb, cfg.skip_bad_rows)
    for what, n in (("rows with NaN/Inf skipped", len(rows.nonfinite)), ("all-zero rows skipped", rows.zero_rows),
                    ("duplicate rows (same vector as an earlier row)", rows.duplicate_rows)):
        if n:
            log.warning("%s: %d %s", lang, n, what)
    return LangData(lang, emb, aux, meta, rows)


def _needed_directions(cfg: MineConfig) -> set[Direction]:
    picks = set(Direction.searches(cfg.mine_type))
    if cfg.margin_type is MarginType.ABSOLUTE:
        return picks
    return {Direction.FWD, Direction.BWD}  # the neighbourhood terms of both sides are needed


def _decide_threshold(cfg: MineConfig, cands: Pairs, choices: dict[Direction, Choice]) -> Decision:
    """The fixed threshold, or one fitted to this run's candidates (align/mine/autothreshold.py).
    The null sample is each extracted row's runner-up in the directions that were mined."""
    blended = cfg.threshold_on is ThresholdOn.BLENDED
    best, runner = [], []
    for c in choices.values():
        best.append(c.blended if blended else c.margin)
        ru = c.runner_up_blended if blended else c.runner_up_margin
        runner.append(ru[np.unique(c.query)] if ru is not None else np.empty(0, np.float32))
    if cfg.threshold is not None:
        return decide(np.empty(0), np.empty(0), np.empty(0), cfg.auto_threshold.value, cfg.threshold)
    # with one_to_one, the F1 is counted on the pairs that survive the greedy step over all
    # candidates: a false candidate whose row a better pair took never reaches the output
    kept = one_to_one(cands).value(cfg.threshold_on) if cfg.dedup is Dedup.ONE_TO_ONE else None
    return decide(cands.value(cfg.threshold_on), np.concatenate(best) if best else np.empty(0),
                  np.concatenate(runner) if runner else np.empty(0), cfg.auto_threshold.value, cfg.threshold, kept=kept)


def _describe(d: Decision) -> str:
    if d.method == "fixed":
        return "fixed by the config"
    if d.method == "mixture":
        f = d.details["fit"]
        return (f"mixture fit: non-translations {f['means'][0]:.4f}±{f['sds'][0]:.4f} "
                f"(weight {f['weights'][0]:.2f}), translations {f['means'][1]:.4f}±{f['sds'][1]:.4f}; "
                f"cut: {d.details['cut']}")
    if d.method == "runner_up":
        return (f"runner-up null: estimated precision {d.details['estimated_precision']}, "
                f"estimated F1 {d.details['estimated_f1']}")
    return f"no fit possible ({', '.join(d.details.get('tried', []))} failed): fallback {d.threshold}"


def executor_for(cfg: MineConfig) -> Optional[Executor]:
    """The kNN executor the config's `executor` key names: None (in this process, the index
    loaded once) for local, a Ray executor (one actor per CPU) for ray."""
    return make_executor("ray") if cfg.executor is ExecutorKind.RAY else None


def mine(cfg: MineConfig, *, show_progress: bool = True, hooks: MineHooks = MineHooks(),
         executor: Optional[Executor] = None) -> list[PairResult]:
    """Run every language pair of the config; outputs go to output_dir (or output_dir/<src>-<tgt>).

    `executor` runs the kNN query shards (align.common.executors); None: the config's choice."""
    results = []
    pairs = cfg.lang_pairs()
    root = Path(cfg.output_dir)
    created = not root.exists()
    own = executor is None
    if own:
        executor = executor_for(cfg)
    try:
        # Two runs into one output_dir would do the same work twice and race on every file.
        with exclusive_lock(root / LOCK_NAME, f"output_dir {root}"):
            for src, tgt in pairs:
                out_dir = root if len(pairs) == 1 else root / f"{src}-{tgt}"
                results.append(mine_pair(cfg, src, tgt, out_dir, show_progress=show_progress, hooks=hooks,
                                         executor=executor))
    except BaseException:
        if created:  # a run that failed before writing anything leaves no empty output_dir
            try:
                root.rmdir()
            except OSError:
                pass
        raise
    finally:
        if own and executor is not None:
            executor.close()
    return results


def mine_pair(cfg: MineConfig, src_lang: str, tgt_lang: str, out_dir: Path, *, show_progress: bool = True,
              hooks: MineHooks = MineHooks(), executor: Optional[Executor] = None) -> PairResult:
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
    blend_candidates = (cfg.blend_candidates or cfg.knn) if use_aux else None
    aux_fn = None
    if use_aux and cfg.aux_scorer is AuxScorer.AUTOPCP:
        from .autopcp import aux_fn_for

        aux_fn = aux_fn_for(cfg.autopcp_path, cfg.autopcp_symmetrize)
    directions = _needed_directions(cfg)

    # Indexes: the x2y search runs against y's index and vice versa.
    index_info = {}
    index_paths = {}
    for d, lang in ((Direction.FWD, y), (Direction.BWD, x)):
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

    knn: dict[Direction, KnnResult] = {}
    for d, query in ((Direction.FWD, x), (Direction.BWD, y)):
        if d not in directions:
            continue
        path, ikey = index_paths[d]
        label = f"{src_lang}-{tgt_lang}.{d.key}"
        with meter.step(f"knn_{d.key}"):
            knn[d] = run_knn(query.emb, path, knn_dir(cache_dir, label, query.emb, ikey, cfg.knn, cfg.nprobe, cfg.gpu),
                             k=cfg.knn, nprobe=cfg.nprobe, batch_size=cfg.batch_size, gpu=cfg.gpu,
                             n_other=(y if d is Direction.FWD else x).emb.rows,
                             executor=executor, show_progress=show_progress, label=label,
                             on_shard_done=hooks.on_knn_shard_done)

    with meter.step("margin"):
        nb = {d: neighbourhood(r.sims, r.ids, cfg.margin_norm) for d, r in knn.items()}
        mg = {}
        for d, r in knn.items():
            own = nb.get(d)
            other = nb.get(d.reverse)
            if other is None:  # absolute margin with one direction: the terms are unused
                other = np.zeros(x.emb.rows if d is Direction.BWD else y.emb.rows, np.float32)
            mg[d] = margins(r.sims, r.ids, own, other, cfg.margin_type)
            # skipped rows (zero vectors) neither choose nor get chosen
            q_skip, o_skip = (x.rows.skipped, y.rows.skipped) if d is Direction.FWD else (y.rows.skipped, x.rows.skipped)
            if len(q_skip):
                mg[d][q_skip] = -np.inf
            if len(o_skip):
                mg[d][np.isin(r.ids, o_skip)] = -np.inf

    choices: dict[Direction, Choice] = {}
    with meter.step("blend" if use_aux else "choose"):
        for d in Direction.searches(cfg.mine_type):
            q_aux, o_aux = (x.aux, y.aux) if d is Direction.FWD else (y.aux, x.aux)
            choices[d] = choose(mg[d], knn[d].ids, cfg.k_extract, alpha=cfg.alpha, blend_candidates=blend_candidates,
                                q_aux=q_aux, o_aux=o_aux, aux_fn=aux_fn, batch_size=cfg.batch_size,
                                show_progress=show_progress, label=d.key)

    with meter.step("select"):
        cands = combine(choices.get(Direction.FWD), choices.get(Direction.BWD), cfg.mine_type)
        values = cands.value(cfg.threshold_on)
        decision = _decide_threshold(cfg, cands, choices)
        log.info("%s-%s: threshold %.4f on %s (%s)", src_lang, tgt_lang, decision.threshold,
                 cfg.threshold_on.value, _describe(decision))
        if cfg.score_max is not None and cfg.score_max < decision.threshold:
            log.warning("score_max %s is below the chosen threshold %.4f: no pair can be written",
                        cfg.score_max, decision.threshold)
        chosen = threshold(cands, cfg.threshold_on, decision.threshold, cfg.score_max)
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
            "bad_rows": {"src": x.rows.to_dict(), "tgt": y.rows.to_dict()},
            "dim": x.emb.dim,
            "aux": use_aux,
            "k_extract": cfg.k_extract,
            "blend_candidates": blend_candidates,
            "index": index_info,
            "knn": {d.key: {"query_shards": len((x if d is Direction.FWD else y).emb.shards),
                        "computed_shards": r.computed_shards,
                        "missing_neighbours": int((r.ids < 0).sum())} for d, r in knn.items()},
            "candidates": len(cands),
            "pairs": len(chosen),
            "by_direction": {d.label: int((chosen.direction == d).sum()) for d in Direction},
            "threshold_on": cfg.threshold_on.value,
            "threshold": decision.to_dict(),
            "counts_at_threshold": {"note": "candidates (after mine type, before threshold and dedup) whose "
                                            f"{cfg.threshold_on.value} value is >= t",
                                    **counts_at(values, cfg.score_thresholds)},
            "histogram": histogram(values),
        }
        if cfg.plot:
            from .plot import plot_scores

            summary["plot"] = str(plot_scores(out_dir, values, decision, cfg.threshold_on.value,
                                              f"{src_lang}-{tgt_lang}"))
    summary["timings"] = {**meter.steps, "total_seconds": round(time.perf_counter() - t_start, 3)}
    write_summary(out_dir, summary)
    return PairResult(src_lang, tgt_lang, out_dir, chosen, summary)
