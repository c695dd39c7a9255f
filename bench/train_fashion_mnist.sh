#!/usr/bin/env bash
# Trains the brief's Fashion-MNIST network (examples/fashion_mnist.cnn) with
# the generated training step for 5 epochs on Debian's dataset-fashion-mnist
# and checks that the test accuracy reaches 90 %. Writes the CSV log, the
# checkpoint and the output to OUT (default build/train-fashion-mnist).
#   bash bench/train_fashion_mnist.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/train-fashion-mnist}
mkdir -p "$out"
build/bin/cnnc examples/fashion_mnist.cnn -o "$out/fashion.so"
start=$(date +%s)
build/bin/cnnrun train "$out/fashion.so" --seed 1 --epochs 5 --batch 64 --optimizer adam \
  --lr 1e-3 --log "$out/log.csv" \
  --checkpoint "$out/checkpoint.safetensors" -o "$out/weights.safetensors" | tee "$out/output.txt"
echo "wall time: $(( $(date +%s) - start )) s"
final=$(tail -n 1 "$out/log.csv" | cut -d, -f5)
/usr/bin/python3 -c "import sys; a=float('$final'); print(f'final test accuracy {100*a:.2f} %'); sys.exit(0 if a >= 0.90 else 1)"
