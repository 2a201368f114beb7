#!/usr/bin/env python3
"""End-to-end benchmark: the full `align` CLI on the synthesised GPL-3 speech (make_speech_bench.py).

Runs `align --audio speech.wav --script text.txt --aligned OUT --stt-workers 2` (defaults otherwise:
webrtc VAD, pocketsphinx, document LM built fresh in a temp cache) and reports:
- spoken sentences recovered: an utterance whose aligned text equals the sentence (+-1 word at
  each edge) with start and end within 0.25 s of the truth;
- utterances assigned unspoken text (headers, page numbers, sentences left out of the audio);
- wall time per audio second and the time of each stage (from the CLI's log);
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


def evaluate(truth: dict, aligned: list[dict], fragments: list[dict]) -> dict:
    items = truth["items"]
    spoken = [it for it in items if it["spoken"]]
    missed = []
    for it in spoken:
        good = [u for u in aligned if edge_equal(words(u["aligned-raw"]), words(it["text"]))]
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
    return {"spoken": len(spoken), "recovered": len(spoken) - len(missed), "missed": missed,
            "utterances": len(aligned), "assigned_unspoken": wrong}


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", type=Path, default=ROOT / "bench" / "out" / "speech")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--report", type=Path, default=None, help="write the full report (JSON) here")
    ap.add_argument("--keep", type=Path, default=None, help="keep the work dir (.tlog, .aligned, log) here")
    ap.add_argument("extra", nargs="*", help="more align options (after --)")
    args = ap.parse_args()

    if not (args.bench / "truth.json").exists():
        from bench.make_speech_bench import build

        build(args.bench, 10.0, 1)
    truth = json.loads((args.bench / "truth.json").read_text(encoding="utf-8"))
    truth["_doc"] = (args.bench / truth["text"]).read_text(encoding="utf-8")

    with tempfile.TemporaryDirectory(prefix="e2e-align-") as tmp:
        work = Path(tmp)
        wav = work / "speech.wav"
        wav.write_bytes((args.bench / truth["audio"]).read_bytes())   # fresh: no .tlog beside it
        out = work / "speech.aligned"
        cmd = [sys.executable, "-m", "align.cli.align", "--audio", str(wav), "--script",
               str(args.bench / truth["text"]), "--aligned", str(out), "--stt-workers", str(args.workers),
               "--lm-cache-dir", str(work / "lm"), "--no-progress", *args.extra]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(f"align failed ({proc.returncode}):\n{proc.stderr}")
        aligned = json.loads(out.read_text(encoding="utf-8"))
        tlog = json.loads(wav.with_suffix(".tlog").read_text(encoding="utf-8"))
        if args.keep:
            import shutil

            (work / "align.log").write_text(proc.stderr, encoding="utf-8")
            shutil.rmtree(work / "lm", ignore_errors=True)
            shutil.copytree(work, args.keep, dirs_exist_ok=True)

    res = evaluate(truth, aligned, tlog["fragments"])
    times = parse_times(proc.stderr)
    dur = truth["duration_s"]
    pct = 100.0 * res["recovered"] / res["spoken"]
    print(f"audio {dur:.1f} s, {res['spoken']} spoken sentences, {times.get('fragments', '?')} VAD fragments, "
          f"{res['utterances']} utterances; options: {' '.join(args.extra) or '(defaults)'}")
    print(f"recovered: {res['recovered']}/{res['spoken']} = {pct:.1f}% (target >= 97%)")
    print(f"utterances assigned unspoken text: {len(res['assigned_unspoken'])} (target 0)")
    print(f"wall: {wall:.1f} s = {wall / dur:.3f} s per audio second with {args.workers} workers (target <= 0.1)")
    if times:
        print("stages (s): " + ", ".join(f"{k} {v:.2f}" for k, v in times.items() if k not in ("fragments", "fragments_per_s"))
              + f"; STT {times.get('fragments_per_s', 0):.1f} fragments/s, "
              f"{times.get('stt', 0) / dur:.3f} s per audio second")
    for m in res["missed"]:
        print(f"- missed [{m['start_ms'] / 1000:.2f}-{m['end_ms'] / 1000:.2f} s] {m['sentence'][:70]!r}: {m['why']}")
        for u in m["utterances"]:
            print(f"    utterance [{u['start'] / 1000:.2f}-{u['end'] / 1000:.2f}] {u['aligned'][:90]!r}")
        for f in m["fragments"]:
            print(f"    fragment  [{f['start'] / 1000:.2f}-{f['end'] / 1000:.2f}] stt: {f['transcript'][:90]!r}")
    for w in res["assigned_unspoken"]:
        print(f"- unspoken text assigned: {w['unspoken']} <- utterance {w['utterance'][:80]!r}")
    if args.report:
        args.report.write_text(json.dumps({"wall_s": wall, "audio_s": dur, "times": times, **res}, indent=1) + "\n")


if __name__ == "__main__":
    main()
