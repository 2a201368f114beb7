"""Atomic writes and strict readers that report where a file is broken."""

from __future__ import annotations

import contextlib
import gzip
import json
import math
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

from .errors import UserError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it is renamed onto `path`.

    The temp file lives in the destination directory so the final `os.replace` is atomic;
    on any exception it is removed, so a crash never leaves a half-written file that a
    rerun would trust.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp_path = Path(tmp)
    try:
        os.close(fd)
        yield tmp_path
        # mkstemp makes the file 0600; the result gets the mode a plain open() gives: the replaced
        # file's mode, or 0666 less the umask for a new file. Set after the write, because some
        # writers replace the temp file rather than write into it.
        os.chmod(tmp_path, new_file_mode(path))
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


STALE_TEMP_S = 3600.0  # an atomic write's temp file untouched this long belongs to a dead run
_TEMP_RE = re.compile(r"\..+\.[A-Za-z0-9_]{8}\.tmp")


def remove_stale_temps(directory: str | os.PathLike, older_than_s: float = STALE_TEMP_S) -> int:
    """Remove the temp files of `atomic_path` writes that a killed run left in `directory`
    (hidden `.NAME.XXXXXXXX.tmp`, not modified for `older_than_s`: a live write keeps its file's
    mtime fresh). Returns how many were removed. For cache directories, where a killed index
    write can leave hundreds of MB behind."""
    removed = 0
    now = time.time()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0
    for e in entries:
        if not _TEMP_RE.fullmatch(e.name):
            continue
        try:
            if e.is_file(follow_symlinks=False) and now - e.stat(follow_symlinks=False).st_mtime > older_than_s:
                os.unlink(e.path)
                removed += 1
        except OSError:
            continue
    return removed


def current_umask() -> int:
    """The process umask, read without changing it where Linux tells it (/proc), else by
    setting and restoring it."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def default_file_mode() -> int:
    """0o666 minus the process umask: the mode a plain open() gives a new file."""
    return 0o666 & ~current_umask()


def new_file_mode(path: str | os.PathLike) -> int:
    """Permission bits an `open(path, "w")` would leave: the existing file's, or 0666 & ~umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return default_file_mode()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def dump_json(obj: Any, pretty: bool = False) -> str:
    """Deterministic JSON text: UTF-8 characters kept, fixed separators, trailing newline."""
    # allow_nan=False: a bare NaN/Infinity is not JSON; inputs are checked for them when read
    # (`check_finite`), so reaching this is a bug, not a user error.
    if pretty:
        return json.dumps(obj, ensure_ascii=False, indent=4, allow_nan=False) + "\n"
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"


def find_nonfinite(obj: Any, where: str = "") -> tuple[str, float] | None:
    """(key path, value) of the first NaN/Infinity float inside a JSON value, or None."""
    if isinstance(obj, float):
        return None if math.isfinite(obj) else (where, obj)
    if isinstance(obj, dict):
        for k, v in obj.items():
            hit = find_nonfinite(v, f"{where}.{k}" if where else str(k))
            if hit:
                return hit
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            hit = find_nonfinite(v, f"{where}[{i}]")
            if hit:
                return hit
    return None


def check_finite(obj: Any, where: str) -> None:
    """UserError naming `where` and the field if a JSON value holds NaN or Infinity (which JSON
    cannot represent: writing them back would make an invalid file)."""
    hit = find_nonfinite(obj)
    if hit:
        field, value = hit
        raise UserError(f"{where}: field \"{field}\" is {value}, which is not a valid JSON number; "
                        f"use a finite number or null")


def atomic_write_json(path: str | os.PathLike, obj: Any, pretty: bool = False) -> None:
    atomic_write_text(path, dump_json(obj, pretty))


def atomic_write_gzip_text(path: str | os.PathLike, text: str) -> None:
    # mtime=0 keeps the gzip header free of the write time: byte-identical reruns.
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
            f.write(text.encode("utf-8"))


def _line_col(data: bytes, pos: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, pos) + 1
    col = pos - (data.rfind(b"\n", 0, pos) + 1) + 1
    return line, col


@contextlib.contextmanager
def user_file_errors(path: str | os.PathLike, what: str = "file") -> Iterator[None]:
    """Turn the OS errors of opening a user's file into UserErrors naming it."""
    try:
        yield
    except FileNotFoundError:
        raise UserError(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise UserError(f"{what} is a directory, expected a file: {path}") from None
    except PermissionError:
        raise UserError(f"{what} is not readable (permission denied): {path}") from None


def read_text(path: str | os.PathLike, what: str = "file") -> str:
    """Read a UTF-8 text file; a missing file or a non-UTF-8 byte is a UserError naming both."""
    path = Path(path)
    with user_file_errors(path, what):
        data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line, col = _line_col(data, e.start)
        bad = data[e.start : e.start + 1].hex()
        raise UserError(
            f"{path}:{line}:{col}: {what} is not valid UTF-8 (byte 0x{bad} at offset {e.start}); "
            f"convert it, e.g. with `iconv -f latin1 -t utf-8`"
        ) from None
    # A UTF-8 byte-order mark is not text.
    return text[1:] if text.startswith("\ufeff") else text


def read_json(path: str | os.PathLike, what: str = "JSON file") -> Any:
    """Parse a JSON file; invalid JSON is a UserError with the line and column."""
    text = read_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise UserError(f"{path}:{e.lineno}:{e.colno}: invalid JSON in {what}: {e.msg}") from None
