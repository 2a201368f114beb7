"""`align --demo`: synthesise a short reading, align it with the full pipeline, show the result.

The text has a header and a page number nobody reads; the audio is the body read sentence by
sentence by a speech synthesiser (festival's HTS voice, or espeak-ng), with pauses between.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from .common.errors import MissingDependencyError

log = logging.getLogger(__name__)

HEADER = "THE LIGHTHOUSE KEEPER'S LOG\n\n"
FOOTER = "\n\n- 7 -\n"
SENTENCES = [
    "Every evening the keeper climbed the narrow stairs to light the lamp.",
    "He counted the steps aloud, because the wind made it easy to lose his place.",
    "On clear nights he could see the harbour lights across the bay.",
    "When the fog came in, he wound the clockwork horn and listened for the ships.",
    "In the morning he wrote down the weather, the ships he had seen, and the oil he had used.",
]
PAUSES_S = [0.8, 0.5, 1.1, 0.7]
RATE = 16000


def _synthesise(sentence: str, work: Path, k: int) -> Path:
    wav = work / f"s{k}.wav"
    txt = work / f"s{k}.txt"
    txt.write_text(sentence + "\n", encoding="utf-8")
    if shutil.which("text2wave") and Path("/usr/share/festival/voices/us/cmu_us_slt_arctic_hts").exists():
        cmd = ["text2wave", "-eval", "(voice_cmu_us_slt_arctic_hts)", str(txt), "-o", str(wav)]
    elif shutil.which("espeak-ng"):
        cmd = ["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), "-f", str(txt)]
    else:
        raise MissingDependencyError("a speech synthesiser for the demo (festival or espeak-ng)",
                                     "run `bash bin/setup.sh` (installs festival and espeak-ng)")
    subprocess.run(cmd, check=True, capture_output=True)
    return wav


def make_sample(work: Path) -> tuple[Path, Path]:
    """Write demo.wav (16 kHz mono) and demo.txt into `work`."""
    import soundfile as sf

    from .audio.load import load_audio

    parts = []
    for k, sentence in enumerate(SENTENCES):
        parts.append(load_audio(_synthesise(sentence, work, k), RATE))
        if k < len(PAUSES_S):
            parts.append(np.zeros(int(PAUSES_S[k] * RATE), np.int16))
    audio = work / "demo.wav"
    sf.write(audio, np.concatenate(parts), RATE, subtype="PCM_16")
    text = work / "demo.txt"
    text.write_text(HEADER + " ".join(SENTENCES) + FOOTER, encoding="utf-8")
    return audio, text


def run_demo(args: argparse.Namespace) -> int:
    from .cli.align import build_parser, run_align
    from .common.fileio import read_json

    with tempfile.TemporaryDirectory(prefix="align-demo-") as tmp:
        work = Path(tmp)
        print("align demo: synthesising a short reading ...", file=sys.stderr)
        audio, text = make_sample(work)
        out = args.aligned or work / "demo.aligned"
        demo_args = build_parser().parse_args([
            "--audio", str(audio), "--script", str(text), "--aligned", str(out), "--force",
            "--stt-workers", str(args.stt_workers), "--merge-sentences", "--output-cer",
            *(["--no-progress"] if args.no_progress else []),
            *(["--lm-cache-dir", str(args.lm_cache_dir)] if args.lm_cache_dir else []),
        ])
        rc = run_align(demo_args)
        utterances = read_json(out)
        print(f"\ntext: {text.read_text(encoding='utf-8')!r}\n")
        print(f"{len(utterances)} utterances (start-end s, character error rate, aligned text):")
        for u in utterances:
            print(f"  {u['start'] / 1000:6.2f}-{u['end'] / 1000:6.2f}  cer {u['cer']:.2f}  {u['aligned-raw']}")
        if args.aligned:
            print(f"\nwrote {args.aligned}")
        return rc
