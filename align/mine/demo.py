"""`mine --demo`: plant pairs in synthetic shards in a temp dir, mine them, score against the truth."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .config import build_config
from .pipeline import mine
from .select import Pairs
from .synth import PlantedData, PlantedSpec, make_planted

DEMO_SPEC = PlantedSpec(n_src=3000, n_tgt=3000, dim=256, n_pairs=1500, n_src_twins=100, n_tgt_twins=100,
                        aux_dim=64, shard_rows=1000, seed=7)


@dataclass
class Score:
    found: int
    correct: int
    planted: int

    @property
    def recall(self) -> float:
        return self.correct / self.planted if self.planted else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.found if self.found else 1.0


def score_pairs(pairs: Pairs, truth: set[tuple[int, int]]) -> Score:
    got = set(zip(pairs.src.tolist(), pairs.tgt.tolist()))
    return Score(found=len(got), correct=len(got & truth), planted=len(truth))


def planted_config(data: PlantedData, out_dir: Path, with_aux: bool = True, **overrides) -> dict:
    langs = {
        "src": {"existing_embedding_glob": data.src_glob, "meta_glob": data.src_meta_glob},
        "tgt": {"existing_embedding_glob": data.tgt_glob, "meta_glob": data.tgt_meta_glob},
    }
    if with_aux and data.src_aux_glob:
        langs["src"]["existing_aux_embedding_glob"] = data.src_aux_glob
        langs["tgt"]["existing_aux_embedding_glob"] = data.tgt_aux_glob
    raw = {"src_lang": "src", "tgt_lang": "tgt", "lang_configs": langs, "output_dir": str(out_dir)}
    raw.update(overrides)
    return raw


def run_demo(work_dir: Optional[str] = None, show_progress: bool = False, print_fn=print) -> dict:
    with tempfile.TemporaryDirectory(prefix="mine-demo-") as tmp:
        base = Path(work_dir or tmp)
        data = make_planted(base / "data", DEMO_SPEC)
        print_fn(f"demo: planted {DEMO_SPEC.n_pairs} translation pairs among {DEMO_SPEC.n_src} source and "
                 f"{DEMO_SPEC.n_tgt} target rows (dim {DEMO_SPEC.dim}, float16, {DEMO_SPEC.n_src // DEMO_SPEC.shard_rows} "
                 f"shards per side), {DEMO_SPEC.n_src_twins + DEMO_SPEC.n_tgt_twins} with a semantic twin that only "
                 f"the aux (prosody) embeddings tell apart; data in {base / 'data'}")
        report = {}
        for name, aux in (("margin only", False), ("margin + aux blend", True)):
            out = base / ("out-aux" if aux else "out-margin")
            cfg = build_config(planted_config(data, out, with_aux=aux), "demo")
            res = mine(cfg, show_progress=show_progress)[0]
            sc = score_pairs(res.pairs, data.pairs)
            tw = score_pairs(res.pairs, data.twin_pairs)
            report[name] = {"pairs": sc.found, "recall": sc.recall, "precision": sc.precision,
                            "twin_recall": tw.correct / len(data.twin_pairs),
                            "seconds": res.summary["timings"]["total_seconds"], "out": str(out)}
            print_fn(f"  {name:20s}: {sc.found:5d} pairs, recall {sc.recall:.3f}, precision {sc.precision:.3f}, "
                     f"twins resolved {tw.correct}/{len(data.twin_pairs)}, "
                     f"{res.summary['timings']['total_seconds']:.1f} s  -> {out / 'pairs.tsv.gz'}")
        print_fn(f"  (defaults: threshold {cfg.threshold if cfg.threshold is not None else 'auto'}, mine_type {cfg.mine_type.value}, knn {cfg.knn}, "
                 f"alpha {cfg.alpha}, index {res.summary['index']['tgt']['factory']})")
        if work_dir is None:
            print_fn("  (temporary files removed; pass --demo-dir DIR to keep them)")
        return report
