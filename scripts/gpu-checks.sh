#!/usr/bin/env bash
# The GPU checks (docs/gpu.md), on a machine with an NVIDIA GPU, its driver
# and PyTorch with CUDA, from the models scripts/gpu-record.sh recorded:
# every operator forward and backward, inference and one SGD and one Adam
# step of the example networks, all against PyTorch on the CPU with the CPU
# tests' tolerances, then bench/gpu.py against PyTorch with cuDNN. Logs go
# to OUT (default: a temporary folder). Exits 1 if a check failed.
#
#   bash scripts/gpu-checks.sh RECORDINGS [OUT]
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 RECORDINGS [OUT]" >&2; exit 2; }
export CNNC_REPLAY=$(cd "$1" && pwd) CNNC_TEST_TARGET=cuda PYTHONUNBUFFERED=1
out=${2:-$(mktemp -d)}
mkdir -p "$out"
root=$PWD
work=$(mktemp -d)
source scripts/gpu-networks.sh
py=${PYTHON:-python3}
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 |
  tee "$out/gpu.txt"
status=0
run() { # name, seconds, command...: the command's output in OUT/name.log
  local name=$1 limit=$2
  shift 2
  echo "== $name"
  local start=$SECONDS
  timeout "$limit" "$@" > "$out/$name.log" 2>&1
  local rc=$?
  tail -n 3 "$out/$name.log"
  echo "   ($name: exit $rc$([ $rc -eq 124 ] && echo ", stopped after $limit s"), $((SECONDS - start)) s)"
  [ $rc -eq 0 ] || status=1
}
# Most telling first, so that a run cut short still says the most
# (GPU_CHECK_SCALE scales every limit).
scale=${GPU_CHECK_SCALE:-1}
limit() { echo $(($1 * scale)); }
mkdir -p "$work/ops" "$work/grads" "$work/nets" "$work/steps" "$work/pair"
run ops "$(limit 90)" $py test/conformance/ops.py cnnc "$work/ops"
run networks "$(limit 90)" env CNNC_NETWORKS=$GPU_CHECK_NETWORKS \
  $py test/conformance/networks.py cnnc "$root/examples" "$work/nets"
run cpu_and_device "$(limit 45)" $py test/GPU/cpu-and-device.py cnnc "$root/examples" "$work/pair"
run bench "$(limit 200)" $py bench/gpu.py --networks "$GPU_BENCH_NETWORKS" --work "$work/bench" \
  --tiles "$GPU_BENCH_TILES" --seconds "${GPU_BENCH_SECONDS:-0.3}" --rounds 3
run network_steps "$(limit 90)" env CNNC_NETWORKS=$GPU_CHECK_NETWORKS \
  $py test/conformance/network_steps.py cnnc "$root/examples" "$work/steps"
run gradients "$(limit 60)" $py test/conformance/gradients.py cnnc "$work/grads"
cat "$out/bench.log"
exit $status
