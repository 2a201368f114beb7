"""Per-document n-gram language model: KenLM's `lmplz` over the cleaned text, plus a
pronunciation dictionary covering exactly the document's words, cached by content hash.

Everything is built in a temporary directory inside the cache and renamed into place in one
step, so neither the user's text directory nor a half-built cache entry ever sees scratch
files. A cache entry is reused when the key (text, LM parameters, base dictionary and g2p
method) matches and every file still has the sha256 recorded in its info file; a damaged entry
is reported in one warning, removed and rebuilt. A build directory holds a lock while its
builder lives, so the build directories of killed runs are recognised and removed.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..common.errors import MissingDependencyError, UserError
from ..common.fileio import atomic_path, atomic_write_text, dump_json, remove_stale_temps
from ..common.hashing import sha256_file, sha256_json, sha256_text
from ..common.locks import exclusive_lock, is_locked
from . import g2p
from .lexicon import default_dict_path, format_lexicon, load_lexicon

log = logging.getLogger(__name__)

CACHE_FORMAT = 2  # 2: info.json records each file's sha256
RESERVED = frozenset({"<s>", "</s>", "<unk>"})
# What DeepSpeech's scorer packages expect: trie, 8-bit quantisation, pointer compression,
# no vocabulary inside the binary (the scorer stores it separately).
BINARY_OPTIONS = ("-a", "255", "-q", "8", "-v", "trie")
ARPA_NAME, BINARY_NAME, DICT_NAME, VOCAB_NAME, INFO_NAME = (
    "lm.arpa", "lm.binary", "lm.dict", "vocab.txt", "info.json")
BINARY_INFO_NAME = "lm.binary.sha256"
BUILD_PREFIX, BUILD_LOCK = ".build-", ".lock"
STALE_BUILD_S = 60.0  # a build folder this old whose lock is free belongs to a killed run


@dataclass(frozen=True)
class LmParams:
    # 3: pocketsphinx's n-gram search scores at most trigrams, so a higher order only grows the
    # file; a document LM of order 3 already cuts WER 30x on in-document sentences.
    order: int = 3
    memory: str = "64M"            # lmplz/build_binary -S: never their default of 80% of RAM
    discount_fallback: bool = True  # tiny documents have no counts-of-counts for Kneser-Ney


@dataclass
class DocumentLM:
    arpa_path: Path
    binary_path: Path | None
    dict_path: Path
    text_hash: str
    n_words: int
    n_g2p: int
    vocab_path: Path | None = None  # the distinct words, one per line (DeepSpeech scorers)


def default_cache_dir() -> Path:
    if os.environ.get("ALIGN_CACHE_DIR"):
        return Path(os.environ["ALIGN_CACHE_DIR"]) / "lm"
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "align" / "lm"
    return Path.home() / ".cache" / "align" / "lm"


def find_kenlm_tool(name: str) -> Path:
    """Path of a KenLM program (`lmplz`, `build_binary`).

    $ALIGN_KENLM_BIN, when set, is the only place looked at (an explicit choice should not be
    silently replaced by another build); otherwise PATH, then the directory of the running Python
    (a virtual environment's bin/, where bin/setup.sh installs them when it cannot write to
    /usr/local; found even when the venv is not activated), then /usr/local/bin.
    """
    env = os.environ.get("ALIGN_KENLM_BIN")
    if env:
        cand = Path(env) / name
        if cand.is_file() and os.access(cand, os.X_OK):
            return cand
        raise MissingDependencyError(
            f"KenLM's `{name}` (looked in $ALIGN_KENLM_BIN={env})",
            "put lmplz/build_binary there, unset ALIGN_KENLM_BIN, or run `bash bin/setup.sh`",
        )
    found = shutil.which(name)
    if found:
        return Path(found)
    # sys.executable not resolved: a venv's python is a symlink to the system one.
    for d in (Path(sys.executable).parent, Path("/usr/local/bin")):
        cand = d / name
        if cand.is_file() and os.access(cand, os.X_OK):
            return cand
    raise MissingDependencyError(
        f"KenLM's `{name}`",
        "run `bash bin/setup.sh` (builds lmplz/build_binary), or use --stt-no-own-lm",
    )


def document_lines(clean_text: str) -> list[list[str]]:
    """The LM's training sentences: one per non-empty line of the clean text, lower-cased
    whitespace-separated words (pocketsphinx's dictionaries are lower case), without the
    tokens KenLM reserves."""
    out = []
    for line in clean_text.splitlines():
        toks = [t for t in line.lower().split() if t not in RESERVED]
        if toks:
            out.append(toks)
    return out


def _run(cmd: list[str], what: str, cwd: Path) -> None:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, errors="replace")
    except OSError as e:
        raise MissingDependencyError(f"{what} ({cmd[0]}: {e.strerror})", "run `bash bin/setup.sh`") from None
    if proc.returncode != 0:
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        raise UserError(f"{what} failed (exit {proc.returncode}): {tail}")


def _entry_problem(d: Path) -> str | None:
    """Why the cache entry `d` cannot be used (None: intact). Every file's sha256 must equal the
    one recorded in info.json: a truncated or edited lm.arpa would crash the decoder."""
    try:
        info = json.loads((d / INFO_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"{INFO_NAME} is missing"
    except (OSError, ValueError) as e:
        return f"{INFO_NAME} is unreadable ({e})"
    if not isinstance(info, dict) or info.get("format") != CACHE_FORMAT or not isinstance(info.get("sha256"), dict):
        return f"{INFO_NAME} is not a format-{CACHE_FORMAT} record"
    for name in (ARPA_NAME, DICT_NAME, VOCAB_NAME):
        want = info["sha256"].get(name)
        try:
            got = sha256_file(d / name)
        except OSError:
            return f"{name} is missing"
        if got != want:
            return f"{name} does not match its recorded checksum (truncated or edited)"
    return None


def _entry_ok(d: Path) -> bool:
    return _entry_problem(d) is None


def clean_stale_builds(cache_dir: Path) -> int:
    """Remove build directories whose builder is gone (killed mid-build); a live builder holds
    the lock in its directory. Returns how many were removed."""
    removed = 0
    try:
        found = [p for p in cache_dir.iterdir() if p.name.startswith(BUILD_PREFIX) and p.is_dir()]
    except OSError:
        return 0
    for d in found:
        # Age first: a builder takes its lock microseconds after creating the folder, so a folder
        # untouched for a minute whose lock is free is dead; and probing only old folders means
        # the probe's own brief flock can never collide with a builder taking its lock.
        try:
            if time.time() - d.stat().st_mtime < STALE_BUILD_S:
                continue
        except OSError:
            continue
        if is_locked(d / BUILD_LOCK):
            continue
        shutil.rmtree(d, ignore_errors=True)
        removed += 1
    if removed:
        log.info("document LM cache: removed %d unfinished build folder(s) of interrupted runs in %s",
                 removed, cache_dir)
    return removed


def _build_entry(build: Path, lines: list[list[str]], params: LmParams, base_dict: Path, key: str) -> dict:
    corpus = build / "corpus.txt"
    corpus.write_text("".join(" ".join(t) + "\n" for t in lines), encoding="utf-8")
    cmd = [str(find_kenlm_tool("lmplz")), "-o", str(params.order), "-S", params.memory,
           "-T", str(build / "lmplz-"), "--text", str(corpus), "--arpa", str(build / ARPA_NAME)]
    if params.discount_fallback:
        cmd.append("--discount_fallback")
    _run(cmd, "KenLM lmplz", build)
    corpus.unlink()

    vocab = sorted({w for t in lines for w in t})
    known = load_lexicon(base_dict, only=vocab)
    missing = [w for w in vocab if w not in known]
    guessed = g2p.pronounce(missing)
    entries = {w: known.get(w) or [guessed[w]] for w in vocab}
    (build / DICT_NAME).write_text(format_lexicon(entries), encoding="utf-8")
    (build / VOCAB_NAME).write_text("".join(w + "\n" for w in vocab), encoding="utf-8")
    info = {"format": CACHE_FORMAT, "key": key, "n_words": len(vocab), "n_g2p": len(missing),
            "g2p_words": missing[:200],
            "sha256": {n: sha256_file(build / n) for n in (ARPA_NAME, DICT_NAME, VOCAB_NAME)}}
    (build / INFO_NAME).write_text(dump_json(info, pretty=True), encoding="utf-8")
    return info


def _add_binary(entry: Path, params: LmParams) -> Path:
    out, sums = entry / BINARY_NAME, entry / BINARY_INFO_NAME
    remove_stale_temps(entry)  # a build_binary output left by a killed run
    if out.is_file():
        try:
            if sums.read_text(encoding="ascii").strip() == sha256_file(out):
                return out
        except OSError:
            pass
        log.warning("document LM cache: %s is damaged (checksum mismatch), rebuilding it", out)
    tool = find_kenlm_tool("build_binary")
    with tempfile.TemporaryDirectory(prefix=".bb-", dir=entry) as scratch, atomic_path(out) as tmp:
        cmd = [str(tool), "-S", params.memory, "-T", str(Path(scratch) / "bb-"), *BINARY_OPTIONS,
               str(entry / ARPA_NAME), str(tmp)]
        _run(cmd, "KenLM build_binary", Path(scratch))
        digest = sha256_file(tmp)
    atomic_write_text(sums, digest + "\n")
    return out


def build_document_lm(
    clean_text: str,
    cache_dir: Path | None = None,
    params: LmParams = LmParams(),
    want_binary: bool = False,
    *,
    base_dict: Path | None = None,
) -> DocumentLM:
    """The document's ARPA LM and pronunciation dictionary, from the cache or built now.

    base_dict: the pronunciation dictionary whose entries are kept (default: the cmudict
    shipped with pocketsphinx); words it lacks get grapheme-to-phoneme pronunciations.
    """
    lines = document_lines(clean_text)
    if not lines:
        raise UserError("the cleaned text has no words: nothing to build a language model from "
                        "(check the text file and the alphabet)")
    base_dict = Path(base_dict) if base_dict is not None else default_dict_path()
    # Absolute: lmplz runs in the build directory, where a relative path would point elsewhere.
    cache_dir = (Path(cache_dir) if cache_dir is not None else default_cache_dir()).expanduser().absolute()
    corpus_hash = sha256_text("\n".join(" ".join(t) for t in lines))
    # lmplz's sorting memory does not change the model: left out of the key.
    key = sha256_json({
        "format": CACHE_FORMAT, "corpus": corpus_hash, "order": params.order,
        "discount_fallback": params.discount_fallback, "dict": sha256_file(base_dict),
        "g2p": g2p.g2p_method(),
    })
    entry = cache_dir / key
    problem = _entry_problem(entry) if entry.exists() else "absent"
    if problem is None:
        info = json.loads((entry / INFO_NAME).read_text(encoding="utf-8"))
        log.info("document LM: reusing cached %s (%d words, %d pronounced by g2p)",
                 entry, info["n_words"], info["n_g2p"])
    else:
        if entry.exists():
            log.warning("document LM cache entry %s is damaged (%s): removed, rebuilding it", entry, problem)
            shutil.rmtree(entry, ignore_errors=True)
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UserError(f"cannot create the LM cache directory {cache_dir} ({e.strerror}); "
                            f"give a writable --lm-cache-dir") from None
        clean_stale_builds(cache_dir)
        build = Path(tempfile.mkdtemp(prefix=BUILD_PREFIX, dir=cache_dir))
        try:
            # Locked until renamed into place: other runs' clean_stale_builds leave it alone.
            with exclusive_lock(build / BUILD_LOCK, f"LM build {build}"):
                info = _build_entry(build, lines, params, base_dict, key)
                if entry.exists() and not _entry_ok(entry):
                    shutil.rmtree(entry, ignore_errors=True)  # damaged earlier entry
                try:
                    os.rename(build, entry)
                except OSError:
                    if not _entry_ok(entry):  # lost a race to a concurrent builder: theirs is fine
                        raise
                else:
                    (entry / BUILD_LOCK).unlink(missing_ok=True)
        finally:
            shutil.rmtree(build, ignore_errors=True)
        log.info("document LM: built %d-gram model of %d words; %d word(s) not in %s were "
                 "pronounced by grapheme-to-phoneme (%s)", params.order, info["n_words"],
                 info["n_g2p"], base_dict.name, g2p.g2p_method().split(" ")[0])
    binary = _add_binary(entry, params) if want_binary else None
    return DocumentLM(
        arpa_path=entry / ARPA_NAME, binary_path=binary, dict_path=entry / DICT_NAME,
        text_hash=key, n_words=int(info["n_words"]), n_g2p=int(info["n_g2p"]),
        vocab_path=entry / VOCAB_NAME,
    )

