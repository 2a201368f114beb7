"""Executors shared by `align` (catalog entries) and `mine` (kNN query shards).

One small interface: `executor.imap_unordered(fn, items, setup=None)` yields a `TaskResult` per
item as items finish. `fn` and `setup` are module-level functions (they are pickled to workers);
`setup=(init_fn, args)` runs once in every worker before its first item (load models once per
worker). A task that raises, or whose worker process dies, becomes a `TaskResult` with `error`
set; the other items go on.

- `SerialExecutor`: in this process, one item after the other (debugging; no pickling).
- `ProcessExecutor(workers)`: a pool of "spawn" processes (no state inherited by fork, safe with
  threads). A worker that dies (killed, segfault, out of memory) breaks the pool: the pool is
  restarted, and each item that was in flight is retried alone, so only the item that kills its
  worker again is reported ("worker process died"). Workers die with the parent process
  (`align.common.procs.die_with_parent`): a `kill -9` of the run leaves none behind.
- `RayExecutor(workers, address)`: one Ray actor per worker (setup runs once per actor); address
  None starts a local cluster for the executor's lifetime, "auto" or "ray://..." joins one.
"""

from __future__ import annotations

import abc
import logging
import os
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence

from .errors import MissingDependencyError, UsageError

log = logging.getLogger(__name__)

Setup = Optional[tuple[Callable[..., None], tuple]]
DIED = "worker process died"


@dataclass
class TaskResult:
    index: int                     # position of the item in the input sequence
    value: Any = None
    error: Optional[str] = None    # why the task failed (its exception, or DIED)

    @property
    def ok(self) -> bool:
        return self.error is None


def _describe(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"


class Executor(abc.ABC):
    name = ""
    workers = 1

    @abc.abstractmethod
    def imap_unordered(self, fn: Callable, items: Sequence, setup: Setup = None) -> Iterator[TaskResult]:
        """Run `fn(item)` for every item; yield results as they finish."""

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SerialExecutor(Executor):
    name = "serial"

    def imap_unordered(self, fn, items, setup=None):
        if setup is not None:
            setup[0](*setup[1])
        for i, item in enumerate(items):
            try:
                yield TaskResult(i, fn(item))
            except Exception as e:  # reported per item, like a worker's exception
                log.debug("task %d failed:\n%s", i, traceback.format_exc())
                yield TaskResult(i, error=_describe(e))


# --- process pool ---------------------------------------------------------------------------

def _call(fn, item):
    """Run in a worker: the exception comes back as text (some exceptions do not pickle)."""
    try:
        return True, fn(item)
    except Exception as e:
        return False, _describe(e)


def _init(setup, parent_pid: int) -> None:
    from .procs import die_with_parent

    die_with_parent(parent_pid)  # a kill -9 of the parent must not leave its workers running
    if setup is not None:
        setup[0](*setup[1])


class ProcessExecutor(Executor):
    name = "process"

    def __init__(self, workers: Optional[int] = None):
        self.workers = workers or os.cpu_count() or 1

    def _pool(self, workers: int, setup: Setup):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        ctx = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init, initargs=(setup, os.getpid()))

    def imap_unordered(self, fn, items, setup=None):
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        items = list(items)
        todo = list(range(len(items)))
        suspects: list[int] = []   # in flight when a worker died: retried one at a time
        pool = self._pool(min(self.workers, max(len(items), 1)), setup)
        try:
            running: dict = {}
            while todo or running:
                while todo and len(running) < 2 * self.workers:  # a short queue: Ctrl-C loses little
                    i = todo.pop(0)
                    running[pool.submit(_call, fn, items[i])] = i
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                broken = False
                for fut in done:
                    i = running.pop(fut)
                    try:
                        ok, value = fut.result()
                    except BrokenProcessPool:
                        suspects.append(i)
                        broken = True
                        continue
                    yield TaskResult(i, value) if ok else TaskResult(i, error=value)
                if broken:
                    suspects.extend(running.values())
                    running.clear()
                    pool.shutdown(wait=False, cancel_futures=True)
                    log.warning("a worker process died; retrying the %d item(s) it shared the pool with one by one",
                                len(suspects))
                    yield from self._retry_alone(fn, items, sorted(suspects), setup)
                    suspects.clear()
                    pool = self._pool(min(self.workers, max(len(todo), 1)), setup)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _retry_alone(self, fn, items, indices, setup):
        from concurrent.futures.process import BrokenProcessPool

        for i in indices:
            pool = self._pool(1, setup)
            try:
                ok, value = pool.submit(_call, fn, items[i]).result()
                yield TaskResult(i, value) if ok else TaskResult(i, error=value)
            except BrokenProcessPool:
                yield TaskResult(i, error=DIED)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)


# --- Ray ------------------------------------------------------------------------------------

def _ray():
    try:
        import ray
    except ImportError:
        raise MissingDependencyError("--executor ray", "pip install 'ray>=2.9' (or pip install -e .[ray])") from None
    return ray


class _RayWorker:
    """One Ray actor: runs `setup` once, then items."""

    def __init__(self, setup):
        if setup is not None:
            setup[0](*setup[1])

    def run(self, fn, item):
        return _call(fn, item)


class RayExecutor(Executor):
    name = "ray"

    def __init__(self, workers: Optional[int] = None, address: Optional[str] = None):
        self.workers = workers or os.cpu_count() or 1
        self.address = address
        self._started = False

    def _init(self):
        ray = _ray()
        if not ray.is_initialized():
            kw = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
            if self.address:
                ray.init(address=self.address, **kw)
            else:
                ray.init(num_cpus=self.workers, **kw)
            self._started = True
        return ray

    def imap_unordered(self, fn, items, setup=None):
        ray = self._init()
        from ray.exceptions import RayActorError

        actor_cls = ray.remote(num_cpus=1, max_restarts=0)(_RayWorker)
        items = list(items)
        todo = list(range(len(items)))
        n = min(self.workers, max(len(items), 1))
        idle = [actor_cls.remote(setup) for _ in range(n)]
        running: dict = {}
        try:
            while todo or running:
                while todo and idle:
                    actor = idle.pop()
                    i = todo.pop(0)
                    running[actor.run.remote(fn, items[i])] = (i, actor)
                done, _ = ray.wait(list(running), num_returns=1)
                for ref in done:
                    i, actor = running.pop(ref)
                    try:
                        ok, value = ray.get(ref)
                    except RayActorError:
                        yield TaskResult(i, error=DIED)
                        idle.append(actor_cls.remote(setup))  # replace the dead actor
                        continue
                    idle.append(actor)
                    yield TaskResult(i, value) if ok else TaskResult(i, error=value)
        finally:  # also on Ctrl-C: killing the actors stops the items in flight
            for actor in idle + [a for _, a in running.values()]:
                ray.kill(actor)

    def close(self) -> None:
        if self._started:
            _ray().shutdown()
            self._started = False


def make_executor(kind: str, workers: Optional[int] = None, address: Optional[str] = None) -> Executor:
    """The executor a CLI option names (serial | process | ray): the only place that compares names."""
    if kind == "serial":
        return SerialExecutor()
    if kind == "process":
        return ProcessExecutor(workers)
    if kind == "ray":
        return RayExecutor(workers, address)
    raise UsageError(f"unknown executor {kind!r}: choose serial, process or ray")


def collect(results: Iterable[TaskResult], n: int) -> list[TaskResult]:
    """Results in input order (for callers that need them all)."""
    out: list[Optional[TaskResult]] = [None] * n
    for r in results:
        out[r.index] = r
    return out  # type: ignore[return-value]
