// The page's side of the worker protocol (web/worker.js, described at its top): each request
// gets a fresh id and one promise, which settles on the request's one final reply (rejects on
// error); events before it (loaded, progress) go to the request's onEvent. No DOM: the protocol
// test (tests/web/worker.test.mjs) drives it in Node.

// Replies that end a request, and events that may come before them.
export const FINAL_REPLIES = new Set(['ready', 'simulated', 'settings', 'done', 'cancelled', 'output', 'pictures', 'error']);
export const EVENTS = new Set(['loaded', 'progress']);

export class WorkerClient {
  // worker: anything with postMessage(msg, transfer) and onmessage/onerror properties (a Web
  // Worker, or an adapter). onProblem(message) hears of replies that break the protocol (no such
  // request waiting) and of a worker that failed while nothing waited.
  constructor(worker, { onProblem = () => {} } = {}) {
    this.worker = worker;
    this.pending = new Map();  // id -> {resolve, reject, onEvent}
    this.nextId = 1;
    this.onProblem = onProblem;
    worker.onmessage = (e) => this.receive(e.data);
    // The worker catches every failure of a request and answers it, so an error event means the
    // worker itself broke (its script did not load, say): whatever waits is told so.
    worker.onerror = (e) => {
      const message = `The worker failed: ${e.message || 'could not start'}`;
      if (!this.pending.size) onProblem(message);
      for (const p of this.pending.values()) p.reject(new Error(message));
      this.pending.clear();
    };
  }

  // Sends {id, type, ...body}; the promise resolves with the final reply (rejects with its
  // error's message). transfer lists ArrayBuffers to hand over instead of copying.
  request(type, body = {}, onEvent = null, transfer = []) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onEvent });
      this.worker.postMessage({ ...body, id, type }, transfer);
    });
  }

  // Requests still waiting for their final reply.
  get waiting() {
    return this.pending.size;
  }

  receive(msg) {
    const p = this.pending.get(msg?.id);
    if (!p) {
      this.onProblem(`The worker answered a request that is not waiting (id ${msg?.id}, ${msg?.type}).`);
      return;
    }
    if (EVENTS.has(msg.type)) {
      if (p.onEvent) p.onEvent(msg);
      return;
    }
    this.pending.delete(msg.id);
    if (msg.type === 'error') p.reject(new Error(msg.message));
    else if (FINAL_REPLIES.has(msg.type)) p.resolve(msg);
    else p.reject(new Error(`The worker sent an unknown reply '${msg.type}'.`));
  }
}
