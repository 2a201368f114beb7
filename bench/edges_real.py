#!/usr/bin/env python3
"""Utterance edge trimming (align/bounds.py) on real speech: does it cut into words?

Real read speech has no planted times, so the check is against two independent signals:
- the forced-aligned words of each utterance (`--output-words`, aligned on the *untrimmed* span):
  a trimmed end before the last word's end (or a trimmed start after the first word's start)
  means the trim cut what the acoustic model calls speech;
- the level of the audio the trim removed: its loudest 10 ms frame relative to the utterance's
  loud level (95th percentile of its frames).

Speech: the LibriVox clips of Debian's pocketsphinx-testdata, joined as they are (see
bench/librivox_align.py). The CLI runs once with `--no-trim-edges --output-words`; the trim is
then applied to those utterances with the default parameters (and a few others for comparison).

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
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from align.bounds import BoundsParams, frame_db, trim_span  # noqa: E402
from librivox_align import DATA, read_clips  # noqa: E402


def report(name: str, utts: list[dict], db: np.ndarray, p: BoundsParams) -> None:
    d_end, d_start, removed, cut = [], [], [], 0
    for u in utts:
        s, e = trim_span(db, u["start"], u["end"], p)
        ws = [w for w in u.get("words", []) if w.get("aligned")]
        if ws:
            d_end.append(e - ws[-1]["end"])
            d_start.append(ws[0]["start"] - s)
        loud = float(np.percentile(db[int(u["start"] / 10):int(u["end"] / 10)], 95))
        for a, b in ((u["start"], s), (e, u["end"])):
            if b - a >= 10:
                removed.append(float(db[int(a / 10):int(b / 10)].max()) - loud)
        cut += (s != u["start"]) + (e != u["end"])
    d_end, d_start = np.array(d_end), np.array(d_start)
    print(f"{name:34s} edges moved {cut:3d}/{2 * len(utts):3d}; trimmed end - last word end: median {np.median(d_end):+5.0f} "
          f"min {d_end.min():+5.0f} ms, < -20 ms: {int((d_end < -20).sum())}; first word start - trimmed start: "
          f"median {np.median(d_start):+5.0f} min {d_start.min():+5.0f}, < -20 ms: {int((d_start < -20).sum())}; "
          f"loudest removed frame {max(removed, default=float('nan')):+.0f} dB re the utterance's loud level")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("extra", nargs="*", help="more align options (after --)")
    args = ap.parse_args()
    if not (DATA / "transcription").exists():
        sys.exit(f"{DATA} not found: apt-get install pocketsphinx-testdata")
    clips = read_clips()
    with tempfile.TemporaryDirectory(prefix="edges-real-") as tmp:
        work = Path(tmp)
        parts, doc = [], ""
        for cid, text in clips:
            x, rate = sf.read(DATA / f"{cid}.wav", dtype="int16")
            parts.append(x)
            doc += text + "\n\n"
        audio = np.concatenate(parts)
        sf.write(work / "librivox.wav", audio, rate, subtype="PCM_16")
        (work / "librivox.txt").write_text(doc, encoding="utf-8")
        out = work / "librivox.aligned"
        cmd = [sys.executable, "-m", "align.cli.align", "--audio", str(work / "librivox.wav"), "--script",
               str(work / "librivox.txt"), "--aligned", str(out), "--lm-cache-dir", str(work / "lm"),
               "--no-progress", "--no-trim-edges", "--output-words", *args.extra]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if proc.returncode != 0:
            sys.exit(f"align failed ({proc.returncode}):\n{proc.stderr}")
        utts = json.loads(out.read_text(encoding="utf-8"))
    if rate != 16000:
        sys.exit("the clips are expected at 16 kHz")
    db = frame_db(audio, rate)
    print(f"{len(clips)} LibriVox clips, {len(audio) / rate:.1f} s, {len(utts)} utterances "
          f"(options: {' '.join(args.extra) or '(defaults)'})")
    default = BoundsParams()
    for name, p in (("default", default),
                    ("margin 3 dB", BoundsParams(margin_db=3.0, end_pad_ms=default.end_pad_ms)),
                    ("margin 9 dB", BoundsParams(margin_db=9.0, end_pad_ms=default.end_pad_ms)),
                    ("margin 12 dB, no pad", BoundsParams(margin_db=12.0, end_pad_ms=0.0))):
        report(name, utts, db, p)


if __name__ == "__main__":
    main()
