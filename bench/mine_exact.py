#!/usr/bin/env python3
"""Exact-mode check for `mine`: Flat (exact inner product) mining of 20,000 x 20,000 rows gives the
same pairs, with the same margins, as a brute-force numpy implementation of margin mining.

    python3 bench/mine_exact.py                 # 20,000 x 20,000, dim 1024
    python3 bench/mine_exact.py --rows 5000     # quicker
"""

from __future__ import annotations

import argparse
import glob
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from align.mine.config import build_config
from align.mine.demo import planted_config
from align.mine.pipeline import mine
from align.mine.synth import PlantedSpec, make_planted


def brute_force(x: np.ndarray, y: np.ndarray, k: int, threshold: float) -> dict:
    """Union of forward and backward ratio-margin choices, blockwise so memory stays moderate."""
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    bs = 2048
    # neighbourhood terms: mean of the k best cosines of each row, per direction
    nx = np.concatenate([np.sort(x[i:i + bs] @ y.T, axis=1)[:, -k:].mean(1) for i in range(0, len(x), bs)])
    ny = np.concatenate([np.sort(y[i:i + bs] @ x.T, axis=1)[:, -k:].mean(1) for i in range(0, len(y), bs)])
    out = {}
    for q, o, nq, no, fwd in ((x, y, nx, ny, True), (y, x, ny, nx, False)):
        for i in range(0, len(q), bs):
            s = q[i:i + bs] @ o.T
            kth = np.sort(s, axis=1)[:, -k][:, None]
            m = np.where(s >= kth, s / ((nq[i:i + bs, None] + no[None, :]) / 2), -np.inf)
            best = m.argmax(1)
            for r, (j, v) in enumerate(zip(best, m[np.arange(len(m)), best])):
                if v >= threshold:
                    out[(i + r, int(j)) if fwd else (int(j), i + r)] = float(v)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--dim", type=int, default=1024)
    ap.add_argument("--work-dir", default="/tmp/mine-bench-exact")
    args = ap.parse_args()
    work = Path(args.work_dir) / f"n{args.rows}-d{args.dim}"
    if work.exists():
        shutil.rmtree(work)
    spec = PlantedSpec(n_src=args.rows, n_tgt=args.rows, dim=args.dim, n_pairs=args.rows // 2,
                       shard_rows=max(1000, args.rows // 4), seed=11)
    data = make_planted(work / "shards", spec)
    cfg = build_config(planted_config(data, work / "out", with_aux=False, index_type="Flat", dedup="none"), "bench")
    t = time.perf_counter()
    res = mine(cfg, show_progress=False)[0]
    t_mine = time.perf_counter() - t
    load = lambda g: np.concatenate([np.load(p).astype(np.float32) for p in sorted(glob.glob(g))])  # noqa: E731
    t = time.perf_counter()
    want = brute_force(load(data.src_glob), load(data.tgt_glob), cfg.knn, cfg.threshold)
    t_bf = time.perf_counter() - t
    got = {(s, t): m for s, t, m in zip(res.pairs.src.tolist(), res.pairs.tgt.tolist(), res.pairs.margin.tolist())}
    edge = lambda v: abs(v - cfg.threshold) < 1e-4  # noqa: E731  (float32 rounding at the threshold)
    a = {p for p, v in got.items() if not edge(v)}
    b = {p for p, v in want.items() if not edge(v)}
    common = sorted(set(got) & set(want))
    diff = max((abs(got[p] - want[p]) for p in common), default=0.0)
    print(f"exact mine {args.rows} x {args.rows} dim {args.dim}: {len(got)} pairs in {t_mine:.1f} s; "
          f"brute force: {len(want)} pairs in {t_bf:.1f} s")
    print(f"same pairs: {a == b} (only in mine: {len(a - b)}, only in brute force: {len(b - a)}); "
          f"max margin difference {diff:.2e}")
    return 0 if a == b and diff < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
