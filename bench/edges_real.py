#!/usr/bin/env python3
"""Utterance edge trimming (align/bounds.py) on real speech: does it cut into words?

Real read speech has no planted times, so the check is against two independent signals:
- the forced-aligned words of each utterance (`--output-words`, aligned on the *untrimmed* span):
  a trimmed end before the last word's end (or a trimmed start after the first word's start)
  means the trim cut what the acoustic model calls speech;
- the level of the audio the trim removed: its loudest 10 ms frame relative to the utterance's
  loud level (95th percentile of its frames).

Speech: the LibriVox clips of Debian's pocketsphinx-testdata, joined as they are (see
bench/librivox_align.py). The CLI runs with `--no-trim-edges --output-words` (the reference),
then with the defaults and two other trim settings on the same .tlog.

    python3 bench/edges_real.py [-- EXTRA ALIGN OPTIONS]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from align.bounds import frame_db  # noqa: E402
from librivox_align import require_data, write_document  # noqa: E402


def report(name: str, ref: list[dict], utts: list[dict], db: np.ndarray) -> None:
    """Edges of `utts` (trimmed) against the words of the same utterances aligned untrimmed (`ref`)."""
    by_text = {(u["text-start"], u["text-end"]): u for u in ref}
    d_end, d_start, removed, cut, n = [], [], [], 0, 0
    for u in utts:
        r = by_text.get((u["text-start"], u["text-end"]))
        if r is None:
            continue
        n += 1
        ws = [w for w in r.get("words", []) if w.get("aligned")]
        if ws:
            d_end.append(u["end"] - ws[-1]["end"])
            d_start.append(ws[0]["start"] - u["start"])
        loud = float(np.percentile(db[int(r["start"] / 10):int(r["end"] / 10)], 95))
        for a, b in ((r["start"], u["start"]), (u["end"], r["end"])):
            if b - a >= 10:
                removed.append(float(db[int(a / 10):int(b / 10)].max()) - loud)
        cut += (u["start"] != r["start"]) + (u["end"] != r["end"])
    d_end, d_start = np.array(d_end), np.array(d_start)
    print(f"{name:22s} edges moved {cut:2d}/{2 * n:2d}; end - last word's end: median {np.median(d_end):+4.0f} ms, "
          f"all: {' '.join(f'{d:+.0f}' for d in sorted(d_end))}; first word's start - start: median "
          f"{np.median(d_start):+4.0f}, all: {' '.join(f'{d:+.0f}' for d in sorted(d_start))}; loudest removed frame "
          f"{max(removed, default=float('nan')):+.0f} dB re the utterance's loud level")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("extra", nargs="*", help="more align options (after --)")
    args = ap.parse_args()
    clips = require_data()
    with tempfile.TemporaryDirectory(prefix="edges-real-") as tmp:
        work = Path(tmp)
        audio, rate, _spans, _text_spans = write_document(clips, work)
        runs = {}
        for name, opts in (("reference", ["--no-trim-edges", "--output-words"]), ("default", []),
                           ("energy only", ["--trim-word-cap-ms", "none"]),
                           ("energy, spread 8 dB", ["--trim-word-cap-ms", "none", "--trim-spread-db", "8"])):
            out = work / f"librivox-{len(runs)}.aligned"
            cmd = [sys.executable, "-m", "align.cli.align", "--audio", str(work / "librivox.wav"), "--script",
                   str(work / "librivox.txt"), "--aligned", str(out), "--lm-cache-dir", str(work / "lm"),
                   "--tlog", str(work / "librivox.tlog"), "--no-progress", *opts, *args.extra]
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            if proc.returncode != 0:
                sys.exit(f"align failed ({proc.returncode}):\n{proc.stderr}")
            runs[name] = json.loads(out.read_text(encoding="utf-8"))
    if rate != 16000:
        sys.exit("the clips are expected at 16 kHz")
    db = frame_db(audio, rate)
    print(f"{len(clips)} LibriVox clips, {len(audio) / rate:.1f} s, {len(runs['reference'])} utterances "
          f"(options: {' '.join(args.extra) or '(defaults)'}); reference: the words aligned in the untrimmed utterances")
    for name, utts in runs.items():
        if name != "reference":
            report(name, runs["reference"], utts, db)


if __name__ == "__main__":
    main()
