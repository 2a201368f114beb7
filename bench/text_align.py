"""Benchmark of the text-alignment engine (issue: accuracy, unrelated text, speed, scaling).

Generates synthetic cases with planted truth (bench/make_text_bench.py), aligns them with the
default parameters and prints accuracy and timings. Timings are the library call (index,
rough, gap, metrics) on one core, warm (numba's compiled code loaded), median of `--repeat`; wall and CPU seconds.

    python3 bench/text_align.py                 # 25k, 50k, 100k characters, unrelated text, near copies
    python3 bench/text_align.py --sizes 100000 --repeat 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_text_bench import make_case  # noqa: E402

from align.text.alphabet import Alphabet  # noqa: E402
from align.text.engine import AlignParams, align_transcripts  # noqa: E402
from align.text.normalise import Phrase, normalise  # noqa: E402
from align.tlog import TranscriptEntry  # noqa: E402

EN = Alphabet.from_labels(" abcdefghijklmnopqrstuvwxyz'")


def run_case(case, repeat: int):
    ct = normalise(case.book, [Phrase(0, len(case.book))], EN)
    entries = [TranscriptEntry(f["start"], f["end"], f["transcript"]) for f in case.tlog]
    params = AlignParams()
    align_transcripts(entries, ct, EN, params)  # warm-up: numba cache load
    times, cpu, result = [], [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = align_transcripts(entries, ct, EN, params)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    by_fragment = {u.fragment: u for u in result.utterances}
    real = [i for i, t in enumerate(case.truth) if not t["junk"]]
    junk = [i for i, t in enumerate(case.truth) if t["junk"]]
    exact = 0
    wrong = []
    for i in real:
        u = by_fragment.get(i)
        t = case.truth[i]
        if u is not None and ct.original_span(u.clean_start, u.clean_end) == (t["orig_start"], t["orig_end"]):
            exact += 1
        else:
            wrong.append((i, t["words"], u.aligned if u else None))
    junk_accepted = sum(1 for i in junk if i in by_fragment)
    return {
        "chars": len(case.book),
        "fragments": len(entries),
        "real": len(real),
        "junk": len(junk),
        "exact": exact,
        "junk_accepted": junk_accepted,
        "accepted": len(result.utterances),
        "time": statistics.median(times),
        "cpu": statistics.median(cpu),
        "timings": result.timings,
        "wrong": wrong,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[25000, 50000, 100000])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--show-wrong", type=int, default=5, help="print up to N misaligned fragments")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the issue asks

    print(f"{'case':<22}{'chars':>9}{'frags':>7}{'real':>6}{'exact':>7}{'exact %':>9}{'junk':>6}"
          f"{'junk acc':>9}{'wall s':>8}{'cpu s':>7}   rough / gap s")
    for size in args.sizes:
        r = run_case(make_case(args.seed, size), args.repeat)
        pct = 100.0 * r["exact"] / max(r["real"], 1)
        print(f"{'related':<22}{r['chars']:>9}{r['fragments']:>7}{r['real']:>6}{r['exact']:>7}{pct:>9.2f}"
              f"{r['junk']:>6}{r['junk_accepted']:>9}{r['time']:>8.3f}{r['cpu']:>7.3f}   "
              f"{r['timings']['rough']:.3f} / {r['timings']['gap']:.3f}")
        for i, words, got in r["wrong"][: args.show_wrong]:
            print(f"    fragment {i}: truth {words!r}\n{'':>18}got {got!r}")
    for name, kw in (("unrelated text", {"unrelated": True}), ("near-copy licenses", {"near_copies": True})):
        r = run_case(make_case(args.seed, 100000, **kw), args.repeat)
        print(f"{name:<22}{r['chars']:>9}{r['fragments']:>7}{'-':>6}{'-':>7}{'-':>9}{r['junk']:>6}"
              f"{r['accepted']:>9}{r['time']:>8.3f}{r['cpu']:>7.3f}   {r['timings']['rough']:.3f} / {r['timings']['gap']:.3f}")


if __name__ == "__main__":
    main()
