#!/usr/bin/env bash
# Builds web/zimpute.js (WebAssembly embedded) with Debian's Emscripten, then the example dataset
# the page offers (simulated by the module itself: web/example/data.csv and truth.csv).
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's emcc finds acorn (used by its JS optimizer) only through NODE_PATH.
export NODE_PATH="${NODE_PATH:-/usr/share/nodejs}"
emcmake cmake -S . -B build-wasm -DCMAKE_BUILD_TYPE=Release > build-wasm.log 2>&1 || { cat build-wasm.log; exit 1; }
# Remove the output first so it is always relinked from this configuration (another build
# directory writes the same file).
rm -f web/zimpute.js web/zimpute-mt.js web/zimpute-mt.worker.js
cmake --build build-wasm -j"$(nproc)" >> build-wasm.log 2>&1 || { tail -40 build-wasm.log; exit 1; }
rm -f build-wasm.log
mkdir -p web/example
node wasm/zimpute-node.mjs simulate --genes 1000 --cells 400 --seed 1 \
    --out web/example/data.csv --truth-out web/example/truth.csv > /dev/null
echo "built web/zimpute.js ($(du -k web/zimpute.js | cut -f1) KiB), web/zimpute-mt.js (threads) and web/example/"
