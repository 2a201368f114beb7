"""align-export speed and correctness: 1,000 utterances from one hour of audio.

    python bench/export_bench.py [--repeat 3] [--workdir DIR]

Makes one hour of audio (16 kHz mono WAV, and 44.1 kHz stereo FLAC for the resampling path) and an
.aligned file with 1,000 utterances of 1–5.5 s at irregular, fractional-millisecond times, then
times the export (library call, wall clock; best and median of --repeat runs) into a directory
(WAV, FLAC) and into tar shards. After each run it checks the quality bars: every clip decodes, its
length equals end - start within one sample, and the manifest durations sum to the clips'.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from align.export.audio import AudioFormat  # noqa: E402
from align.export.pipeline import Document, ExportConfig, export  # noqa: E402

HOUR = 3600
N = 1000


def make_inputs(work: Path) -> tuple[Path, Path, Path]:
    rng = np.random.default_rng(7)
    wav = work / "hour.wav"
    if not wav.exists():
        # noise bursts with a slow envelope: cheap, and not compressible to nothing by FLAC
        x = rng.standard_normal(HOUR * 16000).astype(np.float32)
        env = 0.05 + 0.25 * (1 + np.sin(np.arange(len(x)) / 16000 * 2 * np.pi * 0.3)) / 2
        sf.write(wav, (x * env).clip(-1, 1), 16000, subtype="PCM_16")
    flac = work / "hour44k.flac"
    if not flac.exists():
        with sf.SoundFile(flac, "w", 44100, 2, format="FLAC", subtype="PCM_16") as f:
            for k in range(HOUR // 60):
                x = rng.standard_normal((60 * 44100, 2)).astype(np.float32) * 0.1
                f.write(x)
    aligned = work / "hour.aligned"
    utts = []
    t = 250.0
    for i in range(N):
        dur = float(rng.uniform(1000, 5500))
        start = round(t + float(rng.uniform(0, 300)), 3)
        end = round(start + dur, 3)
        t = end
        utts.append({"start": start, "end": end, "transcript": f"utterance {i}", "text-start": i * 20,
                     "text-end": i * 20 + 14, "meta": {"speaker": [f"s{i % 40}"]}, "aligned-raw": f"Utterance {i}.",
                     "aligned": f"utterance {i}", "cer": float(rng.uniform(0, 0.3))})
    assert t < HOUR * 1000
    aligned.write_text(json.dumps(utts), encoding="utf-8")
    return wav, flac, aligned


def check_dir(out: Path, utts: list[dict], rate: int) -> str:
    rows = []
    for csv_path in sorted(out.glob("*.csv")):
        rows += list(csv.DictReader(open(csv_path, encoding="utf-8")))
    nemo = [json.loads(line) for p in sorted(out.glob("*.jsonl")) if ".recordings" not in p.name
            and ".supervisions" not in p.name for line in open(p, encoding="utf-8")]
    by_id = {f"hour-{i:06d}": u for i, u in enumerate(utts)}
    total_files = 0.0
    worst = 0.0
    for r in nemo:
        info = sf.info(str(out / r["audio_filepath"]))
        u = by_id[r["utterance_id"]]
        data, _ = sf.read(str(out / r["audio_filepath"]), dtype="int16")   # decodes
        assert len(data) == info.frames
        worst = max(worst, abs(info.frames / rate - (u["end"] - u["start"]) / 1000) * rate)
        total_files += info.frames / rate
    assert worst <= 1.0, worst
    assert len(rows) == len(nemo) == N
    assert abs(sum(r["duration"] for r in nemo) - total_files) < 1e-6
    return f"{len(nemo)} clips decode; max |len - (end-start)| = {worst:.2f} samples; manifest sum = files sum"


def check_tar(base: Path, utts: list[dict], rate: int) -> str:
    n, total_json, total_files, worst = 0, 0.0, 0.0, 0.0
    for p in sorted(base.parent.glob(base.stem + "-*.tar")):
        with tarfile.open(p) as tf:
            for m in tf.getmembers():
                if m.name.endswith(".json"):
                    rec = json.loads(tf.extractfile(m).read())
                    data, r = sf.read(io.BytesIO(tf.extractfile(m.name[:-5] + ".wav").read()), dtype="int16")
                    u = utts[int(rec["utterance_id"].rsplit("-", 1)[1])]
                    worst = max(worst, abs(len(data) / r - (u["end"] - u["start"]) / 1000) * r)
                    total_json += rec["duration"]
                    total_files += len(data) / r
                    n += 1
    assert n == N and worst <= 1.0 and abs(total_json - total_files) < 1e-6
    return f"{n} samples decode; max |len - (end-start)| = {worst:.2f} samples; json sum = files sum"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.gettempdir()) / "align-export-bench"
    work.mkdir(parents=True, exist_ok=True)
    wav, flac, aligned = make_inputs(work)
    utts = json.loads(aligned.read_text())
    cases = [
        ("16 kHz mono WAV -> WAV dir", wav, dict(target_dir=work / "out"), AudioFormat(16000, 1, "wav"), "dir"),
        ("16 kHz mono WAV -> FLAC dir", wav, dict(target_dir=work / "out"), AudioFormat(16000, 1, "flac"), "dir"),
        ("16 kHz mono WAV -> WAV tar shards", wav, dict(target_tar=work / "tar" / "data.tar"), AudioFormat(), "tar"),
        ("44.1 kHz stereo FLAC -> 16 kHz mono WAV dir", flac, dict(target_dir=work / "out"), AudioFormat(), "dir"),
    ]
    print(f"{'case':46s} {'best s':>7s} {'median s':>9s}  check")
    for name, src, target, fmt, kind in cases:
        times = []
        for _ in range(args.repeat):
            shutil.rmtree(work / "out", ignore_errors=True)
            shutil.rmtree(work / "tar", ignore_errors=True)
            cfg = ExportConfig(audio=fmt, show_progress=False, **target)
            t0 = time.perf_counter()
            export([Document(src, aligned, "hour")], cfg)
            times.append(time.perf_counter() - t0)
        check = check_dir(work / "out", utts, fmt.rate) if kind == "dir" else check_tar(work / "tar" / "data.tar", utts, fmt.rate)
        print(f"{name:46s} {min(times):7.2f} {statistics.median(times):9.2f}  {check}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
