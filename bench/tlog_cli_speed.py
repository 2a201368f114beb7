"""Speed of the whole `align --tlog` command (issue 9: <= 1.0 s wall on ~100k characters, start-up
included), with the time per stage.

Writes a messy book and its transcript log (bench/make_text_bench.py make_messy_case, licenses,
seed 1: ~106k characters, ~1400 fragments) to a temp dir, then runs

    python -m align.cli.align --script book.txt --tlog t.tlog --aligned out.aligned --force

N times as a fresh process, and prints per run the wall seconds, the CPU seconds (user + sys of
the child) and the stages the command logs (text normalisation, index, rough, gap, edges and
metrics, writing); "start-up and rest" is wall minus the logged stages: interpreter start,
imports (numpy, numba, num2words), numba's cached kernels loading, reading the files, the summary.
Then min and median. On a shared machine CPU seconds are the steadier figure.

    python3 bench/tlog_cli_speed.py [--runs 7] [--kind licenses] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_text_bench import make_messy_case  # noqa: E402

STAGES = re.compile(r"wrote \d+ utterances to .*\(text ([\d.]+) s, speech-to-text ([\d.]+) s, alignment ([\d.]+) s: "
                    r"index ([\d.]+) s, rough ([\d.]+) s, gap ([\d.]+) s, edges and metrics ([\d.]+) s; "
                    r"post-processing ([\d.]+) s, writing ([\d.]+) s\)")
NAMES = ("text", "stt", "alignment", "index", "rough", "gap", "edges+metrics", "post", "write")


def run_once(d: Path) -> dict:
    cmd = [sys.executable, "-m", "align.cli.align", "--script", "book.txt", "--tlog", "t.tlog",
           "--aligned", "out.aligned", "--force", "--no-progress"]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=d, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"align failed ({p.returncode}):\n{p.stderr[-2000:]}")
    m = STAGES.search(p.stderr)
    if m is None:
        raise SystemExit("no stage line in the log:\n" + p.stderr[-2000:])
    st = dict(zip(NAMES, map(float, m.groups())))
    logged = st["text"] + st["stt"] + st["alignment"] + st["post"] + st["write"]
    return {"wall": wall, "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            **st, "start-up and rest": wall - logged}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--kind", default="licenses")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    case = make_messy_case(args.kind, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "book.txt").write_text(case.book, encoding="utf-8")
        (d / "t.tlog").write_text(json.dumps(case.tlog), encoding="utf-8")
        print(f"{args.kind} seed {args.seed}: {len(case.book)} characters, {len(case.tlog)} fragments; "
              f"{args.runs} runs after one warm-up (numba's cache written on first use)")
        run_once(d)
        runs = [run_once(d) for _ in range(args.runs)]
    cols = ("wall", "cpu", "start-up and rest", "text", "index", "rough", "gap", "edges+metrics", "write")
    print("".join(f"{c:>18}" for c in ("run",) + cols))
    for k, r in enumerate(runs, 1):
        print("".join(f"{v:>18}" for v in (str(k),) + tuple(f"{r[c]:.3f}" for c in cols)))
    for name, f in (("min", min), ("median", statistics.median)):
        print("".join(f"{v:>18}" for v in (name,) + tuple(f"{f(r[c] for r in runs):.3f}" for c in cols)))


if __name__ == "__main__":
    main()
