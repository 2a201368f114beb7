"""Catalog runs through the CLI: relative and derived paths, --ignore-missing, failures among good
entries, resume by config hash, a run killed mid-way, align-catalog, align-stats, Ray (slow)."""

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from align.records import load_aligned
from align.text.alphabet import ENGLISH_LABELS, Alphabet
from align.text.normalise import Phrase, normalise

LICENSE = "/usr/share/common-licenses/GPL-3"


def cli(tool, *args, cwd=None):
    return subprocess.run([sys.executable, "-m", f"align.cli.{tool}", *map(str, args)], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


def align(*args, cwd=None):
    return cli("align", "--no-progress", *args, cwd=cwd)


def make_docs(d: Path, n: int, chars: int = 3000) -> list[dict]:
    """n documents (different slices of a licence text) with planted tlogs; tlog-only entries
    whose aligned path is derived from the tlog."""
    text = open(LICENSE, encoding="utf-8").read()
    alphabet = Alphabet.from_labels(ENGLISH_LABELS)
    entries = []
    (d / "texts").mkdir(parents=True, exist_ok=True)
    (d / "tlogs").mkdir(exist_ok=True)
    for k in range(n):
        body = text[k * 1500:k * 1500 + chars]
        (d / "texts" / f"doc{k}.txt").write_text("HEADER\n" + body, encoding="utf-8")
        words = normalise(body, [Phrase(0, len(body))], alphabet).clean.split(" ")
        rng, tlog, i, t = random.Random(k), [], 0, 0
        while i < len(words):
            m = rng.randint(4, 12)
            s = " ".join(words[i:i + m])
            tlog.append({"start": t, "end": t + 60 * len(s), "transcript": s})
            t += 60 * len(s) + 250
            i += m
        (d / "tlogs" / f"doc{k}.tlog").write_text(json.dumps(tlog), encoding="utf-8")
        entries.append({"tlog": f"tlogs/doc{k}.tlog", "script": f"texts/doc{k}.txt"})
    return entries


def outputs(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((d / "tlogs").glob("*.aligned"))}


def test_relative_paths_failures_ignore_missing_and_report(tmp_path):
    entries = make_docs(tmp_path, 4)
    (tmp_path / "texts" / "empty.txt").write_text("  \n")
    (tmp_path / "tlogs" / "broken.tlog").write_text("[{\"start\": 0,")
    entries += [{"tlog": "tlogs/doc0.tlog", "script": "texts/empty.txt", "aligned": "out/empty.aligned", "id": "e"},
                {"tlog": "tlogs/broken.tlog", "script": "texts/doc1.txt"},
                {"tlog": "tlogs/absent.tlog", "script": "texts/doc1.txt"}]
    (tmp_path / "c.json").write_text(json.dumps(entries))
    # run from another directory: paths are relative to the catalog, not to the working directory
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    r = align("--catalog", "../c.json", "--workers", "2", "--report", "run.json", "--output-cer", cwd=elsewhere)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert sorted(outputs(tmp_path)) == [f"doc{k}.aligned" for k in range(4)]   # derived from the tlog paths
    rep = json.loads((elsewhere / "run.json").read_text())
    status = {e["index"]: (e["status"], e["reason"]) for e in rep["entries"]}
    assert status == {0: ("done", ""), 1: ("done", ""), 2: ("done", ""), 3: ("done", ""),
                      4: ("failed", "empty input"), 5: ("failed", "bad input"), 6: ("failed", "missing input")}
    assert "invalid JSON" in rep["entries"][5]["detail"] and "absent.tlog" in rep["entries"][6]["detail"]
    assert rep["totals"]["failed_by_reason"] == {"bad input": 1, "empty input": 1, "missing input": 1}
    # the table totals are the sums over the documents
    utts = [load_aligned(tmp_path / "tlogs" / f"doc{k}.aligned") for k in range(4)]
    assert rep["totals"]["utterances"] == sum(map(len, utts))
    kept = sum(u.end - u.start for us in utts for u in us) / 3.6e6
    assert abs(rep["totals"]["kept_hours"] - kept) < 1e-6
    assert "failed: missing input" in r.stderr and "hours kept" in r.stderr
    assert [u.id for u in utts[2]][:2] == ["doc2-000000", "doc2-000001"]

    r = align("--catalog", tmp_path / "c.json", "--ignore-missing", "--executor", "serial", "--output-cer")
    assert r.returncode == 1   # the broken entries still fail; the missing one is skipped
    assert "skipped: missing input" in r.stderr and "skipped: already done" in r.stderr
    assert "failed: missing input" not in r.stderr


def test_resume_by_config_hash(tmp_path):
    (tmp_path / "c.json").write_text(json.dumps(make_docs(tmp_path, 3)))
    cat = tmp_path / "c.json"
    assert align("--catalog", cat, "--executor", "serial").returncode == 0
    first = outputs(tmp_path)
    mtimes = {p: p.stat().st_mtime_ns for p in (tmp_path / "tlogs").glob("*.aligned")}

    r = align("--catalog", cat, "--workers", "2")   # workers do not change outputs: nothing redone
    assert r.returncode == 0 and "0 documents aligned, 3 skipped" in r.stderr
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes

    r = align("--catalog", cat, "--executor", "serial", "--align-stretch-fraction", "0.3")  # an option changed
    assert "3 documents aligned, 0 skipped" in r.stderr

    r = align("--catalog", cat, "--executor", "serial")   # back: redone again, same bytes as the first run
    assert "3 documents aligned" in r.stderr and outputs(tmp_path) == first

    # a changed input, a tampered output, a damaged stamp: only those entries are redone
    (tmp_path / "texts" / "doc0.txt").write_text((tmp_path / "texts" / "doc0.txt").read_text() + "\nMore.\n")
    (tmp_path / "tlogs" / "doc1.aligned").write_text("[]\n")
    (tmp_path / "tlogs" / "doc2.aligned.done.json").write_text("{")
    r = align("--catalog", cat, "--executor", "serial")
    assert "3 documents aligned, 0 skipped" in r.stderr
    assert outputs(tmp_path)["doc1.aligned"] == first["doc1.aligned"]
    assert outputs(tmp_path)["doc2.aligned"] == first["doc2.aligned"]


def test_killed_run_resumes_to_identical_outputs(tmp_path):
    ref, run = tmp_path / "ref", tmp_path / "run"
    for d in (ref, run):
        (d).mkdir()
        (d / "c.json").write_text(json.dumps(make_docs(d, 10, chars=6000)))
    assert align("--catalog", ref / "c.json", "--executor", "serial").returncode == 0

    cmd = [sys.executable, "-m", "align.cli.align", "--no-progress", "--catalog", str(run / "c.json"), "--workers", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and not list((run / "tlogs").glob("*.done.json")) and proc.poll() is None:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)   # the driver and its workers, mid-run
    proc.wait()
    stamped = len(list((run / "tlogs").glob("*.done.json")))
    r = align("--catalog", run / "c.json", "--workers", "2")
    assert r.returncode == 0, r.stderr
    assert f"{10 - stamped} documents aligned, {stamped} skipped" in r.stderr
    assert outputs(run) == outputs(ref)
    assert not [p for p in (run / "tlogs").iterdir() if p.name.startswith(".")]   # no temp file left


def test_bad_option_is_one_usage_error_before_any_entry(tmp_path):
    (tmp_path / "c.json").write_text(json.dumps(make_docs(tmp_path, 2)))
    r = align("--catalog", tmp_path / "c.json", "--stt-max-duration", "50")
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "--stt-max-duration" in r.stderr
    assert outputs(tmp_path) == {}
    r = align("--tlog", "x.tlog", "--script", "x.txt", "--aligned", "x.aligned", "--workers", "2")
    assert r.returncode == 2 and "--workers is an option of catalog runs" in r.stderr


def test_align_catalog_builder_and_stats(tmp_path):
    make_docs(tmp_path, 3)
    (tmp_path / "texts" / "lonely.txt").write_text("no audio for me")
    cat = tmp_path / "made" / "books.json"
    cat.parent.mkdir()
    r = cli("catalog", "--tlog", str(tmp_path / "tlogs" / "*.tlog"), "--text", str(tmp_path / "texts" / "*.txt"),
            "--aligned-dir", tmp_path / "out", "-o", cat)
    assert r.returncode == 0, r.stderr
    assert "no audio or transcript log for" in r.stderr and "lonely.txt" in r.stderr
    entries = json.loads(cat.read_text())
    assert entries == [{"tlog": f"../tlogs/doc{k}.tlog", "script": f"../texts/doc{k}.txt",
                        "aligned": f"../out/doc{k}.aligned"} for k in range(3)]
    r = align("--catalog", cat, "--output-cer", "--output-max-cer", "0.5", "--executor", "serial")
    assert r.returncode == 0, r.stderr

    r = cli("stats", cat, "--json", tmp_path / "s.json", "--bins", "4")
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "s.json").read_text())
    utts = [load_aligned(tmp_path / "out" / f"doc{k}.aligned") for k in range(3)]
    tlogs = [json.loads((tmp_path / "tlogs" / f"doc{k}.tlog").read_text()) for k in range(3)]
    t = s["totals"]
    assert t["files"] == 3 and t["utterances"] == sum(map(len, utts))
    assert abs(t["kept_hours"] - sum(u.duration_s for us in utts for u in us) / 3600) < 1e-9
    assert t["fragments"] == sum(map(len, tlogs))
    assert t["kept_fragments"] + sum(t["dropped"].values()) == t["fragments"]
    assert abs(t["audio_hours"] - sum(tl[-1]["end"] for tl in tlogs) / 3.6e6) < 1e-9
    h = s["histograms"]["cer"]
    assert abs(sum(h["hours"]) - t["kept_hours"]) < 1e-9 and len(h["hours"]) == 4
    assert f"files: 3, utterances: {t['utterances']}" in r.stdout and "cer: hours kept by value" in r.stdout

    pytest.importorskip("matplotlib")
    r = cli("stats", tmp_path / "out" / "doc0.aligned", "--plot-dir", tmp_path / "plots")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "plots" / "cer.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
@pytest.mark.ray
def test_ray_local_cluster_matches_the_process_pool(tmp_path):
    pytest.importorskip("ray")
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        d.mkdir()
        (d / "c.json").write_text(json.dumps(make_docs(d, 4) + [{"tlog": "tlogs/nope.tlog", "script": "x.txt"}]))
    ra = align("--catalog", a / "c.json", "--workers", "2")
    rb = align("--catalog", b / "c.json", "--workers", "2", "--executor", "ray", "--report", b / "run.json")
    assert ra.returncode == rb.returncode == 1, rb.stderr
    assert outputs(a) == outputs(b) and len(outputs(b)) == 4
    rep = json.loads((b / "run.json").read_text())
    assert rep["executor"] == "ray" and rep["totals"]["done"] == 4 and rep["totals"]["failed"] == 1
