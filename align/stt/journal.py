"""Append-only journal of finished speech-to-text batches, so an interrupted run resumes.

The journal lives beside the `.tlog` (`NAME.tlog.journal`). Its first line records what the
transcripts depend on, exactly like the `.tlog` cache key (the producer: audio hash, VAD, engine,
LM) plus the fragment times and the batch size; every further line is one finished batch:
`{"start", "times", "texts", "sum"}` with a checksum over the rest of the line. A rerun with
the same key reuses every intact batch and decodes only the others; a line torn by a kill, a
damaged line or a journal made by other settings is ignored (with a message), never trusted.
Once the `.tlog` is written (atomically) the journal is removed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any, Sequence

log = logging.getLogger(__name__)

JOURNAL_FORMAT = "align-stt-journal"
JOURNAL_VERSION = 1
FSYNC_EVERY_S = 1.0   # flush to the OS after every batch, to the disk at most this often


def journal_path(tlog_path: str | os.PathLike) -> Path:
    p = Path(tlog_path)
    return p.with_name(p.name + ".journal")


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


class SttJournal:
    def __init__(self, path: str | os.PathLike, producer: dict, times: Sequence[tuple[float, float]], batch: int):
        self.path = Path(path)
        self.times = [[float(s), float(e)] for s, e in times]
        self.batch = max(1, int(batch))
        self.header = {"format": JOURNAL_FORMAT, "version": JOURNAL_VERSION, "producer": _digest(producer),
                       "fragments": _digest(self.times), "batch": self.batch}
        self._file = None
        self._synced = 0.0

    def load(self) -> dict[int, list[str]]:
        """Intact batches of an earlier run with the same key: batch start -> transcripts."""
        if not self.path.exists():
            return {}
        try:
            lines = self.path.read_bytes().split(b"\n")
        except OSError as e:
            log.warning("STT journal %s is not readable, starting over (%s)", self.path, e)
            return {}
        try:
            header = json.loads(lines[0])
        except (ValueError, UnicodeDecodeError):
            header = None
        if header != self.header:
            log.info("STT journal %s was made by other audio, VAD or engine settings: not reused", self.path)
            return {}
        done: dict[int, list[str]] = {}
        bad = 0
        for k, raw in enumerate(lines[1:], start=2):
            if not raw.strip():
                continue
            rec = self._parse(raw)
            if rec is None:
                bad += 1
                continue
            done[rec[0]] = rec[1]
        if bad:
            log.warning("STT journal %s: %d damaged or torn line(s) ignored (those fragments are decoded again)",
                        self.path, bad)
        return done

    def _parse(self, raw: bytes):
        try:
            rec = json.loads(raw)
            start, times, texts, check = rec["start"], rec["times"], rec["texts"], rec["sum"]
        except (ValueError, UnicodeDecodeError, TypeError, KeyError):
            return None
        if check != _digest([start, times, texts]) or not isinstance(start, int) or start % self.batch:
            return None
        end = min(len(self.times), start + self.batch)
        if not 0 <= start < end or times != self.times[start:end] or not isinstance(texts, list) \
                or len(texts) != end - start or not all(isinstance(t, str) for t in texts):
            return None
        return start, texts

    def open(self, done: dict[int, list[str]]) -> None:
        """Start appending; the journal is first rewritten with the header and the kept batches."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(json.dumps(self.header, sort_keys=True) + "\n")
                for start in sorted(done):
                    f.write(self._line(start, done[start]))
            os.replace(tmp, self.path)
            self._file = open(self.path, "a", encoding="utf-8")
        except OSError as e:
            log.warning("cannot write the STT journal %s (%s); an interrupted run will start over", self.path, e)
            tmp.unlink(missing_ok=True)

    def _line(self, start: int, texts: list[str]) -> str:
        times = self.times[start:start + len(texts)]
        return json.dumps({"start": start, "times": times, "texts": texts, "sum": _digest([start, times, texts])},
                          ensure_ascii=False) + "\n"

    def append(self, start: int, texts: list[str]) -> None:
        if self._file is None:
            return
        try:
            self._file.write(self._line(start, list(texts)))
            self._file.flush()
            now = time.monotonic()
            if now - self._synced >= FSYNC_EVERY_S:
                os.fsync(self._file.fileno())
                self._synced = now
        except OSError as e:
            # The journal only saves work after a kill: without it the run goes on.
            log.warning("cannot write the STT journal %s (%s); continuing without it", self.path, e)
            self.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def remove(self) -> None:
        self.close()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
