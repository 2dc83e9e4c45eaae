import { PhpBusyError, type SiteMount } from '../types.js';

/** A request (or script) waiting for a PHP instance of its install. */
export interface Waiter<T> {
  readonly site: SiteMount;
  /** Hands the waiter its instance and takes it out of the queue. */
  grant(instance: T): void;
  /** Fails the waiter and takes it out of the queue. */
  fail(err: Error): void;
}

/**
 * Requests waiting for PHP, across all installs, oldest first: each time an instance frees (or a
 * place for one does) the oldest waiter that can use it gets it, so an install with many requests
 * cannot starve one with few. A wait is bounded: after `timeoutMs` the waiter leaves the queue
 * and fails with PhpBusyError, never having reached PHP.
 */
export class WaitQueue<T> {
  private waiters: Waiter<T>[] = [];

  constructor(private readonly timeoutMs: number) {}

  get length(): number {
    return this.waiters.length;
  }

  /** Queues a waiter for the install; `limits` describes them for the timeout's message. */
  wait(site: SiteMount, limits: () => string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiter.fail(
          new PhpBusyError(
            `no PHP instance was free for install ${site.installId} within ${this.timeoutMs} ms (${limits()})`,
          ),
        );
      }, this.timeoutMs);
      const waiter: Waiter<T> = {
        site,
        grant: (instance) => {
          clearTimeout(timer);
          this.remove(waiter);
          resolve(instance);
        },
        fail: (err) => {
          clearTimeout(timer);
          this.remove(waiter);
          reject(err);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** The waiters, oldest first; a copy, so that granting while going through it is safe. */
  list(): readonly Waiter<T>[] {
    return [...this.waiters];
  }

  /** Installs that have a request waiting. */
  installs(): Set<string> {
    return new Set(this.waiters.map((w) => w.site.installId));
  }

  failAll(err: Error): void {
    for (const waiter of this.list()) waiter.fail(err);
  }

  private remove(waiter: Waiter<T>): void {
    this.waiters = this.waiters.filter((w) => w !== waiter);
  }
}
