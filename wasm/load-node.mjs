// Loads web/zimpute.js in Node. The wasm is embedded in the file (SINGLE_FILE), so Node's
// fetch() is never asked for a file path (which fails with Emscripten 3.1.6 on Node 20).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export async function loadZimpute() {
  const createZimpute = require('../web/zimpute.js');
  return createZimpute();
}
