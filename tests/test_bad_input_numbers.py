"""Hostile numbers and sizes in `align`'s inputs: one clear line naming the file and field, exit 1,
no output file; never a traceback or an invalid-JSON `.aligned`."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

TEXT = "the quick brown fox jumps over the lazy dog. the dog sleeps in the sun all day long.\n"
GOOD = [{"start": 0, "end": 2000, "transcript": "the quick brown fox jumps over the lazy dog"},
        {"start": 2500, "end": 4500, "transcript": "the dog sleeps in the sun all day long"}]


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "align.cli.align", "--no-progress", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


def one_error_line(r) -> str:
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    errors = [line for line in r.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, r.stderr
    return errors[0]


@pytest.mark.parametrize("name, raw, expect", [
    ("huge", '{"start": 1' + "0" * 400 + ', "end": 2000, "transcript": "x"}', r'entry 0: "start".*401-digit'),
    ("negative", '{"start": -500, "end": 2000, "transcript": "x"}', r'entry 0: "start" must be a non-negative'),
    ("nan-time", '{"start": NaN, "end": 2000, "transcript": "x"}', r'entry 0: "start" must be'),
    ("nan-meta", '{"start": 0, "end": 2000, "transcript": "x", "score": NaN}', r'entry 0: field "score" is nan'),
    ("inf-nested", '{"start": 0, "end": 2000, "transcript": "x", "m": {"q": [1, -Infinity]}}',
     r'entry 0: field "m\.q\[1\]" is -inf'),
])
def test_bad_tlog_numbers(tmp_path, name, raw, expect):
    from align.common.errors import UserError
    from align.tlog import load_tlog

    tlog = tmp_path / "a.tlog"
    tlog.write_text("[" + raw + "]")
    with pytest.raises(UserError) as e:
        load_tlog(tlog)
    assert str(e.value).startswith(f"{tlog}: ") and "\n" not in str(e.value)
    assert re.search(expect, str(e.value)), str(e.value)


def test_bad_tlog_number_through_the_cli(tmp_path):
    tlog, script, out = tmp_path / "a.tlog", tmp_path / "a.txt", tmp_path / "a.aligned"
    script.write_text(TEXT)
    tlog.write_text('[{"start": 1' + "0" * 400 + ', "end": 2000, "transcript": "x"}]')
    line = one_error_line(run("--tlog", tlog, "--script", script, "--aligned", out))
    assert line == f'align: error: {tlog}: entry 0: "start" must be a non-negative number of milliseconds, ' \
                   f"got a 401-digit number"
    assert not out.exists()


def test_nan_in_script_meta(tmp_path):
    tlog, script, out = tmp_path / "a.tlog", tmp_path / "a.script", tmp_path / "a.aligned"
    tlog.write_text(json.dumps(GOOD))
    script.write_text('[{"text": "the quick brown fox jumps over the lazy dog.", "speaker": "a"},'
                      ' {"text": "the dog sleeps in the sun all day long.", "confidence": NaN}]')
    line = one_error_line(run("--tlog", tlog, "--script", script, "--aligned", out))
    assert str(script) in line and 'entry 1: field "confidence" is nan' in line
    assert not out.exists()

    # the same without the NaN aligns, and the output is valid strict JSON
    script.write_text('[{"text": "the quick brown fox jumps over the lazy dog.", "speaker": "a"},'
                      ' {"text": "the dog sleeps in the sun all day long.", "confidence": 0.5}]')
    r = run("--tlog", tlog, "--script", script, "--aligned", out)
    assert r.returncode == 0, r.stderr
    json.loads(out.read_text(), parse_constant=lambda c: pytest.fail(f"bare {c} in output"))


def test_text_above_the_size_limit_is_refused_before_reading(tmp_path):
    """A 60 MB text (sparse file: no disk, instant) is refused by size, not read into memory."""
    tlog, script, out = tmp_path / "a.tlog", tmp_path / "big.txt", tmp_path / "a.aligned"
    tlog.write_text(json.dumps(GOOD))
    with open(script, "wb") as f:
        f.truncate(60_000_000)
    line = one_error_line(run("--tlog", tlog, "--script", script, "--aligned", out))
    assert str(script) in line and "60.0 MB" in line and "limit of 50 MB" in line and "--text-max-bytes" in line
    assert not out.exists()


def test_read_script_limit(tmp_path):
    from align.common.errors import UserError
    from align.text.script import read_script

    p = tmp_path / "t.txt"
    p.write_text("x" * 1000)
    assert read_script(p, max_bytes=1000)[0] == "x" * 1000
    assert read_script(p, max_bytes=None)[0] == "x" * 1000
    with pytest.raises(UserError, match="limit of 0.000999 MB"):
        read_script(p, max_bytes=999)


def test_text_max_bytes_option(tmp_path):
    tlog, script, out = tmp_path / "a.tlog", tmp_path / "a.txt", tmp_path / "a.aligned"
    tlog.write_text(json.dumps(GOOD))
    script.write_text(TEXT)
    line = one_error_line(run("--tlog", tlog, "--script", script, "--aligned", out, "--text-max-bytes", "50"))
    assert "above the limit of 5e-05 MB" in line and not out.exists()
    r = run("--tlog", tlog, "--script", script, "--aligned", out, "--text-max-bytes", "0")
    assert r.returncode == 0, r.stderr


def test_second_run_writing_the_same_output_is_refused(tmp_path):
    """A real process holds the output's lock as a running `align` does: refused, one line."""
    import os
    import signal

    tlog, script, out = tmp_path / "a.tlog", tmp_path / "a.txt", tmp_path / "a.aligned"
    tlog.write_text(json.dumps(GOOD))
    script.write_text(TEXT)
    code = ("import sys, time; from align.common.locks import output_lock\n"
            "with output_lock(sys.argv[1]):\n    print('locked', flush=True); time.sleep(120)\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        line = one_error_line(run("--tlog", tlog, "--script", script, "--aligned", out))
        assert line == (f"align: error: {out} is being written by another run (pid {holder.pid}) "
                        f"(lock {tmp_path / '.a.aligned.lock'}); wait for it to finish, or write elsewhere")
        assert not out.exists()
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    r = run("--tlog", tlog, "--script", script, "--aligned", out)  # the dead holder's lock is free
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.aligned", "a.aligned.done.json", "a.tlog", "a.txt"]


def test_second_run_of_the_same_catalog_is_refused(tmp_path):
    import os
    import signal

    (tmp_path / "a.tlog").write_text(json.dumps(GOOD))
    (tmp_path / "a.txt").write_text(TEXT)
    cat = tmp_path / "books.catalog"
    cat.write_text(json.dumps([{"tlog": "a.tlog", "script": "a.txt", "aligned": "a.aligned"}]))
    code = ("import sys, time; from align.common.locks import output_lock\n"
            "with output_lock(sys.argv[1]):\n    print('locked', flush=True); time.sleep(120)\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(cat)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        line = one_error_line(run("--catalog", cat))
        assert f"catalog {cat} is being aligned by another run (pid {holder.pid})" in line
        assert not (tmp_path / "a.aligned").exists()
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    r = run("--catalog", cat)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "a.aligned").exists() and not (tmp_path / ".books.catalog.lock").exists()
