#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: GoogleTest units, the lit
# suite (FileCheck tests of every compiler output and diagnostic, PyTorch
# conformance of every example), the runtime under ASan and UBSan
# (scripts/sanitize.sh) and a bounded fuzzing run (scripts/fuzz.sh: the
# parser, the readers, weights into a model, the whole compiler, cnnrun's
# command line).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
# The benchmarks' C++ tools are not part of the default build; build them so
# that a change to the code they drive cannot leave them broken unnoticed.
cmake --build build -j "${CNNC_JOBS:-2}" --target cnnc-conv-timing cnnc-adjoint-timing
(cd build && ctest --output-on-failure -j 2)
bash scripts/sanitize.sh
bash scripts/fuzz.sh "${CNNC_FUZZ_SECONDS:-40}"
