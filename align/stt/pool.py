"""Transcribing many fragments, in this process or in spawned worker processes.

Workers use the "spawn" start method (safe with threads and on every OS; no state inherited by
fork) and load the engine once each in the pool initializer. A failure on one fragment is
logged and yields an empty transcript; a failure to load the engine stops the run.

Workers die with their parent: on Linux each asks the kernel for SIGKILL when its parent goes
(prctl PR_SET_PDEATHSIG), so a `kill -9` of `align` does not leave workers decoding for minutes;
with the workers gone, multiprocessing's resource tracker sees its pipe close and exits too.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Mapping, Optional, Sequence

import numpy as np

from ..audio.records import Fragment
from ..common.errors import UserError
from ..common.procs import die_with_parent
from ..common.progress import progress
from .registry import EngineSpec, load_engine

log = logging.getLogger(__name__)

# Per worker process only: the engine its initializer loaded (or why loading failed). The
# parent process never sets it.
_WORKER: dict = {}


def _init_worker(spec: EngineSpec, parent_pid: int | None = None) -> None:
    if parent_pid is not None:
        die_with_parent(parent_pid)
    try:
        _WORKER["engine"] = load_engine(spec)
    except BaseException as e:  # reported with the first task, as one clear message
        _WORKER["error"] = (isinstance(e, UserError), f"{type(e).__name__}: {e}" if not isinstance(e, UserError) else str(e))


def _worker_task(batch: list[np.ndarray]) -> tuple[list[str], list[str | None], tuple | None]:
    """(transcripts, errors per fragment, error loading the engine)."""
    if "error" in _WORKER:
        return [], [], _WORKER["error"]
    return _safe_transcribe(_WORKER["engine"], batch) + (None,)


def _safe_transcribe(engine, batch: list[np.ndarray]) -> tuple[list[str], list[str | None]]:
    try:
        return list(engine.transcribe_batch(batch)), [None] * len(batch)
    except Exception:
        if len(batch) == 1:
            pass
        else:
            # find the fragment that fails: the others keep their transcripts
            texts, errs = [], []
            for x in batch:
                t, e = _safe_transcribe(engine, [x])
                texts += t
                errs += e
            return texts, errs
    try:
        return [engine.transcribe(batch[0])], [None]
    except Exception as e:  # one bad fragment must not cost the whole file's transcripts
        return [""], [f"{type(e).__name__}: {e}"]


def batches(n: int, size: int) -> list[tuple[int, int]]:
    """Fixed [start, end) chunks of the fragment list: the same for every run, so a resumed run
    decodes exactly the batches an uninterrupted one would (batched decoders can depend on what
    shares a batch) and the journal records whole batches."""
    size = max(1, int(size))
    return [(i, min(n, i + size)) for i in range(0, n, size)]


def transcribe_fragments(
    fragments: Sequence[Fragment], spec: EngineSpec, workers: int = 1, show_progress: bool = True,
    done: Optional[Mapping[int, list[str]]] = None,
    on_batch: Optional[Callable[[int, list[str]], None]] = None,
) -> list[str]:
    """Transcripts of `fragments`, in their order.

    `done` maps the start index of a batch (see `batches`) to transcripts already known (from a
    journal): those batches are not decoded again. `on_batch(start, texts)` is called in the
    parent process as each newly decoded batch completes, in order.
    """
    if workers < 1:
        raise UserError(f"--stt-workers must be at least 1, got {workers}")
    n = len(fragments)
    if n == 0:
        return []
    done = dict(done or {})
    chunks = batches(n, spec.batch)
    todo = [(a, b) for a, b in chunks if a not in done]
    workers = max(1, min(workers, len(todo)))
    initial = sum(b - a for a, b in chunks if a in done)
    bar = progress(total=n, enabled=show_progress, desc="STT", unit="fragment", initial=initial)
    result: dict[int, list[str]] = {a: list(done[a]) for a, _ in chunks if a in done}
    failed = 0

    def record(a: int, texts: list[str], errs: list[str | None]) -> None:
        nonlocal failed
        for k, err in enumerate(errs):
            if err is not None:
                failed += 1
                f = fragments[a + k]
                log.warning("STT failed on fragment %d (%.0f-%.0f ms), kept as an empty transcript: %s",
                            a + k, f.start_ms, f.end_ms, err)
        result[a] = texts
        if on_batch is not None:
            on_batch(a, texts)
        bar.update(len(texts))

    try:
        if not todo:
            pass
        elif workers == 1:
            engine = load_engine(spec)
            for a, b in todo:
                record(a, *_safe_transcribe(engine, [f.samples for f in fragments[a:b]]))
        else:
            # ProcessPoolExecutor rather than multiprocessing.Pool: a worker that dies (killed,
            # crashed, unimportable __main__) raises BrokenProcessPool instead of hanging.
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                     initargs=(spec, os.getpid())) as ex:
                # longest batches first (fragments last 1-20 s: a long one handed out last leaves the
                # other workers idle at the end); results are still taken, and journaled, in order
                def size(k):
                    return sum(len(f.samples) for f in fragments[todo[k][0]:todo[k][1]])

                futures = {k: ex.submit(_worker_task, [f.samples for f in fragments[todo[k][0]:todo[k][1]]])
                           for k in sorted(range(len(todo)), key=lambda k: (-size(k), k))}
                results = (futures[k].result() for k in range(len(todo)))
                try:
                    for (a, _b), (texts, errs, load_err) in zip(todo, results):
                        if load_err is not None:
                            is_user, msg = load_err
                            raise UserError(msg) if is_user else RuntimeError(
                                f"the {spec.engine} engine failed to load in a worker process: {msg}")
                        record(a, texts, errs)
                except BaseException:
                    ex.shutdown(wait=True, cancel_futures=True)
                    raise
    finally:
        bar.close()
    if failed:
        log.warning("STT failed on %d of %d fragments (empty transcripts kept; see warnings above)", failed, n)
    return [t for a, _ in chunks for t in result[a]]
