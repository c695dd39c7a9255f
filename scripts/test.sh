#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: GoogleTest units, the lit
# suite (FileCheck tests of every compiler output and diagnostic, PyTorch
# conformance of every example), and a bounded fuzzing run of the parser.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
(cd build && ctest --output-on-failure -j 2)
bash scripts/fuzz.sh "${CNNC_FUZZ_SECONDS:-60}"
