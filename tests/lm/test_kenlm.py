"""Per-document LM: real lmplz builds, vocabulary and dictionary coverage, cache reuse and invalidation."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from align.common.errors import MissingDependencyError, UserError
from align.lm import kenlm
from align.lm.kenlm import LmParams, build_document_lm, find_kenlm_tool
from align.lm.lexicon import default_dict_path
from tests.speechgen import GPL3, words

RESERVED = {"<s>", "</s>", "<unk>"}


def _tool_or_skip(name: str) -> Path:
    try:
        return find_kenlm_tool(name)
    except MissingDependencyError as e:
        pytest.skip(f"{e} (bin/setup.sh builds it)")


def arpa_unigrams(path: Path) -> list[str]:
    """Independent reading of an ARPA file's 1-gram section (the test's oracle)."""
    text = path.read_text(encoding="utf-8")
    counts = dict(re.findall(r"^ngram (\d+)=(\d+)$", text, flags=re.M))
    body = text.split("\\1-grams:\n", 1)[1].split("\n\\", 1)[0]
    uni = [line.split("\t")[1] for line in body.splitlines() if line.strip()]
    assert len(uni) == int(counts["1"])
    return uni


def dict_words(path: Path) -> set[str]:
    return {re.sub(r"\(\d+\)$", "", line.split()[0]) for line in path.read_text(encoding="utf-8").splitlines() if line}


def cmudict_words() -> set[str]:
    with open(default_dict_path(), encoding="utf-8") as fh:
        return {re.sub(r"\(\d+\)$", "", line.split()[0]) for line in fh if line.strip()}


@pytest.fixture
def counting_tools(tmp_path, monkeypatch):
    """ALIGN_KENLM_BIN pointing at wrappers that log each call and run the real tools."""
    real = {n: _tool_or_skip(n) for n in ("lmplz", "build_binary")}
    bindir = tmp_path / "kenlm-bin"
    bindir.mkdir()
    log = tmp_path / "calls.log"
    for name, path in real.items():
        w = bindir / name
        w.write_text(f'#!/bin/sh\necho {name} >> "{log}"\nexec "{path}" "$@"\n')
        w.chmod(w.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("ALIGN_KENLM_BIN", str(bindir))
    return lambda: log.read_text().split() if log.exists() else []


def test_tiny_document_builds_with_discount_fallback(tmp_path):
    _tool_or_skip("lmplz")
    lm = build_document_lm("hello world hello", cache_dir=tmp_path)
    assert set(arpa_unigrams(lm.arpa_path)) - RESERVED == {"hello", "world"}
    assert dict_words(lm.dict_path) == {"hello", "world"}
    assert lm.n_words == 2 and lm.n_g2p == 0
    assert lm.binary_path is None


def test_tiny_document_fails_without_discount_fallback(tmp_path):
    # Shows why the fallback is on by default: Kneser-Ney discounts need counts-of-counts.
    _tool_or_skip("lmplz")
    with pytest.raises(UserError, match="lmplz failed"):
        build_document_lm("hello world hello", cache_dir=tmp_path, params=LmParams(discount_fallback=False))


def test_gpl3_vocabulary_and_dictionary(tmp_path):
    _tool_or_skip("lmplz")
    clean = " ".join(words(GPL3.read_text(encoding="utf-8")))
    vocab = set(clean.split())
    lm = build_document_lm(clean, cache_dir=tmp_path)
    assert set(arpa_unigrams(lm.arpa_path)) - RESERVED == vocab
    assert dict_words(lm.dict_path) == vocab
    assert lm.n_words == len(vocab)
    assert lm.n_g2p == len(vocab - cmudict_words())
    assert lm.n_g2p > 10  # GPL-3 has words cmudict lacks (gpl, affero, sublicensing, ...)
    body = lm.arpa_path.read_text()
    assert "ngram 3=" in body and "ngram 4=" not in body  # order 3 by default


def test_lines_are_sentences_and_case_is_folded(tmp_path):
    _tool_or_skip("lmplz")
    lm = build_document_lm("One Two three\n\nfour five\n", cache_dir=tmp_path)
    assert set(arpa_unigrams(lm.arpa_path)) - RESERVED == {"one", "two", "three", "four", "five"}
    bigrams = lm.arpa_path.read_text().split("\\2-grams:\n", 1)[1].split("\n\\", 1)[0]
    pairs = {tuple(line.split("\t")[1].split()) for line in bigrams.splitlines() if line.strip()}
    assert ("<s>", "four") in pairs and ("three", "</s>") in pairs and ("three", "four") not in pairs


def test_build_is_deterministic(tmp_path):
    _tool_or_skip("lmplz")
    text = "the cat sat on the mat and the dog sat on the log"
    a = build_document_lm(text, cache_dir=tmp_path / "a")
    b = build_document_lm(text, cache_dir=tmp_path / "b")
    assert a.text_hash == b.text_hash
    assert a.arpa_path.read_bytes() == b.arpa_path.read_bytes()
    assert a.dict_path.read_bytes() == b.dict_path.read_bytes()


def test_cache_reuse_and_invalidation(tmp_path, counting_tools):
    calls = counting_tools
    text = "free software is a matter of liberty not price"
    a = build_document_lm(text, cache_dir=tmp_path / "c")
    assert calls() == ["lmplz"]
    a2 = build_document_lm(text, cache_dir=tmp_path / "c")
    assert calls() == ["lmplz"]  # reused: lmplz not run again
    assert a2 == a
    b = build_document_lm(text + " sublicensing", cache_dir=tmp_path / "c")
    assert calls() == ["lmplz", "lmplz"] and b.text_hash != a.text_hash
    c = build_document_lm(text, cache_dir=tmp_path / "c", params=LmParams(order=2))
    assert len(calls()) == 3 and c.text_hash not in (a.text_hash, b.text_hash)
    # Nothing but finished entries in the cache: the scratch build directories are gone.
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == sorted({a.text_hash, b.text_hash, c.text_hash})


def test_damaged_cache_entry_is_rebuilt(tmp_path, counting_tools):
    calls = counting_tools
    text = "we hold these truths to be self evident"
    lm = build_document_lm(text, cache_dir=tmp_path)
    lm.arpa_path.write_bytes(b"")  # truncated by a crash or a user
    lm2 = build_document_lm(text, cache_dir=tmp_path)
    assert calls() == ["lmplz", "lmplz"]
    assert set(arpa_unigrams(lm2.arpa_path)) - RESERVED == set(text.split())


def test_binary_built_once_on_demand(tmp_path, counting_tools):
    calls = counting_tools
    text = "please call me back when you have a moment"
    lm = build_document_lm(text, cache_dir=tmp_path, want_binary=True)
    assert lm.binary_path is not None and lm.binary_path.read_bytes().startswith(b"mmap lm ")  # KenLM binary magic
    build_document_lm(text, cache_dir=tmp_path, want_binary=True)
    assert calls() == ["lmplz", "build_binary"]
    assert sorted(lm.vocab_path.read_text().split()) == sorted(set(text.split()))


def test_empty_text_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no words"):
        build_document_lm("  \n ", cache_dir=tmp_path)


def test_missing_lmplz_names_setup_script(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("ALIGN_KENLM_BIN", str(empty))
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(MissingDependencyError, match="bin/setup.sh") as e:
        build_document_lm("some words here", cache_dir=tmp_path / "cache")
    assert "lmplz" in str(e.value)
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_tool_lookup_order(tmp_path, monkeypatch):
    monkeypatch.delenv("ALIGN_KENLM_BIN", raising=False)
    onpath = tmp_path / "onpath"
    onpath.mkdir()
    fake = onpath / "lmplz"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(onpath))
    assert find_kenlm_tool("lmplz") == fake
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    if (Path("/usr/local/bin") / "lmplz").is_file():
        assert find_kenlm_tool("lmplz") == Path("/usr/local/bin/lmplz")
    else:
        with pytest.raises(MissingDependencyError):
            find_kenlm_tool("lmplz")


def test_default_cache_dir_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ALIGN_CACHE_DIR", str(tmp_path / "a"))
    assert kenlm.default_cache_dir() == tmp_path / "a" / "lm"
    monkeypatch.delenv("ALIGN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert kenlm.default_cache_dir() == tmp_path / "x" / "align" / "lm"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    assert kenlm.default_cache_dir() == tmp_path / "h" / ".cache" / "align" / "lm"
