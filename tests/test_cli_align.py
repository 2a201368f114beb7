"""The `align` command on .tlog input: output format, determinism, and every user error."""

import json
import random
import re
import subprocess
import sys

import pytest

from align.text.alphabet import ENGLISH_LABELS, Alphabet
from align.text.normalise import Phrase, normalise

LICENSE = "/usr/share/common-licenses/GPL-3"


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "align.cli.align", "--no-progress", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    d = tmp_path_factory.mktemp("doc")
    text = open(LICENSE, encoding="utf-8").read()[:12000]
    (d / "book.txt").write_text("CHAPTER ONE\npage 1\n\n" + text, encoding="utf-8")
    # The words as the model's alphabet spells them ("https://fsf.org" -> "httpsfsforg").
    words = normalise(text, [Phrase(0, len(text))], Alphabet.from_labels(ENGLISH_LABELS)).clean.split(" ")
    rng = random.Random(2)
    tlog, i, t = [], 0, 0
    while i < len(words):
        n = rng.randint(4, 12)
        s = " ".join(words[i:i + n])
        tlog.append({"start": t, "end": t + 60 * len(s), "transcript": s, "reader": "r1"})
        t += 60 * len(s) + 250
        i += n
    (d / "book.tlog").write_text(json.dumps(tlog), encoding="utf-8")
    return d


def test_aligns_and_output_is_deterministic(doc, tmp_path):
    a, b = tmp_path / "a.aligned", tmp_path / "b.aligned"
    r = run("--tlog", doc / "book.tlog", "--script", doc / "book.txt", "--aligned", a, "--output-cer", "--output-wer",
            "--output-tlen")
    assert r.returncode == 0, r.stderr
    assert run("--tlog", doc / "book.tlog", "--script", doc / "book.txt", "--aligned", b, "--output-cer",
               "--output-wer", "--output-tlen").returncode == 0
    assert a.read_bytes() == b.read_bytes()
    out = json.loads(a.read_text(encoding="utf-8"))
    tlog = json.loads((doc / "book.tlog").read_text(encoding="utf-8"))
    original = (doc / "book.txt").read_text(encoding="utf-8")
    assert len(out) == len(tlog)
    for u, t in zip(out, tlog):
        assert list(u)[:8] == ["start", "end", "transcript", "text-start", "text-end", "meta", "aligned-raw", "aligned"]
        assert u["aligned-raw"] == original[u["text-start"]:u["text-end"]]
        assert u["meta"] == {"reader": ["r1"]}
        assert u["aligned"] == t["transcript"] and u["cer"] == 0.0 and u["wer"] == 0.0
        assert u["tlen"] == len(t["transcript"])
    assert "chapter" not in out[0]["aligned"]
    assert re.search(r"fragments in: (\d+) = \1 in utterances \(100\.00%\) \+ 0 dropped", r.stderr)
    assert "0 fragments merged" in r.stderr  # --tlog alone: one utterance per fragment, as before


def test_start_num_samples_and_filters(doc, tmp_path):
    out = tmp_path / "o.aligned"
    r = run("--tlog", doc / "book.tlog", "--script", doc / "book.txt", "--aligned", out,
            "--start", 3, "--num-samples", 5, "--output-max-tlen", 0)
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text()) == []          # a bound of 0 is a real bound
    assert "dropped, tlen above 0: 5 (100.00%)" in r.stderr


def test_meaningful_newlines_and_script(doc, tmp_path):
    script = tmp_path / "book.script"
    paras = [p for p in open(LICENSE, encoding="utf-8").read()[:12000].split("\n\n") if p.strip()]
    script.write_text(json.dumps([{"text": p, "para": k} for k, p in enumerate(paras)]), encoding="utf-8")
    out = tmp_path / "s.aligned"
    r = run("--tlog", doc / "book.tlog", "--script", script, "--aligned", out, "--align-phrase-snap-factor", 2)
    assert r.returncode == 0, r.stderr
    utts = json.loads(out.read_text())
    assert utts and all("para" in u["meta"] for u in utts)
    paras_seen = [p for u in utts for p in u["meta"]["para"]]
    assert paras_seen == sorted(paras_seen)


@pytest.mark.parametrize("case,expect", [
    ("missing_tlog", r"transcript log not found: .*nope\.tlog"),
    ("missing_script", r"text file not found: .*nope\.txt"),
    ("bad_json", r"bad\.tlog:3:1: invalid JSON"),
    ("not_utf8", r"latin\.txt:2:3: text file is not valid UTF-8 \(byte 0xe9"),
    ("no_alphabet_chars", r"digits\.txt: the text has no character of the alphabet"),
    ("missing_alphabet", r"alphabet file not found: .*nope-alphabet\.txt"),
    ("bad_entry", r"wrong\.tlog: entry 1 has no \"transcript\" key"),
    ("exists", r"already exists; pass --force"),
    ("no_inputs", r"missing --audio or --tlog"),
])
def test_user_errors_are_one_line_without_traceback(doc, tmp_path, case, expect):
    tlog, script, out, extra = doc / "book.tlog", doc / "book.txt", tmp_path / "x.aligned", []
    if case == "missing_tlog":
        tlog = tmp_path / "nope.tlog"
    elif case == "missing_script":
        script = tmp_path / "nope.txt"
    elif case == "bad_json":
        tlog = tmp_path / "bad.tlog"
        tlog.write_text('[\n{"start": 0, "end": 1, "transcript": "a"},\n]\n')
    elif case == "not_utf8":
        script = tmp_path / "latin.txt"
        script.write_bytes(b"first line\nca\xe9 au lait\n")
    elif case == "no_alphabet_chars":
        script = tmp_path / "digits.txt"  # (digits would be said aloud: symbols no one says)
        script.write_text("\u00a7\u00a7 ** -- \u00b6 !!!\n")
    elif case == "missing_alphabet":
        extra = ["--alphabet", tmp_path / "nope-alphabet.txt"]
    elif case == "bad_entry":
        tlog = tmp_path / "wrong.tlog"
        tlog.write_text('[{"start": 0, "end": 1, "transcript": "a"}, {"start": 1, "end": 2}]')
    elif case == "exists":
        out.write_text("keep me")
    args = ["--tlog", tlog, "--script", script, "--aligned", out, *extra]
    if case == "no_inputs":
        args = ["--script", script, "--aligned", out]
    r = run(*args)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert re.search(expect, r.stderr), r.stderr
    if case == "exists":
        assert out.read_text() == "keep me"
    else:
        assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".x.aligned")]


def test_unknown_similarity_algo_is_a_usage_error_not_a_hang(doc, tmp_path):
    r = subprocess.run([sys.executable, "-m", "align.cli.align", "--tlog", doc / "book.tlog", "--script",
                        doc / "book.txt", "--aligned", tmp_path / "x", "--align-similarity-algo", "soundex"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "unknown algorithm 'soundex'" in r.stderr and "levenshtein" in r.stderr


def test_frame_length_is_settable_and_validated():
    r = run("--audio-vad-frame-length", "25", "--tlog", "x", "--script", "y", "--aligned", "z")
    assert r.returncode == 2 and "must be 10, 20 or 30" in r.stderr


def test_catalog_skips_bad_entries_reports_them_and_resumes(doc, tmp_path):
    import shutil

    shutil.copy(doc / "book.tlog", tmp_path / "a.tlog")
    shutil.copy(doc / "book.txt", tmp_path / "a.txt")
    (tmp_path / "b.txt").write_bytes(b"caf\xe9\n")
    catalog = tmp_path / "run.catalog"
    catalog.write_text(json.dumps([
        {"tlog": "a.tlog", "script": "a.txt", "aligned": "out/a.aligned"},
        {"tlog": "missing.tlog", "script": "a.txt", "aligned": "out/m.aligned"},
        {"tlog": "a.tlog", "script": "b.txt", "aligned": "out/b.aligned"},
        {"tlog": "a.tlog", "script": "a.txt", "aligned": "out/c.aligned", "audio": None},
    ]))
    r = run("--catalog", catalog)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert "2 documents aligned, 0 skipped, 2 failed" in r.stderr
    assert "entry 1 (" in r.stderr and "missing.tlog" in r.stderr
    assert "entry 2 (" in r.stderr and "not valid UTF-8" in r.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.aligned", "a.aligned.done.json",
                                                                   "c.aligned", "c.aligned.done.json"]
    first = (tmp_path / "out" / "a.aligned").read_bytes()
    r = run("--catalog", catalog)  # a rerun keeps what is done and retries the rest
    assert "0 documents aligned, 2 skipped, 2 failed" in r.stderr and "skipped: already done" in r.stderr
    assert (tmp_path / "out" / "a.aligned").read_bytes() == first


def test_catalog_errors(tmp_path):
    catalog = tmp_path / "bad.catalog"
    catalog.write_text(json.dumps([{"script": "a.txt", "aligned": "a.aligned", "wav": "x"}]))
    r = run("--catalog", catalog)
    assert r.returncode == 1 and "entry 0: unknown key(s) wav" in r.stderr
    catalog.write_text(json.dumps([{"script": "a.txt", "aligned": "a.aligned"}]))
    r = run("--catalog", catalog)
    assert "entry 0 needs \"audio\" or \"tlog\"" in r.stderr
    r = run("--catalog", catalog, "--script", "x")
    assert r.returncode == 2 and "--catalog takes the inputs" in r.stderr
