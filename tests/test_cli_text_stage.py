"""`align --tlog` and the issue-9 text stage: spoken numbers, skipped furniture, a wrong text."""

import json
import subprocess
import sys

LICENSE = "/usr/share/common-licenses/GPL-3"
OTHER = "/usr/share/common-licenses/Apache-2.0"


def run(*args):
    return subprocess.run([sys.executable, "-m", "align.cli.align", "--no-progress", *map(str, args)],
                          capture_output=True, text=True)


def test_numbers_are_said_and_raw_text_stays_original(tmp_path):
    text = ("Welcome to the voice mail system of the company.\nPress 2 to change folders, or press 3 to hear "
            "the 21st message again.\nThe office opens at 9:30 on weekdays.\n")
    (tmp_path / "t.txt").write_text(text)
    tlog = [{"start": 0, "end": 3000, "transcript": "welcome to the voice mail system of the company"},
            {"start": 3500, "end": 6000, "transcript": "press two to change folders"},
            {"start": 6500, "end": 9000, "transcript": "or press three to hear the twenty first message again"},
            {"start": 9500, "end": 12000, "transcript": "the office opens at nine thirty on weekdays"}]
    (tmp_path / "t.tlog").write_text(json.dumps(tlog))
    out = tmp_path / "t.aligned"
    r = run("--tlog", tmp_path / "t.tlog", "--script", tmp_path / "t.txt", "--aligned", out)
    assert r.returncode == 0, r.stderr
    u = json.loads(out.read_text())
    assert [x["aligned"] for x in u] == [t["transcript"] for t in tlog]
    assert u[1]["aligned-raw"] == "Press 2 to change folders,"
    assert u[3]["aligned-raw"] == "The office opens at 9:30 on weekdays."
    r = run("--tlog", tmp_path / "t.tlog", "--script", tmp_path / "t.txt", "--aligned", out, "--force",
            "--text-verbalize", "none", "--align-no-verbatim-check")
    assert [x["aligned"] for x in json.loads(out.read_text())][1] == "press to change folders"
    # with the verbatim check (default) that label, which lacks the spoken "two", is refused: its
    # neighbours "three ... twenty first" and "nine thirty" find no text without numbers said
    r = run("--tlog", tmp_path / "t.tlog", "--script", tmp_path / "t.txt", "--aligned", out, "--force",
            "--text-verbalize", "none")
    assert "press to change folders" not in [x["aligned"] for x in json.loads(out.read_text())]
    assert "not verbatim: 1" in r.stderr


def _tlog_of(path, n=60):
    import random

    words = open(path, encoding="utf-8").read().split()
    rng = random.Random(1)
    out, i, t = [], 0, 0
    while len(out) < n:
        k = rng.randint(6, 12)
        s = " ".join("".join(c for c in w.lower() if c.isalpha()) for w in words[i:i + k]).split()
        out.append({"start": t, "end": t + 3000, "transcript": " ".join(s)})
        t += 3500
        i += k
    return out


def test_a_text_that_does_not_belong_to_the_audio_warns_writes_and_exits_3(tmp_path):
    (tmp_path / "a.tlog").write_text(json.dumps(_tlog_of(LICENSE)))
    out = tmp_path / "a.aligned"
    r = run("--tlog", tmp_path / "a.tlog", "--script", OTHER, "--aligned", out)
    assert r.returncode == 3, r.stderr
    assert "text probably wrong" in r.stderr
    assert json.loads(out.read_text()) == []
    # the right text: exit 0
    r = run("--tlog", tmp_path / "a.tlog", "--script", LICENSE, "--aligned", out, "--force")
    assert r.returncode == 0, r.stderr
    assert len(json.loads(out.read_text())) >= 50


def test_audio_without_speech_is_reported(tmp_path):
    """A truncated or silent recording gives no fragment: the run says so (a WARNING), not only
    "wrote 0 utterances"."""
    import numpy as np
    import soundfile as sf

    sf.write(tmp_path / "short.wav", np.zeros(480, np.int16), 16000)
    out = tmp_path / "a.aligned"
    r = run("--audio", tmp_path / "short.wav", "--script", LICENSE, "--aligned", out)
    assert r.returncode == 0, r.stderr
    assert "WARNING" in r.stderr and "no speech found: 0.03 s of audio" in r.stderr
    assert json.loads(out.read_text()) == []


def test_catalog_with_a_wrong_text_exits_3(tmp_path):
    (tmp_path / "a.tlog").write_text(json.dumps(_tlog_of(LICENSE)))
    cat = [{"tlog": str(tmp_path / "a.tlog"), "script": LICENSE, "aligned": str(tmp_path / "good.aligned")},
           {"tlog": str(tmp_path / "a.tlog"), "script": OTHER, "aligned": str(tmp_path / "bad.aligned")}]
    (tmp_path / "c.catalog").write_text(json.dumps(cat))
    r = run("--catalog", tmp_path / "c.catalog")
    assert r.returncode == 3, r.stderr
    assert "text probably wrong, entry 1" in r.stderr
    assert (tmp_path / "bad.aligned").exists() and (tmp_path / "good.aligned").exists()
