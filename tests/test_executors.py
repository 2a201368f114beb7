"""The shared executors: results, per-item failures, a worker that dies, spawn, Ray (slow)."""

import os
import signal

import pytest

from align.common.executors import DIED, ProcessExecutor, SerialExecutor, collect

# Set in the parent by a test; a spawned worker imports this module afresh and sees the default.
PARENT_STATE = {"value": "default"}
_LOADED = {}


def square(x):
    if x == 3:
        raise ValueError("three is bad")
    return x * x


def die_on_two(x):
    if x == 2:
        os.kill(os.getpid(), signal.SIGKILL)  # a worker killed mid-item (OOM killer, segfault)
    return x + 100


def seen_state(_):
    return PARENT_STATE["value"], os.getpid()


def setup_once(tag):
    _LOADED["count"] = _LOADED.get("count", 0) + 1
    _LOADED["tag"] = tag


def loaded(_):
    return _LOADED["tag"], _LOADED["count"], os.getpid()


@pytest.mark.parametrize("make", [SerialExecutor, lambda: ProcessExecutor(2)])
def test_results_and_per_item_errors(make):
    with make() as ex:
        res = collect(ex.imap_unordered(square, list(range(6))), 6)
    assert [r.index for r in res] == list(range(6))
    assert [r.value for r in res if r.ok] == [0, 1, 4, 16, 25]
    assert res[3].error == "ValueError: three is bad"


def test_worker_killed_mid_item_fails_only_that_item():
    with ProcessExecutor(2) as ex:
        res = collect(ex.imap_unordered(die_on_two, list(range(7))), 7)
    assert [r.error for r in res] == [None, None, DIED, None, None, None, None]
    assert [r.value for r in res if r.ok] == [100, 101, 103, 104, 105, 106]


def test_process_pool_spawns_and_runs_setup_once_per_worker(monkeypatch):
    monkeypatch.setitem(PARENT_STATE, "value", "set in the parent")
    with ProcessExecutor(2) as ex:
        res = collect(ex.imap_unordered(seen_state, list(range(4))), 4)
        assert {r.value[0] for r in res} == {"default"}      # spawn: nothing inherited by fork
        assert all(r.value[1] != os.getpid() for r in res)
        res = collect(ex.imap_unordered(loaded, list(range(8)), setup=(setup_once, ("model",))), 8)
    assert {r.value[0] for r in res} == {"model"}
    assert all(r.value[1] == 1 for r in res)                  # loaded once per worker, not per item
    assert len({r.value[2] for r in res}) <= 2
