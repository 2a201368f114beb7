"""Every test (and every CLI it runs) sees an empty Hugging Face cache unless it makes one: the
default speech-to-text engine depends on the models found there (align.stt.registry.choose_engine),
and a developer's own cache must not change what the tests run."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _empty_model_cache(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("HF_HUB_CACHE", str(tmp_path_factory.mktemp("hf-hub-cache")))
    yield
    mp.undo()
