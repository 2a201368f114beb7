"""Per-call times of align.text.similarity: the batched form gap alignment uses, and single calls.

    python3 bench/similarity_speed.py [--chars 60] [--candidates 30] [--repeat 2000]

Candidates look like gap-alignment candidates: prefixes of a noisy copy of the reference,
around its length. Times are after a warm-up call (numba compiles or loads its cache then).
"""

from __future__ import annotations

import argparse
import random
import time
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from align.text.similarity import SIMILARITY_ALGOS, similarities, similarity  # noqa: E402


def _text(rng: random.Random, n: int) -> str:
    words = "the of and to a in that is for it license software free program source code work".split()
    out = ""
    while len(out) < n:
        out += rng.choice(words) + " "
    return out[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chars", type=int, default=60)
    ap.add_argument("--candidates", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=2000)
    args = ap.parse_args()
    rng = random.Random(1)
    a = _text(rng, args.chars)
    noisy = "".join(c if rng.random() > 0.05 else rng.choice("abcdefghij") for c in a) + _text(rng, args.candidates)
    lo = max(1, args.chars - args.candidates // 2)
    bs = [noisy[: lo + i] for i in range(args.candidates)]
    print(f"reference {len(a)} chars, {len(bs)} candidates of {len(bs[0])}..{len(bs[-1])} chars, {args.repeat} repeats")
    print(f"{'algo':<14}{'batch us/call':>14}{'us/candidate':>14}{'single us/call':>16}")
    for algo in SIMILARITY_ALGOS:
        similarities(algo, a, bs, direction=1)  # warm-up (numba compile / cache load)
        t0 = time.perf_counter()
        for _ in range(args.repeat):
            similarities(algo, a, bs, direction=1)
        batch = (time.perf_counter() - t0) / args.repeat * 1e6
        t0 = time.perf_counter()
        n_single = args.repeat
        for _ in range(n_single):
            similarity(algo, a, bs[0], direction=1)
        single = (time.perf_counter() - t0) / n_single * 1e6
        print(f"{algo:<14}{batch:>14.1f}{batch / len(bs):>14.2f}{single:>16.2f}")


if __name__ == "__main__":
    main()
