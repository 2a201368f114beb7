#!/usr/bin/env python3
"""End-to-end benchmark: the full `align` CLI on the synthesised GPL-3 speech (make_speech_bench.py).

Runs `align --audio speech.wav --script text.txt --aligned OUT --stt-workers 2` (defaults otherwise:
webrtc VAD, pocketsphinx, document LM built fresh in a temp cache) and reports:
- spoken sentences as one utterance with the right text (+-1 word at each edge), and how many of
  those also have start and end within 0.25 s of the truth; the median start and end errors of
  the right-text utterances. A sentence longer than the utterance limit (--max-utterance-duration,
  20 s by default; none with --no-merge) is cut by the tool at a pause: it counts when its
  pieces, in order and each within the limit, say it (their count is printed);
- utterances assigned unspoken text (headers, page numbers, sentences left out of the audio);
- wall time per audio second and the time of each stage (from the CLI's log), and the CPU time
  (user + system) of the CLI and its worker processes per audio second: unlike wall time, it
  hardly depends on what else the machine runs;
- for each missed sentence, why: the VAD fragments (from the .tlog) and utterances around it.

    python3 bench/e2e_align.py [--bench DIR] [--workers 2] [-- EXTRA ALIGN OPTIONS]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.speechgen import edge_equal, words  # noqa: E402

TOL_MS = 250.0


def overlaps(a0, a1, b0, b1) -> bool:
    return a0 < b1 and a1 > b0


def limit_from(extra: list[str]) -> float | None:
    """The utterance length limit (ms) the options give: --max-utterance-duration (20 s by
    default), none with --no-merge."""
    if "--no-merge" in extra:
        return None
    for k, a in enumerate(extra):
        if a == "--max-utterance-duration" and k + 1 < len(extra):
            return 1000.0 * float(extra[k + 1])
        if a.startswith("--max-utterance-duration="):
            return 1000.0 * float(a.split("=", 1)[1])
    return 20000.0


def in_pieces(it: dict, aligned: list[dict], limit_ms: float | None) -> dict | None:
    """A sentence longer than the utterance limit cannot be one utterance: the tool cuts it at its
    longest pause. It counts when the utterances over it, in order, say the sentence (+-1 word at
    its outer edges), are at least two and each within the limit; returned as one joined
    utterance (first start, last end)."""
    if limit_ms is None or it["end_ms"] - it["start_ms"] <= limit_ms:
        return None
    pieces = sorted((u for u in aligned if overlaps(u["start"], u["end"], it["start_ms"], it["end_ms"])),
                    key=lambda u: u["start"])
    if len(pieces) < 2 or any(u["end"] - u["start"] > limit_ms + 1.0 for u in pieces):
        return None
    said = [w for u in pieces for w in words(u["aligned-raw"])]
    if not edge_equal(said, words(it["text"])):
        return None
    return {"start": pieces[0]["start"], "end": pieces[-1]["end"], "aligned-raw": " ".join(said)}


def evaluate(truth: dict, aligned: list[dict], fragments: list[dict], limit_ms: float | None = 20000.0) -> dict:
    items = truth["items"]
    spoken = [it for it in items if it["spoken"]]
    missed = []
    start_err, end_err = [], []
    over = cut = 0
    for it in spoken:
        good = [u for u in aligned if edge_equal(words(u["aligned-raw"]), words(it["text"]))]
        if limit_ms is not None and it["end_ms"] - it["start_ms"] > limit_ms:
            over += 1
            joined = in_pieces(it, aligned, limit_ms)
            if joined is not None and not good:
                good, cut = [joined], cut + 1
        if good:
            u = min(good, key=lambda u: abs(u["start"] - it["start_ms"]) + abs(u["end"] - it["end_ms"]))
            start_err.append(abs(u["start"] - it["start_ms"]))
            end_err.append(abs(u["end"] - it["end_ms"]))
        timed = [u for u in good if abs(u["start"] - it["start_ms"]) <= TOL_MS and abs(u["end"] - it["end_ms"]) <= TOL_MS]
        if timed:
            continue
        frs = [f for f in fragments if overlaps(f["start"], f["end"], it["start_ms"], it["end_ms"])]
        if good:
            why = "text right, times off by " + ", ".join(
                f"{u['start'] - it['start_ms']:+.0f}/{u['end'] - it['end_ms']:+.0f} ms" for u in good)
        elif len(frs) > 1:
            why = f"VAD split the sentence into {len(frs)} fragments"
        elif len(frs) == 1 and sum(overlaps(frs[0]["start"], frs[0]["end"], o["start_ms"], o["end_ms"]) for o in spoken) > 1:
            why = "VAD merged it with a neighbouring sentence"
        elif not frs:
            why = "no VAD fragment"
        else:
            why = "one fragment, but its utterance text differs (STT or text alignment)"
        if frs and frs[0]["start"] - it["start_ms"] > TOL_MS:
            # the recogniser never heard the first words: a VAD onset problem, whatever followed
            why += f"; its first fragment starts {frs[0]['start'] - it['start_ms']:.0f} ms late"
        missed.append({
            "sentence": it["text"], "start_ms": it["start_ms"], "end_ms": it["end_ms"], "why": why,
            "fragments": [{"start": f["start"], "end": f["end"], "transcript": f["transcript"]} for f in frs],
            "utterances": [{"start": u["start"], "end": u["end"], "aligned": u["aligned-raw"]} for u in aligned
                           if overlaps(u["start"], u["end"], it["start_ms"], it["end_ms"])],
        })
    unspoken = [it for it in items if not it["spoken"]]
    wrong = []
    for u in aligned:
        hit = [it for it in unspoken if overlaps(u["text-start"], u["text-end"], it["start"], it["end"])
               and words(truth_text_slice(truth, u, it))]
        if hit:
            wrong.append({"utterance": u["aligned-raw"], "start": u["start"], "end": u["end"],
                          "unspoken": [f"{it['kind']}: {it['text'][:60]}" for it in hit]})
    import statistics

    text_right = len(spoken) - sum(1 for m in missed if not m["why"].startswith("text right"))
    return {"spoken": len(spoken), "recovered": len(spoken) - len(missed), "text_right": text_right, "missed": missed,
            "utterances": len(aligned), "assigned_unspoken": wrong, "over_limit": over, "over_limit_in_pieces": cut,
            "median_start_err_ms": statistics.median(start_err) if start_err else None,
            "median_end_err_ms": statistics.median(end_err) if end_err else None}


def truth_text_slice(truth: dict, u: dict, it: dict) -> str:
    """The part of the unspoken item the utterance covers."""
    doc = truth["_doc"]
    return doc[max(u["text-start"], it["start"]):min(u["text-end"], it["end"])]


def parse_times(log: str) -> dict:
    out = {}
    m = re.search(r"times: load ([\d.]+) s, VAD ([\d.]+) s, LM ([\d.]+) s, STT ([\d.]+) s \((\d+) fragments, ([\d.]+) fragments/s", log)
    if m:
        out.update(load=float(m[1]), vad=float(m[2]), lm=float(m[3]), stt=float(m[4]), fragments=int(m[5]),
                   fragments_per_s=float(m[6]))
    m = re.search(r"alignment ([\d.]+) s", log)
    if m:
        out["alignment"] = float(m[1])
    return out


def run_one(bench: Path, workers: int, extra: list[str], keep: Path | None = None, quiet: bool = False) -> dict:
    if not (bench / "truth.json").exists():
        from bench.make_speech_bench import build

        build(bench, 10.0, 1)
    truth = json.loads((bench / "truth.json").read_text(encoding="utf-8"))
    truth["_doc"] = (bench / truth["text"]).read_text(encoding="utf-8")

    with tempfile.TemporaryDirectory(prefix="e2e-align-") as tmp:
        work = Path(tmp)
        wav = work / "speech.wav"
        wav.write_bytes((bench / truth["audio"]).read_bytes())   # fresh: no .tlog beside it
        out = work / "speech.aligned"
        cmd = [sys.executable, "-m", "align.cli.align", "--audio", str(wav), "--script",
               str(bench / truth["text"]), "--aligned", str(out), "--stt-workers", str(workers),
               "--lm-cache-dir", str(work / "lm"), "--no-progress", *extra]
        import resource

        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU of the CLI and its worker processes (user + system): what the run costs whatever the load
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        if proc.returncode not in (0, 3):
            sys.exit(f"align failed ({proc.returncode}):\n{proc.stderr}")
        aligned = json.loads(out.read_text(encoding="utf-8"))
        tlog = json.loads(wav.with_suffix(".tlog").read_text(encoding="utf-8"))
        if keep:
            import shutil

            (work / "align.log").write_text(proc.stderr, encoding="utf-8")
            shutil.rmtree(work / "lm", ignore_errors=True)
            shutil.copytree(work, keep, dirs_exist_ok=True)

    res = evaluate(truth, aligned, tlog["fragments"], limit_from(extra))
    times = parse_times(proc.stderr)
    m = re.search(r"second pass: \d+ round.*\(([\d.]+) s\)", proc.stderr)
    if m:
        times["second_pass"] = float(m[1])
    dur = truth["duration_s"]
    res.update(wall_s=wall, cpu_s=cpu, audio_s=dur, times=times, variant=truth.get("variant", bench.name))
    if quiet:
        return res
    pct = 100.0 * res["recovered"] / res["spoken"]
    print(f"audio {dur:.1f} s, {res['spoken']} spoken sentences, {times.get('fragments', '?')} VAD fragments, "
          f"{res['utterances']} utterances; options: {' '.join(extra) or '(defaults)'}")
    print(f"one utterance with the right text: {res['text_right']}/{res['spoken']} = "
          f"{100.0 * res['text_right'] / res['spoken']:.1f}% (target >= 97%)")
    print(f"... and both ends within {TOL_MS:.0f} ms: {res['recovered']}/{res['spoken']} = {pct:.1f}%")
    if res["over_limit"]:
        print(f"sentences longer than the utterance limit: {res['over_limit']}, counted right when their pieces "
              f"say them in order: {res['over_limit_in_pieces']}")
    print(f"utterances assigned unspoken text: {len(res['assigned_unspoken'])} (target 0)")
    print(f"median boundary error: start {res['median_start_err_ms']} ms, end {res['median_end_err_ms']} ms (target <= 100)")
    print(f"wall: {wall:.1f} s = {wall / dur:.3f} s per audio second with {workers} workers; "
          f"CPU (user + system, all processes): {cpu:.1f} s = {cpu / dur:.3f} s per audio second")
    if times:
        print("stages (s): " + ", ".join(f"{k} {v:.2f}" for k, v in times.items() if k not in ("fragments", "fragments_per_s"))
              + f"; STT {times.get('fragments_per_s', 0):.1f} fragments/s, "
              f"{times.get('stt', 0) / dur:.3f} s per audio second")
    print_misses(res)
    return res


def print_misses(res: dict) -> None:
    for m in res["missed"]:
        print(f"- missed [{m['start_ms'] / 1000:.2f}-{m['end_ms'] / 1000:.2f} s] {m['sentence'][:70]!r}: {m['why']}")
        for u in m["utterances"]:
            print(f"    utterance [{u['start'] / 1000:.2f}-{u['end'] / 1000:.2f}] {u['aligned'][:90]!r}")
        for f in m["fragments"]:
            print(f"    fragment  [{f['start'] / 1000:.2f}-{f['end'] / 1000:.2f}] stt: {f['transcript'][:90]!r}")
    for w in res["assigned_unspoken"]:
        print(f"- unspoken text assigned: {w['unspoken']} <- utterance {w['utterance'][:80]!r}")


def _ms(v) -> str:
    """A median error for the table: '-' where no utterance had the right text (no median)."""
    return "-" if v is None else f"{v:.0f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", type=Path, default=ROOT / "bench" / "out" / "speech")
    ap.add_argument("--suite", type=Path, default=None,
                    help="a directory of variants (make_speech_bench.py --suite): one table row each")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--report", type=Path, default=None, help="write the full report (JSON) here")
    ap.add_argument("--keep", type=Path, default=None, help="keep the work dir (.tlog, .aligned, log) here")
    ap.add_argument("-v", "--verbose", action="store_true", help="--suite: list the misses of every variant")
    ap.add_argument("extra", nargs="*", help="more align options (after --)")
    args = ap.parse_args()

    if args.suite is None:
        res = run_one(args.bench, args.workers, args.extra, args.keep)
        if args.report:
            args.report.write_text(json.dumps(res, indent=1) + "\n")
        return
    rows = []
    print(f"options: {' '.join(args.extra) or '(defaults)'}, {args.workers} workers")
    print(f"{'variant':<14} {'audio s':>7} {'sent':>4} {'right':>7} {'+timed':>7} {'unspoken':>8} {'start ms':>8} "
          f"{'end ms':>7} {'wall/s':>7} {'cpu/s':>6} {'stt/s':>6} {'2nd s':>6} {'>limit':>6}")
    for d in sorted(p for p in args.suite.iterdir() if (p / "truth.json").exists()):
        res = run_one(d, args.workers, args.extra, args.keep / d.name if args.keep else None, quiet=True)
        rows.append(res)
        t = res["times"]
        print(f"{res['variant']:<14} {res['audio_s']:7.1f} {res['spoken']:4d} "
              f"{100.0 * res['text_right'] / res['spoken']:6.1f}% "
              f"{100.0 * res['recovered'] / res['spoken']:6.1f}% {len(res['assigned_unspoken']):8d} "
              f"{_ms(res['median_start_err_ms']):>8} {_ms(res['median_end_err_ms']):>7} "
              f"{res['wall_s'] / res['audio_s']:7.3f} {res['cpu_s'] / res['audio_s']:6.3f} "
              f"{t.get('stt', 0) / res['audio_s']:6.3f} "
              f"{t.get('second_pass', 0):6.1f} {res['over_limit_in_pieces']:>2d} of {res['over_limit']:<2d}", flush=True)
        if args.verbose:
            print_misses(res)
    if args.report:
        args.report.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
