#!/usr/bin/env bash
# Installs the system packages `align` needs on Debian 12 and builds KenLM's lmplz/build_binary.
# Idempotent: rerunning skips what is already there. Run as root or with sudo available.
# Usage: bash bin/setup.sh            (everything)
#        KENLM_PREFIX=/opt/kenlm bash bin/setup.sh   (where lmplz/build_binary go; default /usr/local)
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "bin/setup.sh: needs root (or sudo) to install Debian packages" >&2; exit 1; fi
fi

# Runtime: audio conversion (ffmpeg), espeak-ng (grapheme-to-phoneme for words cmudict lacks).
# Tests/benchmarks: festival + HTS voice (natural test speech), sox, real LibriVox clips.
# KenLM build chain: cmake, g++, boost (test is needed even with tests off), compression libs.
PKGS="ffmpeg espeak-ng sox festival festvox-us-slt-hts festvox-kallpc16k pocketsphinx-testdata
      cmake g++ make libboost-program-options-dev libboost-system-dev libboost-thread-dev
      libboost-test-dev zlib1g-dev libbz2-dev liblzma-dev"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
    echo "bin/setup.sh: installing Debian packages:$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

PREFIX="${KENLM_PREFIX:-/usr/local}"
if [ -x "$PREFIX/bin/lmplz" ] && [ -x "$PREFIX/bin/build_binary" ]; then
    echo "bin/setup.sh: KenLM tools present in $PREFIX/bin"
else
    echo "bin/setup.sh: building KenLM lmplz/build_binary from the kenlm sdist on PyPI (about a minute)"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    # pip prepares the sdist's metadata even for a download: it needs setuptools and wheel.
    python3 -m pip install -q setuptools wheel
    python3 -m pip download -q --no-deps --no-binary kenlm --no-build-isolation -d "$work/dl" "kenlm==0.3.0"
    tar xzf "$work"/dl/kenlm-*.tar.gz -C "$work"
    src=$(find "$work" -maxdepth 1 -type d -name 'kenlm-*' | head -1)
    cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DKENLM_MAX_ORDER=6 >/dev/null
    make -C "$work/build" -j"$(nproc)" lmplz build_binary >/dev/null
    $SUDO install -d "$PREFIX/bin"
    $SUDO install -m 0755 "$work/build/bin/lmplz" "$work/build/bin/build_binary" "$PREFIX/bin/"
    echo "bin/setup.sh: installed $PREFIX/bin/lmplz and $PREFIX/bin/build_binary"
fi
