"""Shard jobs of `mine segment` / `mine embed`: resume per shard, workers, a summary of failures.

Each job writes one output shard (atomically) and, when it finished without a failed item, a
sidecar `<output>.done.json` holding the job's key (a hash of its inputs' identities and the
parameters) and the row count. A rerun skips a job whose output and sidecar exist, whose key
matches and whose output still has that many rows; anything else (missing, changed inputs or
options, a damaged file: WARNING) is redone. A job with failed items writes its output (the
failed rows are marked, see the callers) but no sidecar, so a rerun retries it.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from ..common.fileio import atomic_write_json
from ..common.progress import progress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShardJob:
    number: int                 # shard number NNN
    output: str                 # the shard file this job writes
    key: str                    # hash of the inputs' identities and the parameters
    payload: Any = None         # what the worker needs (picklable)


@dataclass
class JobResult:
    number: int
    rows: int
    failures: list[str] = field(default_factory=list)   # one line per failed item
    stats: dict = field(default_factory=dict)


@dataclass
class RunSummary:
    done: int = 0
    skipped: int = 0
    rows: int = 0
    failures: list[str] = field(default_factory=list)
    stats: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures


def sidecar(output: str | os.PathLike) -> Path:
    return Path(f"{output}.done.json")


def is_done(job: ShardJob, count_rows: Callable[[str], Optional[int]]) -> bool:
    """True when a previous run finished this job with the same key and its output is intact."""
    side = sidecar(job.output)
    if not side.exists() or not os.path.exists(job.output):
        return False
    try:
        info = json.loads(side.read_text(encoding="utf-8"))
        want_key, want_rows = info["key"], int(info["rows"])
    except (OSError, ValueError, KeyError, TypeError):
        log.warning("%s: damaged resume record; redoing the shard", side)
        return False
    if want_key != job.key:
        return False
    rows = count_rows(job.output)
    if rows != want_rows:
        log.warning("%s: has %s rows but its record says %d (damaged?); redoing the shard", job.output, rows,
                    want_rows)
        return False
    return True


def mark_done(job: ShardJob, rows: int) -> None:
    atomic_write_json(sidecar(job.output), {"key": job.key, "rows": rows})


def run_jobs(jobs: Sequence[ShardJob], fn: Callable[[ShardJob], JobResult], *, workers: int = 1,
             count_rows: Callable[[str], Optional[int]], show_progress: bool = True, desc: str = "shards",
             force: bool = False, executor: str = "process", ray_address: Optional[str] = None) -> RunSummary:
    """Run `fn` for every job not already done, on the executor shared with `align`
    (align.common.executors: serial, a spawn process pool, or Ray actors); `workers` 1 with the
    process executor runs in this process.

    `fn` must be a module-level function (it is pickled to the workers). A job that raises, or
    whose worker dies, is reported as a failure of its shard (no record: a rerun retries it).
    Results are collected in shard order for the summary, whatever the completion order.
    """
    from ..common.executors import make_executor

    summary = RunSummary()
    todo = []
    for job in jobs:
        if not force and is_done(job, count_rows):
            summary.skipped += 1
            info = json.loads(sidecar(job.output).read_text(encoding="utf-8"))
            summary.rows += int(info["rows"])
        else:
            sidecar(job.output).unlink(missing_ok=True)
            todo.append(job)
    if summary.skipped:
        log.info("%d of %d %s already done (resume); %d to do", summary.skipped, len(jobs), desc, len(todo))
    results: dict[int, JobResult] = {}
    bar = progress(total=len(todo), enabled=show_progress, desc=desc, unit="shard")
    kind = "serial" if executor == "process" and (workers <= 1 or len(todo) <= 1) else executor
    with make_executor(kind, workers, ray_address) as ex:
        for r in ex.imap_unordered(fn, todo):
            job = todo[r.index]
            res = r.value if r.ok else JobResult(job.number, 0, [f"{job.output}: the job failed ({r.error})"])
            results[job.number] = res
            if r.ok and not res.failures:
                mark_done(job, res.rows)
            bar.update(1)
    bar.close()
    for n in sorted(results):
        res = results[n]
        summary.done += 1
        summary.rows += res.rows
        summary.failures.extend(res.failures)
        for k, v in res.stats.items():
            summary.stats[k] = summary.stats.get(k, 0) + v
    return summary


def warn_stale(pattern: str, expected: Sequence[str]) -> list[str]:
    """Files matching `pattern` that this run did not produce (e.g. shards of an earlier run with
    more inputs): a glob in the mine config would pick them up, so say so."""
    import glob as globmod

    want = {os.path.abspath(p) for p in expected}
    stale = sorted(p for p in globmod.glob(pattern) if os.path.abspath(p) not in want)
    for p in stale:
        log.warning("%s: not written by this run (left from an earlier one?); a glob over these shards would "
                    "include it: delete it", p)
    return stale
