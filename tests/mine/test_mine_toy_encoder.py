"""Toy encoder end to end: numbers written as words in two "languages" embed to the same vector,
so mining must pair every sentence with its translation (after the reference's digits test)."""

import gzip

import numpy as np
import pytest
import yaml

from test_mine_cli import run_cli

EN = "zero one two three four five six seven eight nine".split()
FR = "zéro un deux trois quatre cinq six sept huit neuf".split()
DIGITS = 4


def encode(sentence: str, vocab: list[str]) -> np.ndarray:
    """Digit words -> one-hot per digit position (DIGITS x 10) -> unit vector. Language-blind."""
    v = np.zeros((DIGITS, 10), np.float32)
    words = sentence.split()
    for pos, w in enumerate(words[-DIGITS:][::-1]):
        v[pos, vocab.index(w)] = 1.0
    v = v.ravel()
    return v / np.linalg.norm(v)


def words(n: int, vocab: list[str]) -> str:
    return " ".join(vocab[int(d)] for d in f"{n:0{DIGITS}d}")


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_numbers_in_two_languages(tmp_path, dtype):
    rng = np.random.default_rng(0)
    numbers = rng.choice(10**DIGITS, size=1000, replace=False)
    en = [words(int(n), EN) for n in numbers]
    fr_numbers = rng.permutation(numbers)
    fr = [words(int(n), FR) for n in fr_numbers]
    d = tmp_path / "data"
    d.mkdir()
    for lang, sents, vocab, shards in (("en", en, EN, 1), ("fr", fr, FR, 3)):
        for i, part in enumerate(np.array_split(np.arange(len(sents)), shards)):
            np.save(d / f"{lang}.{i:03d}.npy", np.stack([encode(sents[j], vocab) for j in part]).astype(dtype))
            (d / f"{lang}.{i:03d}.txt").write_text("".join(sents[j] + "\n" for j in part), encoding="utf-8")
    cfg = {
        "data_dir": str(d), "src_lang": "en", "tgt_lang": "fr", "output_dir": str(tmp_path / "out"),
        "lang_configs": {lang: {"existing_embedding_glob": f"${{data_dir}}/{lang}.[0-9][0-9][0-9].npy",
                                "meta_glob": f"${{data_dir}}/{lang}.[0-9][0-9][0-9].txt"} for lang in ("en", "fr")},
    }
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(cfg))
    p = run_cli("--config", str(tmp_path / "run.yaml"), "--no-progress")
    assert p.returncode == 0, p.stderr
    with gzip.open(tmp_path / "out" / "pairs.tsv.gz", "rt", encoding="utf-8") as f:
        header = f.readline()
        rows = [line.rstrip("\n").split("\t") for line in f]
    assert header.startswith("score\tmargin")
    assert len(rows) == 1000
    en_to_num = {s: n for s, n in zip(en, numbers)}
    fr_to_num = {s: n for s, n in zip(fr, fr_numbers)}
    for score, margin, aux, src_row, tgt_row, src_meta, tgt_meta, direction in rows:
        assert en_to_num[src_meta] == fr_to_num[tgt_meta]
        assert en[int(src_row)] == src_meta and fr[int(tgt_row)] == tgt_meta
        assert aux == "" and score == margin and float(margin) > 1.06
        assert direction == "both"
