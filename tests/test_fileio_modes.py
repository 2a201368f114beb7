"""Atomic writes create files with the mode a plain open() gives, and never write bare NaN."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from align.common.errors import UserError
from align.common.fileio import atomic_write_json, check_finite, dump_json


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_new_file_mode_follows_umask(tmp_path, umask):
    # in a child process: the umask is process-wide
    code = ("import os, sys; os.umask(int(sys.argv[2], 8)); "
            "from align.common.fileio import atomic_write_text; atomic_write_text(sys.argv[1], 'x')")
    out = tmp_path / "out.txt"
    subprocess.run([sys.executable, "-c", code, str(out), oct(umask)[2:]], check=True)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_replaced_file_keeps_its_mode(tmp_path):
    out = tmp_path / "out.json"
    out.write_text("old")
    os.chmod(out, 0o640)
    atomic_write_json(out, {"a": 1})
    assert out.stat().st_mode & 0o777 == 0o640
    assert json.loads(out.read_text()) == {"a": 1}


def test_json_writer_refuses_nan(tmp_path):
    with pytest.raises(ValueError):
        dump_json({"x": math.nan})
    with pytest.raises(ValueError):
        atomic_write_json(tmp_path / "x.json", [1.0, math.inf])
    assert not list(tmp_path.iterdir())  # no half-written file


def test_check_finite_names_the_field():
    check_finite({"a": [1.0, {"b": 2}]}, "f")
    with pytest.raises(UserError, match=r'f: field "a\[1\]\.b" is nan'):
        check_finite({"a": [1.0, {"b": math.nan}]}, "f")


def test_lock_in_a_read_only_directory_is_a_user_error(tmp_path):
    from align.common.locks import output_lock

    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as a user that can write anywhere (root)")
        with pytest.raises(UserError, match="cannot create the lock file .*ro/.out.aligned.lock"):
            with output_lock(ro / "out.aligned"):
                pass
    finally:
        ro.chmod(0o755)


def test_lock_under_a_file_is_a_user_error(tmp_path):
    from align.common.locks import output_lock

    (tmp_path / "afile").write_text("x")
    with pytest.raises(UserError, match="cannot create the directory .*afile"):
        with output_lock(tmp_path / "afile" / "out.aligned"):
            pass
