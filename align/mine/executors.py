"""Scale-out of the kNN step: one Ray task per query shard (ray is an optional extra)."""

from __future__ import annotations

import logging
from typing import Callable, Optional, Sequence

from ..common.errors import MissingDependencyError
from ..common.progress import progress

log = logging.getLogger(__name__)


def _ray():
    try:
        import ray
    except ImportError:
        raise MissingDependencyError("--executor ray", "pip install 'ray>=2.9' (or pip install -e .[ray])") from None
    return ray


def run_ray(jobs: Sequence, *, show_progress: bool = True, label: str = "",
            on_done: Optional[Callable[[int], None]] = None) -> None:
    """Run `knn.run_job` for each job as a Ray task; each task loads the cached index itself and
    writes its shard's checkpoint, so finished shards survive a failure of the others.

    Uses the running Ray cluster if there is one (`ray.init(address="auto")` semantics via
    RAY_ADDRESS), otherwise starts a local one for the duration of the call.
    """
    ray = _ray()
    from .knn import run_job

    started = False
    if not ray.is_initialized():
        ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
        started = True
    try:
        task = ray.remote(run_job)
        pending = {task.remote(job): i for i, job in enumerate(jobs)}
        bar = progress(total=len(jobs), enabled=show_progress, desc=f"kNN {label} (ray)", unit="shards")
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                i = pending.pop(ref)
                ray.get(ref)  # re-raises a task's exception here
                bar.update(1)
                if on_done is not None:
                    on_done(i)
        bar.close()
    finally:
        if started:
            ray.shutdown()
