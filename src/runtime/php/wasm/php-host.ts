import { fork, type ChildProcess } from 'node:child_process';
import { packageFile } from '../../package-path.js';
import type { FromHost, FromWorker, ToHost, ToWorker, WorkerData } from './messages.js';

// The host (and its workers) always run from the compiled tree, also when this module is loaded
// from source by the tests or from the benchmarks' build.
const HOST_PATH = 'dist/runtime/php/wasm/host.js';

/** What an instance tells the pool: its worker's messages, then one exit. */
export interface InstanceEvents {
  message(message: FromWorker): void;
  error(err: Error): void;
  exit(code: number): void;
}

/** One PHP instance (a worker thread in the host process), seen from the server. */
export interface InstanceChannel {
  post(message: ToWorker): void;
  /** Stops the instance; resolves once it is gone. */
  terminate(): Promise<void>;
}

export interface PhpHostOptions {
  /** Node options of the host process (V8 flags for the wasm code, for instance). */
  execArgv: string[];
}

interface Channel {
  child: ChildProcess;
  events: InstanceEvents;
  exited: Promise<void>;
  markExited(code: number): void;
}

/**
 * The server's side of the PHP host process (host.ts): starts it with the first instance,
 * routes each instance's messages, and ends it when its last instance stops. A host that dies
 * takes its instances with it: each one reports an exit, as a crashed thread would.
 */
export class PhpHost {
  private child: ChildProcess | null = null;
  private readonly channels = new Map<number, Channel>();
  private nextInstance = 1;

  constructor(private readonly options: PhpHostOptions) {}

  /** The host's process id while it runs (for tests and measurements). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  spawn(data: WorkerData, events: InstanceEvents): InstanceChannel {
    const child = this.child ?? this.start();
    const instance = this.nextInstance++;
    let markExited: (code: number) => void = () => undefined;
    const exited = new Promise<void>((resolve) => {
      markExited = (code) => {
        if (!this.channels.delete(instance)) return;
        events.exit(code);
        resolve();
        this.retireIfUnused(child);
      };
    });
    this.channels.set(instance, { child, events, exited, markExited });
    this.send(child, { kind: 'spawn', instance, data });
    return {
      post: (message) => {
        this.send(child, { kind: 'post', instance, message });
      },
      terminate: () => {
        if (!this.channels.has(instance)) return Promise.resolve();
        this.send(child, { kind: 'terminate', instance });
        return exited;
      },
    };
  }

  private start(): ChildProcess {
    const child = fork(packageFile(HOST_PATH), [], {
      execArgv: this.options.execArgv,
      // Structured clone keeps request and response bodies binary across the channel.
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: {
        ...process.env,
        // Each thread would otherwise keep its own malloc arena of what PHP freed.
        MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
      },
    });
    this.child = child;
    child.on('message', (m: FromHost) => {
      const channel = this.channels.get(m.instance);
      if (channel === undefined) return;
      if (m.kind === 'message') channel.events.message(m.message);
      else if (m.kind === 'error') channel.events.error(new Error(m.message));
      else channel.markExited(m.code);
    });
    // A failed fork is reported through 'exit' too (code null); nothing more to do here.
    child.on('error', () => undefined);
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      for (const channel of [...this.channels.values()]) {
        if (channel.child === child) channel.markExited(code ?? (signal === null ? 1 : 128));
      }
    });
    return child;
  }

  /** Ends the host once no instance runs in it, handing all its memory back. */
  private retireIfUnused(child: ChildProcess): void {
    for (const channel of this.channels.values()) if (channel.child === child) return;
    if (this.child === child) this.child = null;
    if (child.connected) child.disconnect();
  }

  private send(child: ChildProcess, message: ToHost): void {
    // A host that is gone reports its instances' exit through its 'exit' event.
    if (child.connected) child.send(message, undefined, {}, () => undefined);
  }
}
