#!/usr/bin/env bash
# Configures and builds UDAL into BUILD_DIR (default: build) with warnings as errors.
# Extra arguments go to cmake's configure step (e.g. -DUDAL_SANITIZE=address,undefined).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # Paths relative to the checkout, so a clone in another folder (CI) reuses the cache.
  export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=true
fi
cmake -S . -B "$build" -G Ninja -DUDAL_WERROR=ON "${launcher[@]}" "$@"
cmake --build "$build" -j "$(nproc)"
