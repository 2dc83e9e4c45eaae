import type { PhpRequest, PhpResponse, PhpScriptResult, SiteMount } from '../types.js';

/** Messages between the pool (main thread) and a php-wasm worker thread. */
export type ToWorker =
  | { kind: 'request'; id: number; request: PhpRequest }
  | { kind: 'script'; id: number; code: string };

export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'boot-failed'; message: string }
  | { kind: 'response'; id: number; response: PhpResponse }
  | { kind: 'script'; id: number; result: PhpScriptResult }
  | { kind: 'error'; id: number; message: string };

export interface WorkerData {
  site: SiteMount;
  processId: number;
}
