#!/usr/bin/env python3
"""Real speech: the LibriVox clips of Debian's pocketsphinx-testdata, concatenated, aligned with
their transcription as the text.

The five clips (Sense and Sensibility, 24.7 s, 16 kHz) are joined as they are (no pause added)
into one WAV; the text has one paragraph per clip. A clip counts as aligned when the utterances
whose middle falls inside the clip carry, in order, exactly the clip's words (+-1 word at each
edge) and none of them reaches into another clip's text.

    python3 bench/librivox_align.py [-- EXTRA ALIGN OPTIONS]
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

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.speechgen import edge_equal, words  # noqa: E402

DATA = Path("/usr/share/pocketsphinx/test/data/librivox")


def read_transcription(path: Path) -> list[tuple[str, str]]:
    """(id, words) per line `<s> words </s> (id)` of a pocketsphinx test transcription."""
    clips = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\s*<s>(.*)</s>\s*\((\S+)\)", line)
        if m:
            clips.append((m[2], " ".join(m[1].split())))
    return clips


def read_clips() -> list[tuple[str, str]]:
    return read_transcription(DATA / "transcription")


def write_document(clips: list[tuple[str, str]], work: Path):
    """The clips joined as they are into work/librivox.wav, their transcriptions one paragraph
    each into work/librivox.txt. Returns (audio int16, rate, clip spans in ms, text spans)."""
    parts, spans, doc, text_spans, pos = [], [], "", [], 0
    rate = 16000
    for cid, text in clips:
        x, rate = sf.read(DATA / f"{cid}.wav", dtype="int16")
        parts.append(x)
        spans.append((pos * 1000.0 / rate, (pos + len(x)) * 1000.0 / rate))
        pos += len(x)
        text_spans.append((len(doc), len(doc) + len(text)))
        doc += text + "\n\n"
    audio = np.concatenate(parts)
    sf.write(work / "librivox.wav", audio, rate, subtype="PCM_16")
    (work / "librivox.txt").write_text(doc, encoding="utf-8")
    return audio, rate, spans, text_spans


def require_data() -> list[tuple[str, str]]:
    if not (DATA / "transcription").exists():
        sys.exit(f"{DATA} not found: apt-get install pocketsphinx-testdata")
    return read_clips()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("extra", nargs="*", help="more align options (after --)")
    args = ap.parse_args()
    clips = require_data()

    with tempfile.TemporaryDirectory(prefix="librivox-align-") as tmp:
        work = Path(tmp)
        audio, rate, spans, text_spans = write_document(clips, work)
        pos = len(audio)
        out = work / "librivox.aligned"
        cmd = [sys.executable, "-m", "align.cli.align", "--audio", str(work / "librivox.wav"), "--script",
               str(work / "librivox.txt"), "--aligned", str(out), "--lm-cache-dir", str(work / "lm"),
               "--no-progress", *args.extra]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(f"align failed ({proc.returncode}):\n{proc.stderr}")
        aligned = json.loads(out.read_text(encoding="utf-8"))
        fragments = json.loads((work / "librivox.tlog").read_text(encoding="utf-8"))["fragments"]

    ok = 0
    print(f"{len(clips)} clips, {pos / rate:.1f} s, {len(fragments)} VAD fragments, {len(aligned)} utterances, "
          f"wall {wall:.1f} s; options: {' '.join(args.extra) or '(defaults)'}")
    for (cid, text), (a, b), (ta, tb) in zip(clips, spans, text_spans):
        mine = [u for u in aligned if a <= (u["start"] + u["end"]) / 2 < b]
        got = [w for u in mine for w in words(u["aligned-raw"])]
        inside = all(ta - 1 <= u["text-start"] and u["text-end"] <= tb + 1 for u in mine)
        good = bool(mine) and inside and edge_equal(got, words(text))
        ok += good
        print(f"{'ok  ' if good else 'MISS'} {cid[-4:]} [{a / 1000:.2f}-{b / 1000:.2f} s] {text[:60]!r}")
        if not good:
            for u in mine:
                print(f"      utterance [{u['start'] / 1000:.2f}-{u['end'] / 1000:.2f}] {u['aligned-raw']!r}")
            for f in fragments:
                if f["start"] < b and f["end"] > a:
                    print(f"      fragment  [{f['start'] / 1000:.2f}-{f['end'] / 1000:.2f}] stt: {f['transcript']!r}")
    print(f"clips aligned to their text: {ok}/{len(clips)} (target: all)")


if __name__ == "__main__":
    main()
