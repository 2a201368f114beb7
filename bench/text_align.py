"""Benchmark of the text-alignment engine (issue: accuracy, unrelated text, speed, scaling).

Generates synthetic cases with planted truth (bench/make_text_bench.py), aligns them with the
default parameters and prints accuracy and timings. Timings are the library call (index,
rough, gap, metrics) on one core, warm (numba's compiled code loaded), median of `--repeat`; wall and CPU seconds.

    python3 bench/text_align.py                 # 25k, 50k, 100k characters, unrelated text, near copies
    python3 bench/text_align.py --sizes 100000 --repeat 5
    python3 bench/text_align.py --messy-only     # issue 9: 3 kinds x 3 seeds of messy books
    python3 bench/text_align.py --messy-only --reader legacy both   # the first messy reader too
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_text_bench import KINDS, make_case, make_messy_case  # noqa: E402

from align.text.alphabet import Alphabet  # noqa: E402
from align.text.engine import AlignParams, align_transcripts  # noqa: E402
from align.text.normalise import Phrase, TextParams, normalise  # noqa: E402
from align.tlog import TranscriptEntry  # noqa: E402

EN = Alphabet.from_labels(" abcdefghijklmnopqrstuvwxyz'")
# make_case's reader never says numbers (its transcripts leave them out): its cases run with
# --text-verbalize none; the messy cases with the defaults.
OLD = AlignParams(text=TextParams(verbalize="none"))


def run_case(case, repeat: int, ct=None, params: AlignParams = AlignParams()):
    if ct is None:
        ct = normalise(case.book, [Phrase(0, len(case.book))], EN, params.text)
    entries = [TranscriptEntry(f["start"], f["end"], f["transcript"]) for f in case.tlog]
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
            wrong.append((i, t["words"], case.book[u.text_start:u.text_end] if u else None))
    junk_accepted = sum(1 for i in junk if i in by_fragment)
    # fragments with an unread insert (page furniture, footnote mark) inside their true span
    inside = [i for i in real if any(case.truth[i]["orig_start"] < s < case.truth[i]["orig_end"]
                                     for s, _, _ in case.inserted)]
    wrong_ids = {w[0] for w in wrong}
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
        "inside": len(inside),
        "accepted_utts": by_fragment,
        "inside_ok": sum(1 for i in inside if i not in wrong_ids),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[25000, 50000, 100000])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--show-wrong", type=int, default=5, help="print up to N misaligned fragments")
    ap.add_argument("--kinds", nargs="+", default=sorted(KINDS), help="messy kinds (licenses, prose, tech)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="seeds of the messy cases")
    ap.add_argument("--messy-only", action="store_true", help="only the messy cases")
    ap.add_argument("--no-messy", action="store_true", help="only today's cases")
    ap.add_argument("--reader", nargs="+", default=["natural"], choices=["natural", "legacy"],
                    help="messy reader model(s): natural (cuts at pauses a reader makes) or legacy (cuts anywhere)")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the issue asks

    if not args.no_messy:
        messy(args)
    if args.messy_only:
        return
    print(f"{'case':<22}{'chars':>9}{'frags':>7}{'real':>6}{'exact':>7}{'exact %':>9}{'junk':>6}"
          f"{'junk acc':>9}{'wall s':>8}{'cpu s':>7}   rough / gap s")
    for size in args.sizes:
        r = run_case(make_case(args.seed, size), args.repeat, params=OLD)
        pct = 100.0 * r["exact"] / max(r["real"], 1)
        print(f"{'related':<22}{r['chars']:>9}{r['fragments']:>7}{r['real']:>6}{r['exact']:>7}{pct:>9.2f}"
              f"{r['junk']:>6}{r['junk_accepted']:>9}{r['time']:>8.3f}{r['cpu']:>7.3f}   "
              f"{r['timings']['rough']:.3f} / {r['timings']['gap']:.3f}")
        for i, words, got in r["wrong"][: args.show_wrong]:
            print(f"    fragment {i}: truth {words!r}\n{'':>18}got {got!r}")
    for name, kw in (("unrelated text", {"unrelated": True}), ("near-copy licenses", {"near_copies": True}),
                     ("near-copy + verbatim", {"near_copies": True, "keep_verbatim": True})):
        for label, params in (("", OLD), (" (defaults)", AlignParams())):
            case = make_case(args.seed, 100000, **kw)
            r = run_case(case, args.repeat, params=params)
            print(f"{name + label:<22}{r['chars']:>9}{r['fragments']:>7}{'-':>6}{'-':>7}{'-':>9}{r['junk']:>6}"
                  f"{r['accepted']:>9}{r['time']:>8.3f}{r['cpu']:>7.3f}   {r['timings']['rough']:.3f} / {r['timings']['gap']:.3f}")
            if r["accepted"] or kw.get("keep_verbatim"):
                verbatim_check(case, r, args.show_wrong)


def verbatim_label(label: str, spoken: str) -> bool:
    """The judgement of an accepted utterance of a text that was not (all) read: its label is
    verbatim when its words equal the words the reader said (the generator's record of the
    fragment, not its noisy transcript), up to one word at each end: after taking at most one word
    off each end of the label and of the spoken words, the two are the same letters (spaces
    aside: "and/or" may be said "andor" and written "and or"). A lost or claimed edge word is an
    edge error, judged elsewhere (exact %); any other difference (a replaced, added or missing
    inner word, two edge words) means the label does not say what the audio says."""
    L, S = label.split(), spoken.split()
    for a in range(2):
        for b in range(2):
            for c in range(2):
                for d in range(2):
                    core_l, core_s = L[a:len(L) - b], S[c:len(S) - d]
                    if core_l and "".join(core_l) == "".join(core_s):
                        return True
    return False


def verbatim_check(case, r, show: int) -> None:
    """Accepted utterances judged by verbatim_label; with keep_verbatim, also how many of the
    fragments found word for word in the text (true readings of it) were accepted verbatim."""
    good = [i for i, u in r["accepted_utts"].items() if verbatim_label(u.aligned, case.truth[i]["words"])]
    bad = [i for i in r["accepted_utts"] if i not in set(good)]
    for i in bad[:show]:
        print(f"    not verbatim: said {case.truth[i]['words']!r}\n{'':>18}label {r['accepted_utts'][i].aligned!r}")
    line = f"    accepted {len(r['accepted_utts'])}: {len(good)} verbatim, {len(bad)} not verbatim"
    true = [i for i, t in enumerate(case.truth) if t.get("verbatim")]
    if true:
        line += (f"; fragments read from the text (verbatim there): {len(true)}, accepted verbatim "
                 f"{sum(1 for i in true if i in set(good))}")
    print(line)


def messy(args) -> None:
    """Messy books (make_messy_case): exact % per kind and seed, junk accepted, time per stage."""
    print(f"{'kind':<10}{'reader':>8}{'seed':>5}{'chars':>8}{'frags':>7}{'real':>6}{'exact':>7}{'exact %':>9}{'ins.in':>7}"
          f"{'ok':>5}{'junk':>6}{'j.acc':>6}{'cpu s':>7}   normalise / index / rough / gap / metrics s")
    for kind, reader, seed in ((k, r, s) for k in args.kinds for r in args.reader for s in args.seeds):
        if True:
            case = make_messy_case(kind, seed, reader=reader)
            t0 = time.process_time()
            ct = normalise(case.book, [Phrase(0, len(case.book))], EN)
            t_norm = time.process_time() - t0
            r = run_case(case, args.repeat, ct)
            pct = 100.0 * r["exact"] / max(r["real"], 1)
            tm = r["timings"]
            print(f"{kind:<10}{reader:>8}{seed:>5}{r['chars']:>8}{r['fragments']:>7}{r['real']:>6}{r['exact']:>7}{pct:>9.2f}"
                  f"{r['inside']:>7}{r['inside_ok']:>5}{r['junk']:>6}{r['junk_accepted']:>6}{r['cpu'] + t_norm:>7.3f}   "
                  f"{t_norm:.3f} / {tm['index']:.3f} / {tm['rough']:.3f} / {tm['gap']:.3f} / {tm['metrics']:.3f}")
            for i, words, got in r["wrong"][: args.show_wrong]:
                t = case.truth[i]
                print(f"    fragment {i}: truth {case.book[t['orig_start']:t['orig_end']]!r}\n{'':>18}"
                      f"tlog  {case.tlog[i]['transcript']!r}\n{'':>18}got   {got!r}")


if __name__ == "__main__":
    main()
