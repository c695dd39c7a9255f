#!/usr/bin/env bash
# Installs every Debian package cnnc needs to build, test and benchmark.
# Idempotent and non-interactive: safe to run on a fresh bookworm machine
# (as root or with sudo) and again on one that is already set up.
set -euo pipefail

packages=(
  build-essential cmake ninja-build git pkg-config
  # The compiler: Halide 14 and MLIR/LLVM 14 share one libLLVM-14.so.
  libhalide14-0-dev
  llvm-14-dev llvm-14-tools libmlir-14-dev mlir-14-tools
  zlib1g-dev libpng-dev libzstd-dev libedit-dev libcurl4-openssl-dev libxml2-dev libffi-dev libncurses-dev
  # Frontend and driver libraries.
  libfmt-dev libcli11-dev nlohmann-json3-dev
  # Tests: GoogleTest, lit (python3), FileCheck (llvm-14-tools), the fuzzer.
  googletest libgtest-dev python3 clang-14 libclang-rt-14-dev
  # GPU code tested without a GPU: OpenCL on the CPU (PoCL), docs/gpu.md.
  pocl-opencl-icd ocl-icd-libopencl1
  # The reference oracle for conformance tests (never a runtime dependency).
  python3-torch python3-torchvision python3-numpy dataset-fashion-mnist
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
