// Loads the WebAssembly module in Node: web/zimpute-mt.js (threads, SharedArrayBuffer: always
// available in Node) unless one thread is asked for or the threads build is missing, else
// web/zimpute.js. The wasm is embedded in both files (SINGLE_FILE), so Node's fetch() is never
// asked for a file path (which fails with Emscripten 3.1.6 on Node 20).
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const MT = new URL('../web/zimpute-mt.js', import.meta.url);

export async function loadZimpute({ threads = 0 } = {}) {
  const mt = Number(threads) !== 1 && fs.existsSync(MT);
  const Z = await require(mt ? '../web/zimpute-mt.js' : '../web/zimpute.js')();
  // Emscripten 3.1.6 keeps its pthread pool's worker_threads referenced, so Node would never
  // exit. Threads only work inside a synchronous call from this thread, so nothing is lost by
  // letting the process end without them. (The pool is fixed: no worker is created later.)
  if (mt) for (const w of [...Z.PThread.unusedWorkers, ...Z.PThread.runningWorkers]) w.unref();
  Z.threadsBuild = mt;
  return Z;
}
