#!/usr/bin/env bash
# Installs everything `align` and `mine` need on Debian 12, from a bare system with only python3:
#   1. Debian packages (root, or sudo): audio tools, speech for tests, KenLM's build chain, python3-venv;
#   2. a virtual environment (default .venv in the repository) with the project installed
#      editable, with its test extra: the system Python is never pip-installed into (PEP 668);
#   3. KenLM's lmplz and build_binary, built from the kenlm sdist that the venv's pip fetches.
# Idempotent: a rerun skips what is already there (a few seconds).
#
# Environment:
#   ALIGN_VENV=DIR      where the virtual environment goes (default: <repo>/.venv)
#   PYTHON=python3      the interpreter the venv is made from
#   KENLM_PREFIX=DIR    where lmplz/build_binary go (default /usr/local as root or with sudo,
#                       else the venv); `align` finds them on PATH, next to its Python, or in
#                       $ALIGN_KENLM_BIN
#   ALIGN_EXTRAS=test   the extras installed into the venv (comma-separated, e.g. test,ray)
set -euo pipefail
export PIP_REQUIRE_VIRTUALENV=1     # any pip call outside the venv fails loudly, here and in CI
export PIP_DISABLE_PIP_VERSION_CHECK=1

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${ALIGN_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
EXTRAS="${ALIGN_EXTRAS:-test}"
say() { echo "bin/setup.sh: $*"; }
die() { echo "bin/setup.sh: error: $*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
fi

# Runtime: audio conversion (ffmpeg), espeak-ng (grapheme-to-phoneme for words cmudict lacks).
# Tests/benchmarks: festival + voices (test speech), sox, real recordings (LibriVox clips and
# prompts in pocketsphinx-testdata, the speaker-test voice in alsa-utils), chromium (the
# review page's browser test), bible-kjv (narrative prose for the messy text benchmark).
# KenLM build chain: cmake, g++, boost (test is needed even with tests off), compression libs.
# python3-venv: Debian splits venv/ensurepip out of python3.
PKGS="python3-venv ffmpeg espeak-ng sox festival festvox-us-slt-hts festvox-kallpc16k festvox-kdlpc16k
      pocketsphinx-testdata alsa-utils bible-kjv chromium cmake g++ make libboost-program-options-dev libboost-system-dev
      libboost-thread-dev libboost-test-dev zlib1g-dev libbz2-dev liblzma-dev"
if command -v dpkg >/dev/null 2>&1; then
    missing=""
    for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
    if [ -n "$missing" ]; then
        if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then
            die "missing Debian packages:$missing; run as root, or install sudo, or install them by hand"
        fi
        say "installing Debian packages:$missing"
        log=$(mktemp)
        { $SUDO apt-get update -qq &&
          DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -o Dpkg::Use-Pty=0 \
              --no-install-recommends $missing; } >"$log" 2>&1 ||
            { tail -30 "$log" >&2; rm -f "$log"; die "apt-get failed (log above)"; }
        rm -f "$log"
    fi
else
    say "not a Debian system: install the packages above by hand ($PKGS)"
fi

# The virtual environment. A half-made one (no pip inside) is made again.
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    say "creating the virtual environment $VENV (from $($PY -c 'import sys; print(sys.executable)'))"
    rm -rf "$VENV"
    "$PY" -m venv "$VENV" || die "'$PY -m venv' failed: on Debian install python3-venv"
fi
VPY="$VENV/bin/python"
stamp="$VENV/.align-installed"
want="$(cat "$ROOT/setup.py" | sha256sum | cut -c1-16) $EXTRAS $ROOT"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing the project into $VENV (extras: $EXTRAS)"
    "$VPY" -m pip install -q --upgrade pip setuptools wheel
    "$VPY" -m pip install -q -e "$ROOT[$EXTRAS]"
    echo "$want" > "$stamp"
else
    say "project already installed in $VENV"
fi

# KenLM. Look where `align` looks: the prefix, next to the venv's python, then PATH.
if [ -z "${KENLM_PREFIX:-}" ]; then
    if [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; then KENLM_PREFIX=/usr/local; else KENLM_PREFIX="$VENV"; fi
fi
# ldd catches binaries whose shared libraries (boost, zlib, ...) are gone.
have_kenlm() { [ -x "$1/lmplz" ] && [ -x "$1/build_binary" ] && ! ldd "$1/lmplz" 2>/dev/null | grep -q "not found"; }
if have_kenlm "$KENLM_PREFIX/bin"; then
    say "KenLM tools present in $KENLM_PREFIX/bin"
elif have_kenlm "$VENV/bin"; then
    say "KenLM tools present in $VENV/bin"
else
    say "building KenLM lmplz/build_binary from the kenlm sdist on PyPI (about a minute)"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    # The venv's pip fetches the sdist; it prepares metadata with the venv's setuptools/wheel.
    "$VPY" -m pip download -q --no-deps --no-binary kenlm --no-build-isolation -d "$work/dl" "kenlm==0.3.0"
    tar xzf "$work"/dl/kenlm-*.tar.gz -C "$work"
    src=$(find "$work" -maxdepth 1 -type d -name 'kenlm-*' | head -1)
    # Compiler warnings go to a log, shown only if the build fails.
    { cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DKENLM_MAX_ORDER=6 &&
      make -C "$work/build" -j"$(nproc)" lmplz build_binary; } >"$work/build.log" 2>&1 ||
        { tail -30 "$work/build.log" >&2; die "building KenLM failed (log above)"; }
    inst=""
    case "$KENLM_PREFIX" in "$VENV"*) ;; *) inst="$SUDO";; esac
    $inst install -d "$KENLM_PREFIX/bin"
    $inst install -m 0755 "$work/build/bin/lmplz" "$work/build/bin/build_binary" "$KENLM_PREFIX/bin/"
    say "installed $KENLM_PREFIX/bin/lmplz and $KENLM_PREFIX/bin/build_binary"
fi
# Start-up: the package's bytecode and numba's compiled text kernels, made once here, so the
# first `align` run neither compiles the package (Python reads .pyc files even where
# PYTHONDONTWRITEBYTECODE is set; about 0.06 s of a 1 s `align --tlog` run) nor JIT-compiles the
# search kernels (several seconds). Both are checked against their sources when used.
say "compiling the package's bytecode and the text kernels"
"$VPY" -m compileall -q "$ROOT/align" >/dev/null || say "compileall failed (not needed: Python compiles on use)"
"$VPY" - <<'PYEOF' || say "warming numba's kernel cache failed (not needed: the first run compiles them)"
from align.text.alphabet import Alphabet
from align.text.engine import align_transcripts
from align.text.normalise import Phrase, normalise
from align.tlog import TranscriptEntry

text = "The quick brown fox jumps over the lazy dog. " * 40
ab = Alphabet.from_labels(" abcdefghijklmnopqrstuvwxyz'")
ct = normalise(text, [Phrase(0, len(text))], ab)
said = ["the quick brown fox jumps", "over the lazy dog the quick brown fox jumps over the lazy dog the", "quick"]
align_transcripts([TranscriptEntry(1000 * i, 1000 * i + 900, t) for i, t in enumerate(said)], ct, ab)
PYEOF
say "done. Activate with: . $VENV/bin/activate"
