"""`align --demo` runs the whole pipeline (synthesis, VAD, pocketsphinx + document LM, alignment)."""

import json
import shutil
import subprocess
import sys

import pytest

from align.demo import SENTENCES


@pytest.mark.skipif(not (shutil.which("text2wave") or shutil.which("espeak-ng")), reason="no speech synthesiser")
def test_align_demo(tmp_path):
    work = tmp_path / "demo"
    r = subprocess.run([sys.executable, "-m", "align.cli.align", "--demo", "--no-progress", "--demo-dir", str(work),
                        "--lm-cache-dir", str(tmp_path / "lm")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    # --demo-dir keeps what the demo made, and says where
    for name in ("demo.wav", "demo.txt", "demo.tlog", "demo.aligned"):
        assert (work / name).is_file(), name
    assert f"demo files kept in {work}" in r.stdout
    out = work / "demo.aligned"
    utts = json.loads(out.read_text(encoding="utf-8"))
    assert [u["aligned-raw"] for u in utts] == SENTENCES  # the header and page number are never assigned
    assert all(a["end"] <= b["start"] for a, b in zip(utts, utts[1:]))
    assert "5 utterances" in r.stdout
