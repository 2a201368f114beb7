"""align-export end to end: clips equal the source slices, manifests parse and add up, tar shards, reruns."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import stat
import subprocess
import sys
import tarfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

from align.export.audio import frame_range

RATE = 16000


def make_doc(tmp: Path, name: str = "book", seconds: int = 20, rate: int = RATE, channels: int = 1, n: int = 30,
             seed: int = 0) -> tuple[Path, Path, list[dict]]:
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((seconds * rate, channels)) * 4000).astype(np.int16)
    audio = tmp / f"{name}.wav"
    sf.write(audio, x, rate, subtype="PCM_16")
    utts = []
    step = seconds * 1000 / n
    for i in range(n):
        start = round(i * step + 37.31 * (i % 3), 2)
        end = round(start + step * 0.8 - 11.7 * (i % 4), 2)
        text = f"word{i} and more"
        utts.append({"start": start, "end": end, "transcript": text, "text-start": i * 20, "text-end": i * 20 + 16,
                     "meta": {"speaker": [f"spk{i % 5}"]}, "aligned-raw": f"Word{i},\nand more.", "aligned": text,
                     "cer": (i % 10) / 10, "wer": (i % 7) / 7})
    aligned = tmp / f"{name}.aligned"
    aligned.write_text(json.dumps(utts), encoding="utf-8")
    return audio, aligned, utts


def cli(*args: str) -> SimpleNamespace:
    """Run align-export's main() in this process (a subprocess per call costs ~0.6 s of imports)."""
    from align.cli.export import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            rc = main(["--no-progress", "--loglevel", "ERROR", *args])
        except SystemExit as e:         # argparse errors
            rc = e.code
    return SimpleNamespace(returncode=rc, stderr=err.getvalue())


def test_cli_as_a_process(tmp_path):
    audio, aligned, _ = make_doc(tmp_path, n=3, seconds=3)
    r = subprocess.run([sys.executable, "-m", "align.cli.export", "--audio", str(audio), "--aligned", str(aligned),
                        "--target-dir", str(tmp_path / "o"), "--filter", "cer >"], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert r.returncode == 2 and "unexpected end of expression at position 6" in r.stderr


def test_clips_equal_source_slices_and_manifests_add_up(tmp_path):
    audio, aligned, utts = make_doc(tmp_path)
    src, _ = sf.read(audio, dtype="int16", always_2d=True)
    out = tmp_path / "out"
    r = cli("--audio", str(audio), "--aligned", str(aligned), "--target-dir", str(out), "--filter", "cer >= 0.8",
            "--original-text")
    assert r.returncode == 0, r.stderr
    kept = [(i, u) for i, u in enumerate(utts) if u["cer"] < 0.8]
    rows = list(csv.DictReader(open(out / "all.csv", encoding="utf-8", newline="")))
    assert len(rows) == len(kept)
    nemo = [json.loads(line) for line in open(out / "all.jsonl", encoding="utf-8")]
    for (i, u), row, rec in zip(kept, rows, nemo):
        clip = out / row["wav_filename"]
        data, rate = sf.read(clip, dtype="int16", always_2d=True)
        a, b = frame_range(u["start"], u["end"], RATE)
        assert rate == RATE and np.array_equal(data, src[a:b])                      # sample for sample
        assert abs(len(data) / RATE - (u["end"] - u["start"]) / 1000) <= 1 / RATE    # within one sample
        assert int(row["wav_filesize"]) == clip.stat().st_size
        assert row["transcript"] == u["aligned"] and row["original_text"] == "Word%d, and more." % i
        assert rec["audio_filepath"] == row["wav_filename"] and rec["duration"] == len(data) / RATE
        assert rec["text"] == u["aligned"] and rec["utterance_id"] == f"book-{i:06d}"
        assert rec["meta"] == u["meta"] and rec["original_text"] == row["original_text"]
    total = sum(sf.info(out / r["wav_filename"]).duration for r in rows)
    assert abs(sum(r["duration"] for r in nemo) - total) < 1e-9
    mode = stat.S_IMODE(os.stat(out / "all.csv").st_mode)
    assert mode == 0o666 & ~_umask()          # normal permissions, not mkstemp's 0600
    assert stat.S_IMODE(os.stat(out / rows[0]["wav_filename"]).st_mode) == mode


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def test_lhotse_reads_the_manifests(tmp_path, monkeypatch):
    lhotse = pytest.importorskip("lhotse", reason="lhotse is not installed (pip install lhotse)")
    audio, aligned, utts = make_doc(tmp_path, n=12)
    out = tmp_path / "out"
    assert cli("--audio", str(audio), "--aligned", str(aligned), "--target-dir", str(out)).returncode == 0
    monkeypatch.chdir(out)   # paths are relative to the target directory
    recs = lhotse.load_manifest("all.recordings.jsonl")
    sups = lhotse.load_manifest("all.supervisions.jsonl")
    cuts = lhotse.CutSet.from_manifests(recordings=recs, supervisions=sups)
    assert len(cuts) == 12
    src, _ = sf.read(audio, dtype="float32", always_2d=True)
    for i, cut in enumerate(sorted(cuts, key=lambda c: c.id)):
        a, b = frame_range(utts[i]["start"], utts[i]["end"], RATE)
        samples = cut.load_audio()
        assert samples.shape == (1, b - a)
        np.testing.assert_allclose(samples[0], src[a:b, 0], atol=1e-6)
        assert cut.supervisions[0].text == utts[i]["aligned"] and cut.supervisions[0].speaker == f"spk{i % 5}"
    lhotse.validate(recs)
    lhotse.validate(sups)


def test_resample_channels_flac_headers_match(tmp_path):
    audio, aligned, utts = make_doc(tmp_path, rate=44100, channels=2, n=8, seconds=10)
    out = tmp_path / "out"
    r = cli("--audio", str(audio), "--aligned", str(aligned), "--target-dir", str(out), "--rate", "22050",
            "--channels", "1", "--format", "flac", "--manifests", "nemo")
    assert r.returncode == 0, r.stderr
    nemo = [json.loads(line) for line in open(out / "all.jsonl")]
    assert len(nemo) == 8 and not (out / "all.csv").exists()
    for u, rec in zip(utts, nemo):
        info = sf.info(out / rec["audio_filepath"])
        assert (info.samplerate, info.channels, info.format) == (22050, 1, "FLAC")
        assert abs(info.frames / 22050 - (u["end"] - u["start"]) / 1000) <= 1 / 22050
        assert info.frames / 22050 == rec["duration"]
    # stereo kept as stereo when asked
    out2 = tmp_path / "out2"
    assert cli("--audio", str(audio), "--aligned", str(aligned), "--target-dir", str(out2), "--rate", "44100",
               "--channels", "2", "--manifests", "csv").returncode == 0
    src, _ = sf.read(audio, dtype="int16", always_2d=True)
    row = next(csv.DictReader(open(out2 / "all.csv")))
    data, _ = sf.read(out2 / row["wav_filename"], dtype="int16", always_2d=True)
    a, b = frame_range(utts[0]["start"], utts[0]["end"], 44100)
    assert np.array_equal(data, src[a:b])


def test_tar_shards_webdataset_layout_and_determinism(tmp_path):
    audio, aligned, utts = make_doc(tmp_path, n=25)
    src, _ = sf.read(audio, dtype="int16", always_2d=True)
    args = ["--audio", str(audio), "--aligned", str(aligned), "--target-tar", str(tmp_path / "t" / "data.tar"),
            "--shard-size", "10", "--split", "--split-field", "speaker", "--original-text"]
    r = cli(*args)
    assert r.returncode == 0, r.stderr
    shards = sorted((tmp_path / "t").glob("data-*.tar"))
    names = [p.name for p in shards]
    assert "data-train-000000.tar" in names
    seen = {}
    for p in shards:
        with tarfile.open(p) as tf:
            members = tf.getmembers()
            keys = sorted({m.name.split(".", 1)[0] for m in members})
            assert len(keys) <= 10
            for k in keys:
                rec = json.loads(tf.extractfile(f"{k}.json").read())
                wav = tf.extractfile(f"{k}.wav").read()
                data, rate = sf.read(io.BytesIO(wav), dtype="int16", always_2d=True)
                i = int(k.rsplit("-", 1)[1])
                a, b = frame_range(utts[i]["start"], utts[i]["end"], RATE)
                assert np.array_equal(data, src[a:b]) and rec["duration"] == len(data) / RATE
                assert tf.extractfile(f"{k}.txt").read().decode() == utts[i]["aligned"]
                assert tf.extractfile(f"{k}.original.txt").read().decode() == f"Word{i}, and more."
                seen[k] = p.name.rsplit("-", 1)[0]
    assert len(seen) == 25
    # a speaker's utterances are in one set
    by_spk = {}
    for k, shard in seen.items():
        by_spk.setdefault(utts[int(k.rsplit("-", 1)[1])]["meta"]["speaker"][0], set()).add(shard)
    assert all(len(v) == 1 for v in by_spk.values())
    before = {p.name: p.read_bytes() for p in shards}
    assert cli(*args, "--force").returncode == 0
    assert {p.name: p.read_bytes() for p in sorted((tmp_path / "t").glob("data-*.tar"))} == before
    # bigger shards with --force: the earlier, now surplus shards are gone
    assert cli(*args[:6], "--shard-size", "100", "--force").returncode == 0
    assert sorted(p.name for p in (tmp_path / "t").glob("data-*.tar")) == ["data-all-000000.tar"]


def test_rerun_resumes_refuses_and_forces(tmp_path):
    audio, aligned, utts = make_doc(tmp_path, n=10)
    out = tmp_path / "out"
    base = ["--audio", str(audio), "--aligned", str(aligned), "--target-dir", str(out)]
    assert cli(*base).returncode == 0
    snapshot = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    # an interrupted run: one clip missing, one truncated, a manifest gone
    clips = sorted((out / "all").iterdir())
    clips[0].unlink()
    clips[1].write_bytes(clips[1].read_bytes()[:100])
    (out / "all.csv").unlink()
    (out / "all" / ".book-000003.wav.x1y2.tmp").write_bytes(b"RIFF")     # a killed run's temp file
    r = cli(*base)
    assert r.returncode == 0, r.stderr
    assert "kept from an earlier run: 8 clips" in r.stderr
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == snapshot
    # other options: refused, nothing touched
    r = cli(*base, "--filter", "cer > 0.5")
    assert r.returncode == 1 and "other options or inputs; use --force" in r.stderr
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == snapshot
    # --force: the new export replaces the old one and removes its files
    r = cli(*base, "--filter", "cer > 0.5", "--force")
    assert r.returncode == 0, r.stderr
    assert len(list((out / "all").iterdir())) == sum(1 for u in utts if u["cer"] <= 0.5)
    # a foreign non-empty directory is refused
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    r = cli("--audio", str(audio), "--aligned", str(aligned), "--target-dir", str(foreign))
    assert r.returncode == 1 and "not empty" in r.stderr
    assert not list(foreign.glob("*.csv"))


def test_dry_run_writes_nothing(tmp_path):
    audio, aligned, _ = make_doc(tmp_path, n=10)
    r = cli("--audio", str(audio), "--aligned", str(aligned), "--target-dir", str(tmp_path / "out"), "--dry-run",
            "--split")
    assert r.returncode == 0 and "dry run: nothing written" in r.stderr and "train:" in r.stderr
    assert not (tmp_path / "out").exists()


def test_catalog_workers_and_utterances_past_the_end(tmp_path):
    a1, al1, u1 = make_doc(tmp_path, "one", n=6, seconds=6)
    a2, al2, u2 = make_doc(tmp_path, "two", n=6, seconds=6, seed=1)
    data = json.loads(al2.read_text())
    data.append({**data[-1], "start": 7000.0, "end": 8000.0})      # beyond the 6 s of audio
    al2.write_text(json.dumps(data))
    cat = tmp_path / "c.catalog"
    cat.write_text(json.dumps([{"audio": "one.wav", "aligned": "one.aligned", "script": "x.txt"},
                               {"audio": "two.wav", "aligned": "two.aligned", "script": "x.txt"}]))
    r = cli("--catalog", str(cat), "--target-dir", str(tmp_path / "out"), "--workers", "2")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(open(tmp_path / "out" / "all.csv")))
    assert [r["wav_filename"] for r in rows] == [f"all/one-{i:06d}.wav" for i in range(6)] + \
        [f"all/two-{i:06d}.wav" for i in range(6)]
    assert "not written, outside the audio: 1" in r.stderr


@pytest.mark.parametrize("args,needle", [
    (["--filter", "cre > 1"], "unknown field 'cre' at position 1"),
    (["--criteria", "1 -"], "unexpected end of expression at position 4"),
    (["--partition", "good"], "expected NUMBER:NAME"),
    (["--assign-dev", "a"], "need --split-field"),
])
def test_usage_errors_exit_2(tmp_path, args, needle):
    audio, aligned, _ = make_doc(tmp_path, n=3, seconds=3)
    r = cli("--audio", str(audio), "--aligned", str(aligned), "--target-dir", str(tmp_path / "o"), *args)
    assert r.returncode == 2 and needle in r.stderr and "Traceback" not in r.stderr


def test_bad_inputs_one_line(tmp_path):
    r = cli("--audio", str(tmp_path / "no.wav"), "--aligned", str(tmp_path / "no.aligned"), "--target-dir",
            str(tmp_path / "o"))
    assert r.returncode == 1 and "not found" in r.stderr and "Traceback" not in r.stderr
    (tmp_path / "bad.aligned").write_text("[{\"start\": 1}]")
    (tmp_path / "a.wav").write_bytes(b"")
    r = cli("--audio", str(tmp_path / "a.wav"), "--aligned", str(tmp_path / "bad.aligned"), "--target-dir",
            str(tmp_path / "o"))
    assert r.returncode == 1 and "bad.aligned: entry 0" in r.stderr and "Traceback" not in r.stderr


def test_subtitles_from_export(tmp_path):
    srt = pytest.importorskip("srt")
    audio, aligned, utts = make_doc(tmp_path, n=5)
    r = cli("--audio", str(audio), "--aligned", str(aligned), "--target-dir", str(tmp_path / "s"),
            "--output-format", "srt", "--filter", "cer > 0.2")
    assert r.returncode == 0, r.stderr
    subs = list(srt.parse((tmp_path / "s" / "book.srt").read_text(encoding="utf-8")))
    assert [s.content for s in subs] == [f"Word{i}, and more." for i in range(3)]
    assert subs[0].start.total_seconds() == pytest.approx(utts[0]["start"] / 1000, abs=1e-3)


def test_same_stem_twice_in_a_catalog(tmp_path):
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        make_doc(tmp_path / d, "book", n=3, seconds=3, seed=len(d))
    cat = tmp_path / "c.catalog"
    cat.write_text(json.dumps([{"audio": f"{d}/book.wav", "aligned": f"{d}/book.aligned", "script": "x.txt"}
                               for d in ("a", "b")]))
    r = cli("--catalog", str(cat), "--target-dir", str(tmp_path / "out"), "--manifests", "nemo")
    assert r.returncode == 0, r.stderr
    ids = [json.loads(line)["utterance_id"] for line in open(tmp_path / "out" / "all.jsonl")]
    assert ids == [f"book.{k}-{i:06d}" for k in (1, 2) for i in range(3)]
    assert len(list((tmp_path / "out" / "all").iterdir())) == 6


@pytest.mark.parametrize("fmt_name,channels", [("WAV", 1), ("FLAC", 2), ("WAV", 2)])
def test_seeking_source_equals_full_decode(tmp_path, fmt_name, channels):
    """Clips read by seeking (same rate, WAV/FLAC) equal slices of the whole decoded recording."""
    from align.export.audio import AudioFormat, Source, cut, decode

    rng = np.random.default_rng(3)
    x = (rng.standard_normal((RATE * 3, 2)) * 5000).astype(np.int16)
    path = tmp_path / f"s.{fmt_name.lower()}"
    sf.write(path, x, RATE, format=fmt_name, subtype="PCM_16")
    fmt = AudioFormat(RATE, channels)
    whole = decode(path, fmt)
    assert whole.shape == (RATE * 3, channels)
    with Source(path, fmt) as src:
        assert src._file is not None and len(src) == len(whole)
        for start, end in [(0.0, 10.0), (1234.56, 2000.04), (2990.0, 3030.0), (2999.0, 3100.0)]:
            a, b = cut(src, start, end, RATE), cut(whole, start, end, RATE)
            assert (a is None and b is None) or np.array_equal(a, b)
    if channels == 1:
        assert np.array_equal(whole[:, 0], np.rint(x.astype(np.int32).mean(axis=1)).astype(np.int16))


def test_a_broken_document_is_reported_and_the_others_exported(tmp_path):
    make_doc(tmp_path, "good", n=4, seconds=4)
    make_doc(tmp_path, "bad", n=4, seconds=4, seed=2)
    (tmp_path / "bad.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk")
    cat = tmp_path / "c.catalog"
    cat.write_text(json.dumps([{"audio": f"{d}.wav", "aligned": f"{d}.aligned", "script": "x.txt"}
                               for d in ("bad", "good")]))
    r = cli("--catalog", str(cat), "--target-dir", str(tmp_path / "out"), "--manifests", "csv")
    assert r.returncode == 1 and "FAILED" in r.stderr and "bad.wav" in r.stderr and "Traceback" not in r.stderr
    rows = list(csv.DictReader(open(tmp_path / "out" / "all.csv")))
    assert [row["wav_filename"] for row in rows] == [f"all/good-{i:06d}.wav" for i in range(4)]


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["dir", "tar"])
def test_killed_run_then_rerun_equals_an_uninterrupted_one(tmp_path, mode):
    import random
    import signal
    import time

    audio, aligned, _ = make_doc(tmp_path, n=400, seconds=120)
    target = ["--target-dir", str(tmp_path / "ref")] if mode == "dir" else ["--target-tar", str(tmp_path / "ref" / "d.tar"), "--shard-size", "50"]
    assert cli("--audio", str(audio), "--aligned", str(aligned), *target).returncode == 0
    ref = {p.relative_to(tmp_path / "ref"): p.read_bytes() for p in (tmp_path / "ref").rglob("*") if p.is_file()}
    target = [a.replace(str(tmp_path / "ref"), str(tmp_path / "run")) for a in target]
    args = [sys.executable, "-m", "align.cli.export", "--no-progress", "--audio", str(audio), "--aligned", str(aligned),
            *target]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    rng = random.Random(12)
    for _ in range(2):
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # kill it while it writes: once the first clip or shard temp file appears, after a random delay
        deadline = time.time() + 30
        while proc.poll() is None and time.time() < deadline:
            run_dir = tmp_path / "run"
            if run_dir.exists() and any((".wav" in p.name if mode == "dir" else ".tar" in p.name)
                                        for p in run_dir.rglob("*")):
                break
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.25 if mode == "dir" else 0.05))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # whatever has a final name is complete
        for p in (tmp_path / "run").rglob("*.wav") if (tmp_path / "run").exists() else ():
            assert sf.info(p).frames > 0
    # temp files a kill can leave at any of the writes (state file, shard, clip)
    run = tmp_path / "run"
    run.mkdir(exist_ok=True)
    if mode == "tar":
        (run / ".d.align-export.json.k1.tmp").write_text("{")
        (run / ".d-all-000001.tar.k2.tmp").write_bytes(b"x")
    else:
        (run / "..align-export.json.k1.tmp").write_text("{")
    r = subprocess.run(args, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    got = {p.relative_to(tmp_path / "run"): p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()}
    assert got == ref


def test_export_subtitles_timed_by_words(tmp_path):
    srt = pytest.importorskip("srt")
    audio, aligned, _ = make_doc(tmp_path, n=1, seconds=3)
    words = [{"word": "hello", "text-start": 0, "text-end": 5, "start": 1000.0, "end": 1400.0},
             {"word": "big", "text-start": 6, "text-end": 9, "start": 1500.0, "end": 1700.0},
             {"word": "world", "text-start": 10, "text-end": 15, "start": 1900.0, "end": 2500.0}]
    aligned.write_text(json.dumps([{"start": 900.0, "end": 2600.0, "transcript": "hello big world", "text-start": 0,
                                    "text-end": 15, "meta": {}, "aligned-raw": "Hello big world",
                                    "aligned": "hello big world", "words": words}]))
    for timing, (start, end) in (("chars", (0.9, 2.6)), ("words", (1.0, 2.5))):
        out = tmp_path / timing
        r = cli("--audio", str(audio), "--aligned", str(aligned), "--target-dir", str(out), "--output-format", "srt",
                "--subtitle-timing", timing)
        assert r.returncode == 0, r.stderr
        (sub,) = srt.parse((out / "book.srt").read_text(encoding="utf-8"))
        assert (sub.start.total_seconds(), sub.end.total_seconds(), sub.content) == (start, end, "Hello big world")
