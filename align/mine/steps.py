"""Wall time and peak resident memory of each pipeline step (for summary.json and the benchmarks)."""

from __future__ import annotations

import contextlib
import os
import resource
import threading
import time
from typing import Iterator


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class StepMeter:
    """`with meter.step("knn"):` records seconds and the peak RSS seen while the step ran
    (sampled every 20 ms by a daemon thread, so short peaks inside C code are seen too)."""

    def __init__(self) -> None:
        self.steps: dict[str, dict] = {}

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        peak = [rss_bytes()]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.02):
                peak[0] = max(peak[0], rss_bytes())

        t = threading.Thread(target=sample, daemon=True)
        t.start()
        t0 = time.perf_counter()
        try:
            yield
        finally:
            stop.set()
            t.join()
            peak[0] = max(peak[0], rss_bytes())
            prev = self.steps.get(name, {"seconds": 0.0, "peak_rss_mb": 0.0})
            self.steps[name] = {
                "seconds": round(prev["seconds"] + time.perf_counter() - t0, 3),
                "peak_rss_mb": round(max(prev["peak_rss_mb"], peak[0] / 2**20), 1),
            }
