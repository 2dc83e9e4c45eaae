import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessLogs } from '../../src/edge/access-log.js';

describe("the installs' access logs", () => {
  let dir: string;
  let logs: AccessLogs;
  const file = (id: string) => path.join(dir, 'logs', `${id}.access.log`);
  const read = (id: string) => (fs.existsSync(file(id)) ? fs.readFileSync(file(id), 'utf8') : '');
  const settle = () => new Promise((r) => setTimeout(r, 250));

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-logs-'));
    logs = new AccessLogs(file);
  });

  afterEach(async () => {
    await logs.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes lines in batches, in order, one file per install', async () => {
    for (let i = 0; i < 1000; i += 1) logs.write(i % 2 === 0 ? 'a' : 'b', `line ${i}\n`);
    await settle();
    const a = read('a').split('\n').filter(Boolean);
    expect(a).toHaveLength(500);
    expect(a[0]).toBe('line 0');
    expect(a[499]).toBe('line 998');
    expect(read('b').split('\n').filter(Boolean)).toHaveLength(500);
  });

  it('writes everything pending on close', async () => {
    logs.write('a', 'last words\n');
    await logs.close();
    expect(read('a')).toBe('last words\n');
  });

  it('closes a deleted install log and never writes it again', async () => {
    logs.write('gone', 'before\n');
    logs.forget('gone');
    await settle();
    fs.rmSync(file('gone'));
    logs.write('gone', 'after\n');
    await settle();
    expect(fs.existsSync(file('gone'))).toBe(false);
    expect(logs.openFiles).toBe(0);
  });

  it('closes the files of installs idle for five minutes', async () => {
    logs.write('a', 'x\n');
    logs.write('b', 'y\n');
    expect(logs.openFiles).toBe(2);
    logs.closeIdle(Date.now() + 4 * 60_000);
    expect(logs.openFiles).toBe(2);
    logs.closeIdle(Date.now() + 6 * 60_000);
    expect(logs.openFiles).toBe(0);
    await settle();
    expect(read('a')).toBe('x\n');
    // A later request opens it again and appends.
    logs.write('a', 'z\n');
    await settle();
    expect(read('a')).toBe('x\nz\n');
  });
});
