#!/usr/bin/env bash
# Sets everything up and runs the main job on an example network: prints its
# shape / parameter / MAC / receptive-field report, compiles it to a shared
# library (build/demo/model.so + model.h), and runs it: predictions on
# Fashion-MNIST test images when the network reads 1x28x28 images (with
# freshly initialized weights until it is trained), then a latency and
# throughput benchmark.
#   bash scripts/demo.sh [FILE.cnn [--network NAME]]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
file=${1:-examples/fashion_mnist.cnn}
shift || true
./build/bin/cnnc "$file" "$@" --report
mkdir -p build/demo
./build/bin/cnnc "$file" "$@" -o build/demo/model.so -v
./build/bin/cnnrun info build/demo/model.so
data=/usr/share/datasets/fashion-mnist
if ./build/bin/cnnrun info build/demo/model.so | grep -q "^input  .*: N x 1x28x28$" &&
  [ -f "$data/t10k-images-idx3-ubyte.gz" ]; then
  echo "Top-3 classes (output scores) of five test images, weights initialized from seed 1"
  echo "(untrained: load trained ones with --weights W.safetensors):"
  ./build/bin/cnnrun predict build/demo/model.so --seed 1 --limit 5 --top 3 \
    --idx "$data/t10k-images-idx3-ubyte.gz"
fi
./build/bin/cnnrun bench build/demo/model.so --batch 1,16 --seconds 2
