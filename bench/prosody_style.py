#!/usr/bin/env python3
"""The built-in prosody embedder: speed (x real time on one core) and style separation.

Speech in 8 styles: festival's cmu_us_slt_arctic_hts and kal_diphone voices (English), and
espeak-ng in English and Spanish at low/high pitch x slow/fast rate (-p 25|80, -s 120|210) and with
two voice variants (+f3, +m3). Every segment is embedded; for every pair of segments of the same
style and every pair across styles, the cosine of their prosody vectors is computed.

Reported:
- same > cross: over all (same-style pair, cross-style pair) combinations, the fraction in which
  the same-style pair has the higher cosine (the issue's bar: >= 90%);
- per-anchor: for each segment, the same fraction restricted to pairs that contain it (averaged);
- speed: seconds of audio per CPU second of `prosody.embed`, best of 3 runs, one thread.

    python3 bench/prosody_style.py
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from align.audio.load import load_audio  # noqa: E402
from align.mine import prosody  # noqa: E402
from align.mine.demo_audio import PAIRS  # noqa: E402

ESPEAK_STYLES = {"espeak low-slow": ("", 25, 120), "espeak high-slow": ("", 80, 120),
                 "espeak low-fast": ("", 25, 210), "espeak high-fast": ("", 80, 210),
                 "espeak +f3": ("+f3", 50, 165), "espeak +m3": ("+m3", 50, 165)}
FESTIVAL = {"festival slt": "cmu_us_slt_arctic_hts", "festival kal": "kal_diphone"}


def synth(work: Path, n_sent: int) -> list[tuple[str, str, np.ndarray]]:
    out = []
    en = [p[0] for p in PAIRS[:n_sent]]
    es = [p[1] for p in PAIRS[n_sent:2 * n_sent]]
    k = 0
    for style, (variant, pitch, speed) in ESPEAK_STYLES.items():
        for lang, texts in (("en-us", en[: n_sent // 2]), ("es", es[: n_sent // 2])):
            for t in texts:
                wav = work / f"{k}.wav"
                k += 1
                subprocess.run(["espeak-ng", "-v", lang + variant, "-p", str(pitch), "-s", str(speed), "-w", str(wav),
                                t], check=True, capture_output=True)
                out.append((style, lang[:2], load_audio(wav, 16000)))
    if shutil.which("text2wave"):
        for style, voice in FESTIVAL.items():
            for t in en:
                wav = work / f"{k}.wav"
                k += 1
                txt = work / f"{k}.txt"
                txt.write_text(t)
                subprocess.run(["text2wave", "-eval", f"(voice_{voice})", str(txt), "-o", str(wav)], check=True,
                               capture_output=True)
                out.append((style, "en", load_audio(wav, 16000)))
    else:
        print("(festival not installed: its two styles are skipped)")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", type=int, default=6, help="sentences per style (default 6)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        segs = synth(Path(tmp), args.sentences)
    audio_s = sum(len(x) for _, _, x in segs) / 16000
    best = None
    for _ in range(3):
        t = time.process_time()
        vecs = np.stack([prosody.embed(x) for _, _, x in segs])
        dt = time.process_time() - t
        best = dt if best is None else min(best, dt)
    styles = sorted({s for s, _, _ in segs})
    lab = np.array([styles.index(s) for s, _, _ in segs])
    v = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-9)
    sim = v @ v.T
    iu = np.triu_indices(len(segs), 1)
    same_mask = lab[iu[0]] == lab[iu[1]]
    same, cross = np.sort(sim[iu][same_mask]), np.sort(sim[iu][~same_mask])
    # fraction of (same, cross) combinations with same > cross (ties count half)
    wins = np.searchsorted(cross, same, side="left").sum() + 0.5 * (
        np.searchsorted(cross, same, side="right") - np.searchsorted(cross, same, side="left")).sum()
    auc = wins / (len(same) * len(cross))
    per = []
    for i in range(len(segs)):
        others = np.arange(len(segs)) != i
        s = sim[i][others & (lab == lab[i])]
        c = sim[i][others & (lab != lab[i])]
        per.append(np.mean(s[:, None] > c[None, :]))
    langs = sorted({lang for _, lang, _ in segs})
    print(f"{len(segs)} segments, {len(styles)} styles ({', '.join(styles)}), languages {', '.join(langs)}, "
          f"{audio_s:.0f} s of audio")
    print(f"same-style pair scores higher than cross-style pair: {100 * auc:.1f}% of {len(same) * len(cross)} "
          f"combinations (per-anchor mean {100 * np.mean(per):.1f}%); mean cosine same {same.mean():.3f}, "
          f"cross {cross.mean():.3f}")
    cross_lang = (lab[iu[0]] == lab[iu[1]]) & (np.array([segs[i][1] for i in iu[0]])
                                              != np.array([segs[j][1] for j in iu[1]]))
    if cross_lang.any():
        sl = np.sort(sim[iu][cross_lang])
        w = np.mean(sl[:, None] > cross[None, :])
        print(f"same style across languages (en-es pairs only) vs cross-style: {100 * w:.1f}%")
    print(f"speed: {audio_s / best:.0f}x real time on one core ({best:.2f} CPU s for {audio_s:.0f} s, best of 3)")


if __name__ == "__main__":
    main()
