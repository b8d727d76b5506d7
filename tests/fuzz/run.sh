#!/usr/bin/env bash
# Builds the reader fuzz target with clang (libFuzzer, AddressSanitizer, UBSan) and runs it for
# FUZZ_SECONDS (default 60), seeded with the bad-input corpus and the example data.
# Usage: bash tests/fuzz/run.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-${FUZZ_SECONDS:-60}}"
out=build-fuzz
mkdir -p "$out/corpus"
cp tests/data/bad/* "$out/corpus/"
printf 'gene,c1,c2\nA,1,0\nB,0,2\n' > "$out/corpus/named.csv"
printf 'Cell1,Cell2\n0,5\n2,0\n' > "$out/corpus/course.csv"
flags=(-std=c++17 -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
       -I/usr/include/eigen3 -Icore)
mkdir -p "$out/obj"
# Objects in parallel (one clang per core): the sanitized build is most of this script's time.
printf '%s\n' core/*.cpp tests/fuzz/reader_fuzz.cpp |
    xargs -P "$(nproc)" -I{} sh -c 'clang++ "$@" -c {} -o "'"$out"'/obj/$(basename {} .cpp).o"' _ "${flags[@]}"
clang++ -fsanitize=fuzzer,address,undefined "$out"/obj/*.o -o "$out/reader_fuzz"
echo "== fuzzing the readers for ${seconds} s"
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$out/reader_fuzz" "$out/corpus" \
    -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 2>&1 |
    tee "$out/fuzz.log" | grep -E "^#[0-9]+ +DONE|stat::number_of_executed_units|ERROR|SUMMARY" || true
# libFuzzer exits non-zero on any finding; PIPESTATUS keeps that exit code through tee.
exit "${PIPESTATUS[0]}"
