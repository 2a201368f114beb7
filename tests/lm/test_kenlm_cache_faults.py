"""Document-LM cache faults: damaged entries, killed builds, relative cache paths, tool lookup."""

from __future__ import annotations

import logging
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from align.common.errors import MissingDependencyError
from align.lm import kenlm
from align.lm.kenlm import build_document_lm, find_kenlm_tool

TEXT = "the quick brown fox jumps over the lazy dog\nthe dog sleeps in the sun\n"


def _tool_or_skip(name: str) -> Path:
    try:
        return find_kenlm_tool(name)
    except MissingDependencyError as e:
        pytest.skip(f"{e} (bin/setup.sh builds it)")


def test_truncated_arpa_is_detected_removed_and_rebuilt(tmp_path, caplog):
    _tool_or_skip("lmplz")
    lm = build_document_lm(TEXT, cache_dir=tmp_path)
    good = lm.arpa_path.read_bytes()
    lm.arpa_path.write_bytes(good[: len(good) // 2])  # what a full disk or a crash leaves
    with caplog.at_level(logging.WARNING, logger="align.lm.kenlm"):
        again = build_document_lm(TEXT, cache_dir=tmp_path)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "damaged" in warnings[0] and "lm.arpa" in warnings[0]
    assert again.arpa_path.read_bytes() == good


def test_edited_dictionary_and_binary_are_rebuilt(tmp_path, caplog):
    _tool_or_skip("build_binary")
    lm = build_document_lm(TEXT, cache_dir=tmp_path, want_binary=True)
    good_dict, good_bin = lm.dict_path.read_bytes(), lm.binary_path.read_bytes()
    lm.dict_path.write_bytes(good_dict.replace(b"dog", b"cat"))
    lm.binary_path.write_bytes(good_bin[:100])
    with caplog.at_level(logging.WARNING, logger="align.lm.kenlm"):
        again = build_document_lm(TEXT, cache_dir=tmp_path, want_binary=True)
    assert again.dict_path.read_bytes() == good_dict
    assert again.binary_path.read_bytes() == good_bin
    # the damaged entry was removed as a whole: the binary was rebuilt with it
    assert sum("damaged" in r.getMessage() for r in caplog.records) == 1
    again.binary_path.write_bytes(good_bin[:100])
    with caplog.at_level(logging.WARNING, logger="align.lm.kenlm"):
        third = build_document_lm(TEXT, cache_dir=tmp_path, want_binary=True)
    assert third.binary_path.read_bytes() == good_bin


def test_relative_cache_dir(tmp_path, monkeypatch):
    _tool_or_skip("lmplz")
    monkeypatch.chdir(tmp_path)
    lm = build_document_lm(TEXT, cache_dir=Path("rel-cache"))
    assert lm.arpa_path.is_absolute() and lm.arpa_path.is_file()
    assert lm.arpa_path.parent.parent == tmp_path / "rel-cache"


def test_killed_build_leaves_no_build_folder_behind(tmp_path):
    """A real process is killed (SIGKILL) in the middle of lmplz; the next build removes its
    folder, but never the folder of a build that is still running."""
    real = _tool_or_skip("lmplz")
    slow = tmp_path / "slowbin"
    slow.mkdir()
    started = tmp_path / "lmplz-started"
    for name in ("lmplz", "build_binary"):
        w = slow / name
        w.write_text(f'#!/bin/sh\ntouch "{started}"\nsleep 60\nexec "{real.parent / name}" "$@"\n')
        w.chmod(w.stat().st_mode | stat.S_IXUSR)
    cache = tmp_path / "cache"
    code = ("import sys; from align.lm.kenlm import build_document_lm; "
            f"build_document_lm({TEXT!r}, cache_dir=sys.argv[1])")
    env = {**os.environ, "ALIGN_KENLM_BIN": str(slow)}
    proc = subprocess.Popen([sys.executable, "-c", code, str(cache)], env=env, start_new_session=True)
    try:
        for _ in range(600):
            if started.exists():
                break
            time.sleep(0.05)
        assert started.exists(), "the build never reached lmplz"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    left = [p for p in cache.iterdir() if p.name.startswith(".build-")]
    assert len(left) == 1  # what a killed run leaves
    old = time.time() - 2 * kenlm.STALE_BUILD_S
    os.utime(left[0], (old, old))  # folders are only probed after a minute's grace

    # a build in progress (this process holds its lock) must survive the clean-up, however old,
    # and so must a folder created just now (its builder is about to take the lock)
    from align.common.locks import exclusive_lock

    live, young = cache / ".build-live", cache / ".build-young"
    live.mkdir()
    young.mkdir()
    with exclusive_lock(live / kenlm.BUILD_LOCK, "test build"):
        os.utime(live, (old, old))
        build_document_lm(TEXT, cache_dir=cache)
        assert live.is_dir() and young.is_dir()
    assert not left[0].exists()
    assert sorted(p.name for p in cache.iterdir() if p.name.startswith(".build-")) == [".build-live", ".build-young"]


def test_tools_found_next_to_the_running_python(tmp_path, monkeypatch):
    """bin/setup.sh installs lmplz into the venv's bin/ when it cannot write /usr/local; a venv
    that is not activated is not on PATH, so the tools are looked for beside sys.executable."""
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    tool = venv_bin / "lmplz"
    tool.write_text("#!/bin/sh\nexit 0\n")
    tool.chmod(0o755)
    monkeypatch.delenv("ALIGN_KENLM_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(sys, "executable", str(venv_bin / "python"))
    assert find_kenlm_tool("lmplz") == tool
