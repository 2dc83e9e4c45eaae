import { randomUUID } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function newId(): string {
  return randomUUID();
}

/** Ids arrive from URLs; anything that is not a UUID cannot name a row. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export function nowIso(): string {
  return new Date().toISOString();
}
