#!/usr/bin/env bash
# Compiles for CUDA every model that scripts/gpu-checks.sh runs, recording
# them in DIR (CNNC_RECORD of test/conformance/cnnc_model.py), so that the
# checks run on a machine with an NVIDIA GPU but without cnnc (docs/gpu.md).
# Needs the build (scripts/build.sh). The tests it drives compile, then stop
# at their first call (there is no GPU here): only the recordings matter.
#
#   bash scripts/gpu-record.sh DIR
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
mkdir -p "$1"
dir=$(cd "$1" && pwd)
root=$PWD
cnnc=$root/build/bin/cnnc
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CNNC_RECORD=$dir CNNC_TEST_TARGET=cuda
source scripts/gpu-networks.sh
py=/usr/bin/python3
mkdir -p "$work/ops" "$work/grads"
$py test/conformance/ops.py "$cnnc" "$work/ops" > /dev/null 2>&1 || true
$py test/conformance/gradients.py "$cnnc" "$work/grads" > /dev/null 2>&1 || true
for n in ${GPU_CHECK_NETWORKS//,/ }; do
  mkdir -p "$work/$n"
  (cd test/conformance && CNNC_NETWORKS=$n $py networks.py "$cnnc" "$root/examples" "$work/$n" \
    > /dev/null 2>&1 || true)
  (cd test/conformance && CNNC_NETWORKS=$n $py network_steps.py "$cnnc" "$root/examples" \
    "$work/$n" > /dev/null 2>&1 || true)
done
mkdir -p "$work/pair"
$py test/GPU/cpu-and-device.py "$cnnc" "$root/examples" "$work/pair" > /dev/null 2>&1 || true
$py bench/gpu.py --cnnc "$cnnc" --networks "$GPU_BENCH_NETWORKS" --tiles "$GPU_BENCH_TILES" \
  --work "$work/bench" --compile-only
echo "recorded $(ls "$dir" | wc -l) files ($(du -sh "$dir" | cut -f1)) in $dir"
