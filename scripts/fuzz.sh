#!/usr/bin/env bash
# Fuzzes the .cnn frontend (lexer, parser, elaborator) for SECONDS, the
# safetensors reader of the runtime for SECONDS / 2, the data readers (IDX
# plain and gzip, PGM/PPM, PNG) for SECONDS / 2 and weights and checkpoints
# loaded into a real model (test/fuzz/model.cnn, then a forward pass and a
# training step) for SECONDS / 2, with libFuzzer under AddressSanitizer (leaks
# included) and UBSan, seeded with the examples, test/fuzz/seeds and the
# model's own weights and checkpoints (make_model_seeds.py); then the whole
# compiler (build/bin/cnnc: shape inference, report, plan) on mutated .cnn
# files for SECONDS / 2 (mutate_cnn.py), and cnnrun under ASan and UBSan
# (build-sanitize/) on mutated command lines for SECONDS / 2
# (mutate_cnnrun.py).
# Usage: scripts/fuzz.sh [SECONDS] (CNNC_FUZZ_SEED: the mutation seed, 1 by
# default, so that CI is reproducible). Needs build/ (scripts/build.sh) and
# build-sanitize/ (scripts/sanitize.sh).
# Fails on any crash, leak, hang or unlocated error; a reproducer is left in
# build/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
out=build/fuzz
mkdir -p "$out/corpus"
cp examples/*.cnn test/fuzz/seeds/*.cnn "$out/corpus/" 2>/dev/null || true
clang++-14 -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=undefined -Idsl/include \
  test/fuzz/ParserFuzzer.cpp dsl/lib/*.cpp -o "$out/cnnc-parser-fuzzer"
clang++-14 -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=undefined -Iruntime/include \
  test/fuzz/SafetensorsFuzzer.cpp runtime/lib/Safetensors.cpp -o "$out/cnnc-safetensors-fuzzer"
clang++-14 -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=undefined -Iruntime/include \
  test/fuzz/DataReadersFuzzer.cpp runtime/lib/Idx.cpp runtime/lib/Netpbm.cpp \
  runtime/lib/Png.cpp runtime/lib/Safetensors.cpp -lpng -lz -o "$out/cnnc-data-fuzzer"
# The model's runtime with coverage for libFuzzer (build-fuzz/), linked into
# the model's object as cnnc --emit=object makes it; cnnc is not
# instrumented and does not load an object.
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang-14 \
  -DCMAKE_CXX_COMPILER=clang++-14 -DCNNC_BUILD_TESTS=OFF \
  -DCNNC_SANITIZE=address,undefined,fuzzer-no-link >/dev/null
cmake --build build-fuzz -j "${CNNC_JOBS:-2}" --target cnnc_model_runtime >/dev/null
CNNC_RESOURCE_DIR=build-fuzz build/bin/cnnc test/fuzz/model.cnn --emit=object -o "$out/fuzz-model.o"
clang++-14 -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=undefined -Iruntime/include \
  test/fuzz/ModelWeightsFuzzer.cpp "$out/fuzz-model.o" -lpthread -ldl -lm \
  -o "$out/cnnc-model-weights-fuzzer"
build/bin/cnnc test/fuzz/model.cnn -o "$out/fuzz-model.so"
/usr/bin/python3 test/fuzz/make_model_seeds.py "$out/fuzz-model.so" "$out/model-corpus"
mkdir -p "$out/weights-corpus" "$out/data-corpus"
cp test/fuzz/seeds/*.safetensors "$out/weights-corpus/"
cp test/fuzz/seeds/*.data "$out/data-corpus/"
cd "$out"
run() { # fuzzer corpus seconds max_len
  "./$1" -max_total_time="$3" -timeout=10 -rss_limit_mb=2048 -max_len="$4" \
    -print_final_stats=1 "$2" 2>"$1.log" || {
    tail -40 "$1.log"
    echo "fuzz: $1 FAILED (see build/fuzz/$1.log and the crash-* reproducer)"
    exit 1
  }
  grep -E "^Done [0-9]+ runs" "$1.log" | tail -1 || true
}
run cnnc-parser-fuzzer corpus "$seconds" 4096
run cnnc-safetensors-fuzzer weights-corpus "$((seconds / 2 + 1))" 8192
run cnnc-data-fuzzer data-corpus "$((seconds / 2 + 1))" 8192
run cnnc-model-weights-fuzzer model-corpus "$((seconds / 2 + 1))" 16384
cd "$OLDPWD"
/usr/bin/python3 test/fuzz/mutate_cnn.py build/bin/cnnc "$((seconds / 2 + 1))" "$out/mutate" \
  "${CNNC_FUZZ_SEED:-1}" ||
  { echo "fuzz: mutate_cnn FAILED (inputs in build/fuzz/mutate/failures/)"; exit 1; }
[ -d build-sanitize ] || { echo "fuzz: run scripts/sanitize.sh first"; exit 1; }
cmake --build build-sanitize -j "${CNNC_JOBS:-2}" --target cnnrun cnnc_model_runtime >/dev/null
ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 CNNC_RESOURCE_DIR=build-sanitize \
  build/bin/cnnc test/fuzz/model.cnn -o "$out/cli-model.so"
/usr/bin/python3 test/fuzz/mutate_cnnrun.py build-sanitize/bin/cnnrun "$out/cli-model.so" \
  "$((seconds / 2 + 1))" "$out/mutate-cnnrun" "${CNNC_FUZZ_SEED:-1}" ||
  { echo "fuzz: mutate_cnnrun FAILED (command lines in build/fuzz/mutate-cnnrun/failures/)"; exit 1; }
echo "fuzz: no crash, leak or hang"
