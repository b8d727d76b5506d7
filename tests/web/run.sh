#!/usr/bin/env bash
# Node tests of the wasm module and of the worker protocol, and the headless-Chromium test of the
# page (node's test runner).
set -euo pipefail
cd "$(dirname "$0")"
# Every pinned package (package.json's devDependencies), not just the first one ever added.
for dep in playwright-core axe-core uplot; do
    if [ ! -d "node_modules/$dep" ]; then npm ci --no-audit --no-fund; break; fi
done
# The Node entry under the same output rules as the native CLI (tests/outputs_test.sh).
bash ../outputs_test.sh node --no-experimental-fetch ../../wasm/zimpute-node.mjs
node --test --test-concurrency=1 wasm.test.mjs worker.test.mjs e2e.test.mjs inputs.test.mjs pictures.test.mjs
