"""Catalog runs at scale: 200 tlog-only documents, 5 of them broken in different ways.

Checks and prints:
1. an uninterrupted run aligns every good entry, reports the 5 broken ones with their causes and
   exits non-zero;
2. a run killed (SIGKILL of the driver and its workers) at a random moment and rerun gives
   byte-identical outputs;
3. a rerun with no change redoes nothing; with one changed option it redoes every good entry;
4. throughput: process pool with 2 workers vs 1, and Ray (local cluster, 2 workers) vs the pool.

    python bench/catalog_bench.py [--docs 200] [--chars 6000] [--seed 0] [--no-ray] [--repeat 2]

The machine is shared: run it when it is quiet, or take the best of --repeat runs (printed).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from align.text.alphabet import ENGLISH_LABELS, Alphabet  # noqa: E402
from align.text.normalise import Phrase, normalise  # noqa: E402

LICENSE = "/usr/share/common-licenses/GPL-3"
BROKEN = {  # entry index -> what is wrong with it
    17: "empty text",
    58: "invalid JSON in the tlog",
    99: "missing tlog",
    140: "text not UTF-8",
    181: "tlog entry with end before start",
}


def make_catalog(d: Path, n: int, chars: int, seed: int) -> Path:
    text = open(LICENSE, encoding="utf-8").read()
    alphabet = Alphabet.from_labels(ENGLISH_LABELS)
    rng = random.Random(seed)
    (d / "texts").mkdir(parents=True)
    (d / "tlogs").mkdir()
    entries = []
    for k in range(n):
        start = rng.randrange(0, len(text) - chars)
        body = text[start:start + chars]
        (d / "texts" / f"doc{k:03d}.txt").write_text(f"DOCUMENT {k}\n\n{body}", encoding="utf-8")
        words = normalise(body, [Phrase(0, len(body))], alphabet).clean.split(" ")
        tlog, i, t = [], 0, 0
        while i < len(words):
            m = rng.randint(3, 14)
            s = words[i:i + m]
            if rng.random() < 0.1:  # recognition errors: a dropped word
                s = s[:-1] or s
            tr = " ".join(s)
            tlog.append({"start": t, "end": t + 65 * len(tr), "transcript": tr})
            t += 65 * len(tr) + rng.randint(150, 900)
            i += m
        (d / "tlogs" / f"doc{k:03d}.tlog").write_text(json.dumps(tlog), encoding="utf-8")
        entries.append({"tlog": f"tlogs/doc{k:03d}.tlog", "script": f"texts/doc{k:03d}.txt",
                        "aligned": f"out/doc{k:03d}.aligned"})
    for k, what in BROKEN.items():
        tl, tx = d / "tlogs" / f"doc{k:03d}.tlog", d / "texts" / f"doc{k:03d}.txt"
        if what == "empty text":
            tx.write_text("\n \n")
        elif what == "invalid JSON in the tlog":
            tl.write_text(tl.read_text()[:100])
        elif what == "missing tlog":
            tl.unlink()
        elif what == "text not UTF-8":
            tx.write_bytes(b"caf\xe9 " + tx.read_bytes())
        elif what == "tlog entry with end before start":
            data = json.loads(tl.read_text())
            data[3]["end"] = data[3]["start"] - 10
            tl.write_text(json.dumps(data))
    cat = d / "catalog.json"
    cat.write_text(json.dumps(entries, indent=1))
    return cat


def align_cli(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "align.cli.align", "--no-progress", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, **kw)


def outputs(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((d / "out").glob("*.aligned"))}


def timed_run(cat: Path, *args) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    r = align_cli("--catalog", cat, "--force", "--report", cat.parent / "run.json", *args)
    return time.perf_counter() - t0, r


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=200)
    ap.add_argument("--chars", type=int, default=6000, help="characters of text per document")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=2, help="throughput runs per setting (best is reported)")
    ap.add_argument("--no-ray", action="store_true")
    a = ap.parse_args()
    env_ok = True
    with tempfile.TemporaryDirectory(prefix="catalog-bench-") as tmp:
        ref_dir, kill_dir = Path(tmp) / "ref", Path(tmp) / "kill"
        ref_dir.mkdir()
        kill_dir.mkdir()
        ref = make_catalog(ref_dir, a.docs, a.chars, a.seed)
        killed = make_catalog(kill_dir, a.docs, a.chars, a.seed)
        good = a.docs - len(BROKEN)

        # 1. uninterrupted
        t_ref, r = timed_run(ref, "--workers", "2")
        rep = json.loads((ref_dir / "run.json").read_text())
        failed = {e["index"]: f"{e['reason']}: {e['detail']}" for e in rep["entries"] if e["status"] == "failed"}
        ok1 = r.returncode == 1 and len(outputs(ref_dir)) == good and set(failed) == set(BROKEN)
        env_ok &= ok1
        print(f"1. uninterrupted run ({a.docs} documents, 2 workers): {t_ref:.1f} s, exit {r.returncode}, "
              f"{rep['totals']['done']} aligned, {len(failed)} failed -> {'OK' if ok1 else 'FAIL'}")
        for k in sorted(failed):
            print(f"   entry {k} ({BROKEN.get(k, '?')}): {failed[k][:110]}")

        # 2. killed at a random moment, rerun
        delay = random.Random(a.seed + 1).uniform(0.3, 0.8) * t_ref
        cmd = [sys.executable, "-m", "align.cli.align", "--no-progress", "--catalog", str(killed), "--workers", "2"]
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        stamped = len(list((kill_dir / "out").glob("*.done.json")))
        r = align_cli("--catalog", killed, "--workers", "2")
        same = outputs(kill_dir) == outputs(ref_dir)
        env_ok &= same and r.returncode == 1
        print(f"2. killed after {delay:.1f} s ({stamped} entries stamped done), rerun: "
              f"{'byte-identical' if same else 'DIFFERENT'} outputs ({len(outputs(kill_dir))} files) -> "
              f"{'OK' if same else 'FAIL'}")

        # 3. reruns
        r = align_cli("--catalog", ref, "--workers", "2", "--report", ref_dir / "rerun.json")
        t3 = json.loads((ref_dir / "rerun.json").read_text())["totals"]
        r2 = align_cli("--catalog", ref, "--workers", "2", "--align-stretch-fraction", "0.3", "--report",
                       ref_dir / "changed.json")
        t4 = json.loads((ref_dir / "changed.json").read_text())["totals"]
        ok3 = t3["done"] == 0 and t3["skipped"] == good and t4["done"] == good
        env_ok &= ok3
        print(f"3. rerun, no change: {t3['done']} redone, {t3['skipped']} skipped; one option changed: "
              f"{t4['done']} redone -> {'OK' if ok3 else 'FAIL'}")

        # 4. throughput (forced reruns of the whole catalog)
        def best(*args) -> float:
            return min(timed_run(ref, *args)[0] for _ in range(a.repeat))

        t1 = best("--workers", "1")
        t2 = best("--workers", "2")
        print(f"4. throughput: 1 worker {t1:.1f} s, 2 workers {t2:.1f} s -> speed-up {t1 / t2:.2f}x "
              f"(target >= 1.8x; best of {a.repeat}; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f})")
        if not a.no_ray:
            tr = best("--workers", "2", "--executor", "ray")
            print(f"   ray (local cluster, 2 workers) {tr:.1f} s vs pool {t2:.1f} s -> "
                  f"{100 * (tr - t2) / t2:+.0f}% (target within 20%; includes starting the cluster)")
    return 0 if env_ok else 1


if __name__ == "__main__":
    sys.exit(main())
