import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './process.js';

export interface StaticServer {
  base: string;
  pid: number;
  stop(): void;
}

/**
 * A bare Node http server in its own process answering every request with the same bytes,
 * read into memory once at start: the baseline for what a cache in front of PHP can reach.
 */
export async function staticServer(
  body: Buffer | string,
  contentType: string,
  extraHeaders: Record<string, string> = {},
): Promise<StaticServer> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-bench-static-'));
  const file = path.join(dir, 'body');
  fs.writeFileSync(file, body);
  const code = `const b=require('fs').readFileSync(process.env.BENCH_BODY);const h={'content-type':process.env.BENCH_TYPE,...JSON.parse(process.env.BENCH_HEADERS),'content-length':b.length};require('http').createServer((q,s)=>{s.writeHead(200,h);s.end(b)}).listen(${port},'127.0.0.1',()=>console.log('up'))`;
  const child: ChildProcess = spawn(process.execPath, ['-e', code], {
    env: {
      ...process.env,
      BENCH_BODY: file,
      BENCH_TYPE: contentType,
      BENCH_HEADERS: JSON.stringify(extraHeaders),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error('the static baseline server did not start'));
    }, 10_000);
    child.stdout?.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the static baseline server exited with ${String(code)}`));
    });
  });
  return {
    base: `http://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    stop() {
      child.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
