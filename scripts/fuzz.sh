#!/usr/bin/env bash
# Fuzzes the .cnn frontend (lexer, parser, elaborator) with libFuzzer under
# AddressSanitizer (leaks included) and UBSan for a bounded time, seeded with
# the examples. Usage: scripts/fuzz.sh [SECONDS]. Fails on any crash, leak or
# hang; a reproducer is left in build/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
out=build/fuzz
mkdir -p "$out/corpus"
cp examples/*.cnn test/fuzz/seeds/*.cnn "$out/corpus/" 2>/dev/null || true
clang++-14 -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=undefined -Idsl/include \
  test/fuzz/ParserFuzzer.cpp dsl/lib/*.cpp -o "$out/cnnc-parser-fuzzer"
cd "$out"
./cnnc-parser-fuzzer -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -max_len=4096 -print_final_stats=1 corpus 2>fuzz.log || {
  tail -40 fuzz.log
  echo "fuzz: FAILED (see build/fuzz/fuzz.log and the crash-* reproducer)"
  exit 1
}
grep -E "stat::number_of_executed_runs|Done" fuzz.log | tail -2
echo "fuzz: no crash, leak or hang"
