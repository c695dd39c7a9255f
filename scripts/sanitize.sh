#!/usr/bin/env bash
# A checking build of the runtime: the runtime library, cnnrun and the unit
# tests instrumented with AddressSanitizer (leaks included) and UBSan in
# build-sanitize/; then the unit tests, and models compiled by build/'s cnnc
# against that runtime (CNNC_RESOURCE_DIR: their link takes the sanitizer
# runtimes from lib/cnnc_model_runtime.link) driven by the instrumented
# cnnrun through every command and the bad inputs of
# test/Driver/cnnrun-limits.test. Any report stops the run with an error.
# Needs build/ (scripts/build.sh). Usage: scripts/sanitize.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dir=$root/build-sanitize
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCNNC_SANITIZE=address,undefined >/dev/null
cmake --build "$dir" -j "${CNNC_JOBS:-2}" --target cnnc_model_runtime cnnrun cnnc-unit-tests
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
"$dir/bin/cnnc-unit-tests" --gtest_brief=1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# cnnc itself is not instrumented: it loads each new model once to check it,
# which an instrumented model allows only with the link-order check off.
compile() {
  ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 CNNC_RESOURCE_DIR="$dir" \
    CNNC_CACHE_DIR="$root/build/cnnc-cache" "$root/build/bin/cnnc" "$@"
}
run=$dir/bin/cnnrun
ok() { "$@" >/dev/null || { echo "sanitize: FAILED: $*"; exit 1; }; }
fails() { # a command that must fail with a message, not with a report
  if "$@" >/dev/null 2>"$work/err"; then echo "sanitize: should have failed: $*"; exit 1; fi
  grep -q "^cnnrun: error:" "$work/err" || { cat "$work/err"; echo "sanitize: FAILED: $*"; exit 1; }
}
compile examples/fashion_mnist.cnn -o "$work/fm.so"
compile examples/resnet.cnn --network resnet18 --input-shape image=3x32x32 -o "$work/resnet.so"
/usr/bin/python3 test/Driver/Inputs/make_idx.py "$work"
ok "$run" info "$work/fm.so"
ok "$run" init "$work/fm.so" --seed 1 -o "$work/w.safetensors"
ok "$run" predict "$work/fm.so" --weights "$work/w.safetensors" --idx "$work/images.idx" \
  --labels "$work/labels.idx.gz"
ok "$run" bench "$work/fm.so" --batch 1,3 --seconds 0
ok "$run" train "$work/fm.so" --limit 256 --epochs 1 --checkpoint "$work/ck.safetensors" \
  --log "$work/log.csv"
ok "$run" train "$work/fm.so" --limit 256 --epochs 2 --checkpoint "$work/ck.safetensors" \
  --log "$work/log.csv" --resume --optimizer adam --translate 0.1 --flip
ok "$run" bench "$work/resnet.so" --batch 2 --seconds 0
fails "$run" predict "$work/fm.so" --weights /dev/zero --idx "$work/images.idx"
fails "$run" predict "$work/fm.so" --idx "$work/broken.idx"
fails "$run" predict "$work/fm.so" "$work/bad.pgm"
fails "$run" predict "$work/fm.so" --idx "$work/images.idx" --labels "$work/label10.idx"
head -c 1000 "$work/ck.safetensors" >"$work/cut.safetensors"
fails "$run" predict "$work/fm.so" --weights "$work/cut.safetensors" --idx "$work/images.idx"
fails "$run" bench "$work/fm.so" --batch x
echo "sanitize: no report (unit tests; the Fashion-MNIST network through every cnnrun command, ResNet-18 forward)"
