"""`align --demo`: synthesise a short reading, align it with the full pipeline, show the result.

The text has a header and a page number nobody reads; the audio is the body read sentence by
sentence by a speech synthesiser (festival's HTS voice, or espeak-ng), with pauses between.
"""

from __future__ import annotations

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


def run_demo(config, demo_dir: Path | None = None, aligned: Path | None = None) -> int:
    """Synthesise the sample, align it with `config` (sentence merging and CER turned on), print it.

    With `demo_dir` the files are kept there; otherwise they live in a temporary directory that is
    deleted afterwards (and only `aligned`, if given, is kept)."""
    import contextlib
    import dataclasses

    from .pipeline import DocumentJob, align_document
    from .text.metrics import METRIC_IDS

    p = config.align
    config = config.replace(
        align=dataclasses.replace(p, merge=dataclasses.replace(p.merge, enabled=True),
                                  filters=dataclasses.replace(p.filters, output=tuple(
            m for m in METRIC_IDS if m in p.filters.output or m == "cer"))),
        run=dataclasses.replace(config.run, force=True))
    with contextlib.ExitStack() as stack:
        if demo_dir is None:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="align-demo-")))
        else:
            work = Path(demo_dir)
            work.mkdir(parents=True, exist_ok=True)
        print("align demo: synthesising a short reading ...", file=sys.stderr)
        audio, text = make_sample(work)
        out = Path(aligned) if aligned else work / "demo.aligned"
        result = align_document(DocumentJob(script=text, aligned=out, audio=audio), config)
        print(f"\ntext: {text.read_text(encoding='utf-8')!r}\n")
        print(f"{len(result.utterances)} utterances (start-end s, character error rate, aligned text):")
        for u in result.utterances:
            print(f"  {u.start / 1000:6.2f}-{u.end / 1000:6.2f}  cer {u.metrics['cer']:.2f}  {u.aligned_raw}")
        if aligned:
            print(f"\nwrote {aligned}")
        if demo_dir is not None:
            print(f"demo files kept in {work}: {', '.join(sorted(p.name for p in work.iterdir() if p.suffix != '.txt' or p.stem == 'demo'))}")
        else:
            print("(temporary files removed; pass --demo-dir DIR to keep them)")
        return 0
