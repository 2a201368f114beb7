"""DeferredProgress: no bar (and no tqdm) for short steps, a bar that carries the count after."""

import io
import sys

from align.common.progress import DeferredProgress


def test_short_step_draws_nothing(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with DeferredProgress(delay=60.0, desc="align", unit="search") as bar:
        for _ in range(500):
            bar.update(1)
    assert bar.n == 500 and bar._bar is None
    assert err.getvalue() == ""


def test_long_step_gets_a_bar_with_the_count_so_far(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with DeferredProgress(delay=0.0, desc="align", unit="search") as bar:
        bar.update(3)
        bar.update(2)
        assert bar._bar is not None and bar._bar.n == 5
    assert "align" in err.getvalue()


def test_disabled_never_draws(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with DeferredProgress(enabled=False, delay=0.0) as bar:
        bar.update(7)
    assert bar._bar is None and err.getvalue() == ""
