#!/usr/bin/env bash
# Sets up the benchmarks' peers (never a dependency of cnnc or its tests):
# a virtual environment in build/bench-venv with PyTorch 2.x, torchvision,
# onnx (torch.onnx.export in the venv: bench/layers.py), ONNX Runtime and
# OpenVINO from PyPI. bench/inference.py and
# bench/training.py use it when it exists and skip those peers otherwise.
#   bash scripts/bench-setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
dpkg-query -W -f='${Status}' python3-venv 2>/dev/null | grep -q "install ok installed" ||
  $SUDO apt-get install -y -qq --no-install-recommends python3-venv
venv=build/bench-venv
[ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q torch torchvision onnx onnxruntime openvino numpy
"$venv/bin/python" -c "import torch, torchvision, onnxruntime, openvino; \
print('bench-setup: torch', torch.__version__, '| onnxruntime', onnxruntime.__version__, \
'| openvino', openvino.__version__)"
