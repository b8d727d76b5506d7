#!/usr/bin/env bash
# Builds what the page needs (installing Debian's emscripten if missing) and serves web/ at
# http://localhost:${PORT:-8000}/ with the example dataset ready ("Try the example").
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/deps.sh
zimpute_install_deps wasm
newest_source=$(find core wasm CMakeLists.txt -type f -newer web/zimpute.js 2>/dev/null | head -n 1 || true)
if [ ! -f web/zimpute.js ] || [ ! -f web/zimpute-mt.js ] || [ ! -f web/example/data.csv ] || [ -n "$newest_source" ]; then
    bash wasm/build.sh
fi
exec node web/dev-server.mjs "${PORT:-8000}"
