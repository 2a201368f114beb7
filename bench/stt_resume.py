#!/usr/bin/env python3
"""Resumable speech-to-text: kill `align` half way through speech-to-text, rerun, compare.

1. `align --audio ... --stt-workers 2` uninterrupted (reference .tlog and .aligned bytes);
2. the same in a fresh directory, killed (SIGKILL to its process group, workers included) once
   the journal holds at least --at (default 50%) of the fragments;
3. the same command again: it must decode only the fragments missing from the journal, and its
   .tlog and .aligned must be byte-identical to the uninterrupted run's.

    python3 bench/stt_resume.py [--bench DIR] [--at 0.5] [-- EXTRA ALIGN OPTIONS]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def command(work: Path, bench: Path, truth: dict, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "align.cli.align", "--audio", str(work / "speech.wav"), "--script",
            str(bench / truth["text"]), "--aligned", str(work / "speech.aligned"), "--stt-workers", "2",
            "--lm-cache-dir", str(work.parent / "lm"), "--no-progress", "--force", *extra]


def journal_fragments(path: Path) -> int:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()[1:]
    except (OSError, UnicodeDecodeError):
        return 0
    n = 0
    for line in lines:
        try:
            n += len(json.loads(line)["texts"])
        except (ValueError, KeyError):
            pass
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", type=Path, default=ROOT / "bench" / "out" / "speech")
    ap.add_argument("--at", type=float, default=0.5, help="kill when the journal holds this share of the fragments")
    ap.add_argument("extra", nargs="*")
    args = ap.parse_args()
    truth = json.loads((args.bench / "truth.json").read_text(encoding="utf-8"))
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}

    with tempfile.TemporaryDirectory(prefix="stt-resume-") as tmp:
        a, b = Path(tmp) / "a", Path(tmp) / "b"
        for d in (a, b):
            d.mkdir()
            shutil.copy(args.bench / truth["audio"], d / "speech.wav")
        t0 = time.perf_counter()
        r = subprocess.run(command(a, args.bench, truth, args.extra), capture_output=True, text=True, cwd=ROOT, env=env)
        t_full = time.perf_counter() - t0
        if r.returncode not in (0, 3):
            sys.exit(f"align failed:\n{r.stderr}")
        n = len(json.loads((a / "speech.tlog").read_text())["fragments"])

        p = subprocess.Popen(command(b, args.bench, truth, args.extra), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, cwd=ROOT, env=env, start_new_session=True)
        journal = b / "speech.tlog.journal"
        while p.poll() is None and journal_fragments(journal) < args.at * n:
            time.sleep(0.05)
        if p.poll() is not None:
            sys.exit("the run finished before it could be killed; use a longer bench or a smaller --at")
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        done = journal_fragments(journal)
        assert not (b / "speech.tlog").exists(), "a killed run must not leave a .tlog"

        t0 = time.perf_counter()
        r2 = subprocess.run(command(b, args.bench, truth, args.extra), capture_output=True, text=True, cwd=ROOT, env=env)
        t_rerun = time.perf_counter() - t0
        if r2.returncode not in (0, 3):
            sys.exit(f"rerun failed:\n{r2.stderr}")
        m = re.search(r"(\d+) of (\d+) fragments already transcribed, decoding the other (\d+)", r2.stderr)
        same_tlog = (a / "speech.tlog").read_bytes() == (b / "speech.tlog").read_bytes()
        same_aligned = (a / "speech.aligned").read_bytes() == (b / "speech.aligned").read_bytes()
        print(f"{n} fragments; killed with {done} ({100.0 * done / n:.0f}%) in the journal")
        print(f"rerun: {m[0] if m else 'NO RESUME LINE'}; journal left: {journal.exists()}")
        print(f".tlog byte-identical: {same_tlog}; .aligned byte-identical: {same_aligned}")
        print(f"wall: uninterrupted {t_full:.1f} s, rerun {t_rerun:.1f} s")
        ok = m is not None and int(m[1]) == done and int(m[3]) == n - done and same_tlog and same_aligned
        print("PASS" if ok else "FAIL")
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
