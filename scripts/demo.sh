#!/usr/bin/env bash
# Sets everything up and runs the main job on an example network: checks it
# and prints its shape / parameter / MAC / receptive-field report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
./build/bin/cnnc "${1:-examples/fashion_mnist.cnn}" --report "${@:2}"
