#!/bin/sh
# Builds the example application against a freshly generated model and
# classifies the given images: the steps a user follows (docs/runtime-api.md).
#   examples/app/run.sh [--cnnc PATH] [--out DIR] [weights.safetensors] image.pgm ...
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cnnc=cnnc
out=$(mktemp -d)
while [ $# -gt 0 ]; do
  case "$1" in
    --cnnc) cnnc=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) break ;;
  esac
done
mkdir -p "$out"
"$cnnc" "$here/../fashion_mnist.cnn" -o "$out/fashion.so"
${CC:-cc} -O2 "$here/classify.c" -I"$out" "$out/fashion.so" -Wl,-rpath,"$out" -lm -o "$out/classify"
"$out/classify" "$@"
