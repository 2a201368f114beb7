"""`kill -9` of a running `align --stt-workers 2` or `align --catalog --workers 2` (a real process): its
worker processes and multiprocessing's resource tracker must exit too, not keep working for minutes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("pocketsphinx")


def children(pid: int) -> dict[int, str]:
    """{pid: command line} of the live children of `pid` (from /proc)."""
    out = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out[int(d.name)] = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue
    return out


def alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper that never comes counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("mode", ["stt-workers", "catalog-workers"])
def test_kill_9_of_align_takes_its_workers_with_it(four_sentences_wav, tmp_path, mode):
    """stt-workers: `--stt-workers 2` (the speech-to-text pool); catalog-workers: `--catalog
    --workers 2` (documents aligned in worker processes)."""
    x, rate = sf.read(four_sentences_wav, dtype="int16")
    (tmp_path / "t.txt").write_text("the quick brown fox jumps over the lazy dog\n")
    args = ["--stt-no-own-lm"]
    if mode == "stt-workers":
        long_wav = tmp_path / "long.wav"
        sf.write(long_wav, np.tile(x, 15), rate, subtype="PCM_16")  # ~3 minutes: workers busy for a while
        args += ["--audio", str(long_wav), "--script", str(tmp_path / "t.txt"), "--aligned",
                 str(tmp_path / "out.aligned"), "--stt-workers", "2"]
    else:
        entries = []
        for i in range(2):
            sf.write(tmp_path / f"d{i}.wav", np.tile(x, 8), rate, subtype="PCM_16")
            entries.append({"audio": f"d{i}.wav", "script": "t.txt", "aligned": f"d{i}.aligned"})
        (tmp_path / "books.catalog").write_text(json.dumps(entries))
        args += ["--catalog", str(tmp_path / "books.catalog"), "--workers", "2"]
    proc = subprocess.Popen([sys.executable, "-m", "align.cli.align", "--no-progress", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        kids: dict[int, str] = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            kids = children(proc.pid)
            workers = [p for p, cmd in kids.items() if "spawn_main" in cmd]
            if len(workers) >= 2:
                break
            time.sleep(0.1)
        assert proc.poll() is None, f"align ended before its workers were seen: {proc.stderr.read()}"
        assert len([p for p, c in kids.items() if "spawn_main" in c]) >= 2, kids
        time.sleep(1.0)  # let the workers load the engine and start decoding
        kids = children(proc.pid)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(alive(p) for p in kids):
        time.sleep(0.2)
    left = {p: c for p, c in kids.items() if alive(p)}
    for p in left:  # do not leave them to the next test
        os.kill(p, signal.SIGKILL)
    assert not left, f"still running after the parent was killed: {left}"
