import { Worker } from 'node:worker_threads';
import type { FromHost, FromWorker, ToHost } from './messages.js';

/**
 * The PHP host: a child process of the server that keeps the PHP instances' worker threads and
 * relays their messages. The server starts it when the first instance is needed and ends it when
 * the last one stops, so every byte PHP used (wasm memory, compiled code, malloc arenas) goes
 * back to the system; threads alone leave much of it in the server.
 */
const send = process.send?.bind(process);
if (send === undefined) throw new Error('the PHP host must be started with an IPC channel');

const WORKER_URL = new URL('./worker.js', import.meta.url);
const workers = new Map<number, Worker>();

function relay(message: FromHost): void {
  // The server may be gone: there is no one left to tell.
  if (process.connected) send?.(message, undefined, {}, () => undefined);
}

process.on('message', (m: ToHost) => {
  if (m.kind === 'spawn') {
    const worker = new Worker(WORKER_URL, { workerData: m.data });
    workers.set(m.instance, worker);
    worker.on('message', (message: FromWorker) => {
      relay({ kind: 'message', instance: m.instance, message });
    });
    worker.on('error', (err) => {
      relay({ kind: 'error', instance: m.instance, message: err.message });
    });
    worker.on('exit', (code) => {
      workers.delete(m.instance);
      relay({ kind: 'exit', instance: m.instance, code });
    });
  } else if (m.kind === 'post') {
    workers.get(m.instance)?.postMessage(m.message);
  } else {
    const worker = workers.get(m.instance);
    // Already gone: its exit was relayed, but the server waits for one all the same.
    if (worker === undefined) relay({ kind: 'exit', instance: m.instance, code: 0 });
    else void worker.terminate();
  }
});

// The server ended its channel (it retired this host, or it died): nothing here may outlive it.
process.on('disconnect', () => {
  process.exit(0);
});
