"""Advisory locks (fcntl.flock) that keep two runs from writing the same output at once.

The lock is a small file beside what it guards. flock locks die with their process, so a killed
run never leaves a lock that blocks the next one; the file itself is removed when the lock is
released (a lock file left by a killed run is simply taken over). Taking a lock checks that the
locked file is still the one at the path, so removal never lets two holders in.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from pathlib import Path
from typing import Iterator

from .errors import UserError


def _try_lock(path: Path) -> int | None:
    """An open fd holding the exclusive lock on `path`, or None if another process holds it."""
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as e:
            raise UserError(f"cannot create the lock file {path} ({e.strerror}); is {path.parent} "
                            f"writable?") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return None
            raise
        # The previous holder may have removed the file between our open and our lock: then we
        # hold a lock on a deleted file, and must lock the new one instead.
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


def _holder(path: Path) -> str:
    try:
        pid = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""


@contextlib.contextmanager
def exclusive_lock(lock_path: str | os.PathLike, what: str, busy: str = "is being written by") -> Iterator[None]:
    """Hold an exclusive advisory lock on `lock_path` for the block; if another process holds
    it, raise a UserError saying `what` {busy} another run."""
    lock_path = Path(lock_path)
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create the directory {lock_path.parent} ({e.strerror})") from None
    fd = _try_lock(lock_path)
    if fd is None:
        raise UserError(f"{what} {busy} another run{_holder(lock_path)} "
                        f"(lock {lock_path}); wait for it to finish, or write elsewhere")
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock_path)
        os.close(fd)


def output_lock_path(path: str | os.PathLike) -> Path:
    """The lock file guarding one output file: hidden, beside it."""
    path = Path(path)
    return path.with_name(f".{path.name}.lock")


def output_lock(path: str | os.PathLike, what: str = "", busy: str = "is being written by") -> contextlib.AbstractContextManager:
    """Lock guarding the file `path` (see `exclusive_lock`)."""
    return exclusive_lock(output_lock_path(path), what or str(path), busy)


def is_locked(lock_path: str | os.PathLike) -> bool:
    """Whether a live process holds `lock_path` (a dead holder's lock is free)."""
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False
