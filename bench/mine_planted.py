#!/usr/bin/env python3
"""Planted-pairs benchmark for `mine` (issue 4 quality bars).

Generates (once, cached under --data-dir) source and target float16 embedding shards with planted
translation pairs, distractors and semantic twins (see align/mine/synth.py for how the vectors are
made to look like real sentence embeddings), then mines them with the default settings, with and
without the auxiliary (prosody) embeddings, and prints recall / precision against the planted truth,
the twins resolved, and wall time and peak memory per step.

    python3 bench/mine_planted.py                       # 200,000 x 200,000, dim 1024 (issue size)
    python3 bench/mine_planted.py --rows 20000 --dim 256  # quick look
"""

from __future__ import annotations

import argparse
import json
import pickle
import shutil
import sys
import time
from pathlib import Path

from align.mine.config import build_config
from align.mine.demo import planted_config, score_pairs
from align.mine.pipeline import mine
from align.mine.synth import PlantedSpec, make_planted


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=200_000, help="rows per side")
    ap.add_argument("--dim", type=int, default=1024)
    ap.add_argument("--aux-dim", type=int, default=128)
    ap.add_argument("--twin-fraction", type=float, default=0.05,
                    help="share of rows per side that are semantic twins of a translated row")
    ap.add_argument("--shard-rows", type=int, default=25_000)
    ap.add_argument("--data-dir", default="/tmp/mine-bench-planted")
    ap.add_argument("--keep-cache", action="store_true", help="reuse index/kNN caches from a previous run")
    ap.add_argument("--runs", default="aux,margin", help="comma list of: aux, margin")
    ap.add_argument("--progress", action="store_true")
    ap.add_argument("overrides", nargs="*", help="extra config key=value (e.g. mine_type=intersection)")
    args = ap.parse_args()

    n = args.rows
    spec = PlantedSpec(n_src=n, n_tgt=n, dim=args.dim, n_pairs=n // 2, n_src_twins=int(n * args.twin_fraction),
                       n_tgt_twins=int(n * args.twin_fraction), aux_dim=args.aux_dim, shard_rows=args.shard_rows,
                       seed=1)
    data_dir = Path(args.data_dir) / f"n{n}-d{args.dim}-a{args.aux_dim}-t{args.twin_fraction}"
    truth_file = data_dir / "truth.pkl"
    if truth_file.exists():
        data = pickle.loads(truth_file.read_bytes())
    else:
        t = time.perf_counter()
        data = make_planted(data_dir / "shards", spec)
        truth_file.write_bytes(pickle.dumps(data))
        print(f"generated {n} x {n} rows (dim {args.dim}, float16) in {time.perf_counter() - t:.1f} s -> {data_dir}")
    print(f"planted pairs {len(data.pairs)}, of which with a semantic twin {len(data.twin_pairs)}; "
          f"distractor targets {n - n // 2 - spec.n_tgt_twins}")

    from align.mine.config import apply_overrides

    results = {}
    for run in args.runs.split(","):
        out = data_dir / f"out-{run}"
        if not args.keep_cache and out.exists():
            shutil.rmtree(out)
        raw = apply_overrides(planted_config(data, out, with_aux=(run == "aux")), args.overrides)
        cfg = build_config(raw, "bench")
        t = time.perf_counter()
        res = mine(cfg, show_progress=args.progress)[0]
        wall = time.perf_counter() - t
        sc = score_pairs(res.pairs, data.pairs)
        tw = score_pairs(res.pairs, data.twin_pairs)
        s = res.summary
        results[run] = {"recall": sc.recall, "precision": sc.precision, "pairs": sc.found,
                        "twins_correct": tw.correct, "twins": len(data.twin_pairs), "wall_s": wall}
        print(f"\n== {run}: {'margin + aux blend' if run == 'aux' else 'margin only'} "
              f"(threshold {s['threshold']['threshold']:.4f} ({s['threshold']['method']}) on "
              f"{cfg.threshold_on.value}, mine_type {cfg.mine_type.value}, k_extract {s['k_extract']}, "
              f"blend_candidates {s['blend_candidates']}, index {s['index']})")
        f1 = 2 * sc.recall * sc.precision / (sc.recall + sc.precision) if sc.recall + sc.precision else 0.0
        results[run]["f1"] = f1
        print(f"F1 {f1:.4f}  recall {sc.recall:.4f}  precision {sc.precision:.4f}  pairs {sc.found}  "
              f"twins resolved {tw.correct}/{len(data.twin_pairs)} ({tw.correct / len(data.twin_pairs):.3f})")
        print(f"{'step':<16}{'seconds':>10}{'peak RSS MB':>14}")
        for step, v in s["timings"].items():
            if isinstance(v, dict):
                print(f"{step:<16}{v['seconds']:>10.1f}{v['peak_rss_mb']:>14.0f}")
        print(f"{'total':<16}{wall:>10.1f}")
    print("\n" + json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
