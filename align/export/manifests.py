"""Manifest formats for the exported clips: DeepSpeech/Coqui CSV, NeMo JSONL, lhotse JSONL.

Every function takes the written clips of one list, in order, and returns the text of one file.
Durations are the clip's own frame count over the rate, so a manifest's sums equal its files.
Paths are relative to the target directory (where the manifests are).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from .audio import AudioFormat
from .select import Sample

MANIFESTS = ("csv", "nemo", "lhotse")


@dataclass(frozen=True)
class Clip:
    sample: Sample
    path: str          # relative to the target directory, '/'-separated
    nbytes: int
    frames: int

    def duration(self, fmt: AudioFormat) -> float:
        return self.frames / fmt.rate


def _line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=False) + "\n"


def original_text(s: Sample) -> str:
    """The utterance's original text on one line (newlines of the source text become spaces)."""
    return " ".join(s.utt.aligned_raw.split())


def csv_manifest(clips: Sequence[Clip], fmt: AudioFormat, with_original: bool = False) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["wav_filename", "wav_filesize", "transcript"] + (["original_text"] if with_original else []))
    for c in clips:
        w.writerow([c.path, c.nbytes, c.sample.utt.aligned] + ([original_text(c.sample)] if with_original else []))
    return buf.getvalue()


def sample_record(c: Clip, fmt: AudioFormat) -> dict[str, Any]:
    """The NeMo-style record of one clip (also the `.json` member of a tar sample)."""
    s = c.sample
    rec: dict[str, Any] = {
        "audio_filepath": c.path,
        "duration": c.duration(fmt),
        "text": s.utt.aligned,
        "original_text": original_text(s),
        "utterance_id": s.uid,
        "source_audio_id": s.doc_id,
        "source_start": s.utt.start / 1000.0,
        "source_end": s.utt.end / 1000.0,
        "quality": s.quality,
        "meta": s.utt.meta,
    }
    rec.update(s.utt.metrics)
    return rec


def nemo_manifest(clips: Sequence[Clip], fmt: AudioFormat, with_original: bool = True) -> str:
    return "".join(_line(sample_record(c, fmt)) for c in clips)


def lhotse_recordings(clips: Sequence[Clip], fmt: AudioFormat, with_original: bool = False) -> str:
    chans = list(range(fmt.channels))
    out = []
    for c in clips:
        out.append(_line({
            "id": c.sample.uid,
            "sources": [{"type": "file", "channels": chans, "source": c.path}],
            "sampling_rate": fmt.rate,
            "num_samples": c.frames,
            "duration": c.duration(fmt),
            "channel_ids": chans,
        }))
    return "".join(out)


def lhotse_supervisions(clips: Sequence[Clip], fmt: AudioFormat, with_original: bool = False) -> str:
    out = []
    for c in clips:
        s = c.sample
        sup: dict[str, Any] = {
            "id": s.uid,
            "recording_id": s.uid,
            "start": 0.0,
            "duration": c.duration(fmt),
            "channel": 0 if fmt.channels == 1 else list(range(fmt.channels)),
            "text": s.utt.aligned,
        }
        speaker = s.utt.meta.get("speaker")
        if isinstance(speaker, list) and speaker:
            sup["speaker"] = str(speaker[0])
        elif isinstance(speaker, str):
            sup["speaker"] = speaker
        sup["custom"] = {"original_text": original_text(s), "source_audio_id": s.doc_id,
                         "source_start": s.utt.start / 1000.0, "meta": s.utt.meta}
        out.append(_line(sup))
    return "".join(out)


# manifest kind -> [(file suffix, writer)]
WRITERS: dict[str, list[tuple[str, Callable[..., str]]]] = {
    "csv": [(".csv", csv_manifest)],
    "nemo": [(".jsonl", nemo_manifest)],
    "lhotse": [(".recordings.jsonl", lhotse_recordings), (".supervisions.jsonl", lhotse_supervisions)],
}
