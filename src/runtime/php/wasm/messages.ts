import type {
  PhpRequest,
  PhpResponse,
  PhpScriptResult,
  RefusedConnection,
  SiteMount,
} from '../types.js';

/** Messages between the pool (main thread) and a php-wasm worker thread. */
export type ToWorker =
  | { kind: 'assign'; id: number; site: SiteMount }
  | { kind: 'request'; id: number; request: PhpRequest }
  | { kind: 'script'; id: number; code: string };

export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'boot-failed'; message: string }
  | { kind: 'assigned'; id: number }
  | { kind: 'response'; id: number; response: PhpResponse }
  | { kind: 'script'; id: number; result: PhpScriptResult }
  | { kind: 'error'; id: number; message: string }
  | { kind: 'refused'; connection: Omit<RefusedConnection, 'installId'> };

/** What every instance of a release and PHP version shares, and can boot with ahead of need. */
export interface RuntimeBase {
  phpVersion: string;
  releaseDir: string;
}

export interface WorkerData {
  base: RuntimeBase;
  /** The install to serve, or null for a spare that waits to be assigned one. */
  site: SiteMount | null;
  processId: number;
  /** CIDR blocks the operator opened to installs' PHP although they are private. */
  networkAllow: string[];
}

/** Messages from the server to the PHP host process, which keeps the instances' threads. */
export type ToHost =
  | { kind: 'spawn'; instance: number; data: WorkerData }
  | { kind: 'post'; instance: number; message: ToWorker }
  | { kind: 'terminate'; instance: number };

export type FromHost =
  | { kind: 'message'; instance: number; message: FromWorker }
  | { kind: 'error'; instance: number; message: string }
  | { kind: 'exit'; instance: number; code: number };
