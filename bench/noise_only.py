#!/usr/bin/env python3
"""Audio with no speech at all: what does `align` make of it?

Writes two minutes of noise (white noise low-passed by a 4-tap mean, the speech suite's noise, in
0.5 s steps of -6..+6 dB, so the VAD has bursts to open on) at three levels, and runs

    align --audio noise.wav --script TEXT --aligned OUT --stt-workers 2 [ALIGN OPTIONS]

on each, reporting the VAD fragments, the utterances written (target 0), the exit status (3: the
text probably does not belong to the audio) and the wall time.

    python3 bench/noise_only.py [--text FILE] [-- ALIGN OPTIONS]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
RATE = 16000


def noise(seconds: float, dbfs: float, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(RATE * seconds)
    w = np.convolve(rng.standard_normal(n), np.ones(4) / 4, mode="same")
    steps = rng.uniform(-6, 6, n // (RATE // 2) + 1)
    w *= 10 ** (np.repeat(steps, RATE // 2)[:n] / 20)
    w *= 32768 * 10 ** (dbfs / 20) / np.sqrt((w ** 2).mean())
    return np.clip(w, -32768, 32767).astype(np.int16)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--text", type=Path, default=Path("/usr/share/common-licenses/GPL-3"))
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("extra", nargs="*", help="more align options (after --)")
    args = ap.parse_args()
    print(f"options: {' '.join(args.extra) or '(defaults)'}; text {args.text}")
    with tempfile.TemporaryDirectory(prefix="noise-only-") as tmp:
        work = Path(tmp)
        for db in (-50, -40, -30):
            wav = work / f"noise{-db}.wav"
            sf.write(str(wav), noise(args.seconds, db), RATE, subtype="PCM_16")
            cmd = [sys.executable, "-m", "align.cli.align", "--audio", str(wav), "--script", str(args.text),
                   "--aligned", str(work / f"noise{-db}.aligned"), "--stt-workers", "2", "--no-progress",
                   "--lm-cache-dir", str(work / "lm"), *args.extra]
            t0 = time.perf_counter()
            p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            wall = time.perf_counter() - t0
            frags = re.search(r"VAD \(\w+\): (\d+) fragments", p.stderr)
            utts = re.search(r"wrote (\d+) utterances", p.stderr)
            print(f"noise at {db} dBFS: {frags[1] if frags else '?'} VAD fragments, "
                  f"{utts[1] if utts else '?'} utterances (target 0), exit {p.returncode}, wall {wall:.1f} s")


if __name__ == "__main__":
    main()
