#!/usr/bin/env bash
# Configures and builds cnnc in build/ (Release, Ninja). Extra arguments go to
# CMake. Two jobs: sized for a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j "${CNNC_JOBS:-2}"
