import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { siteLayout } from '../../src/runtime/sites/site-files.js';
import { timeBackup } from './backup-steps.js';
import { processRssMb } from './process.js';
import { rssDuring, type RssDuring, type RssRise } from './rss-during.js';
import type { Install, WordPressServer } from './wordpress.js';

/** The target: each step raises the RSS of the process doing it by less than this. */
export const RSS_TARGET_MB = 100;

export interface LargeUploadFigures {
  fileBytes: number;
  archiveBytes: number;
  /** The server process's RSS before the first step on the large file. */
  serverBefore: number;
  backup: RssDuring<unknown>;
  /** `wpfleet backups verify` of a backup of the install before the file was added. */
  verifySmall: RssDuring<unknown>;
  verify: RssDuring<unknown>;
  restore: RssDuring<unknown>;
}

/**
 * Writes `bytes` to `file` as one random MiB repeated: deflate's 32 KiB window finds nothing to
 * shrink in it (the archive stores it), and writing it costs no more than copying.
 */
function writeLargeFile(file: string, bytes: number): void {
  const block = randomBytes(1 << 20);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  try {
    for (let written = 0; written < bytes; written += block.length) {
      fs.writeSync(fd, block, 0, Math.min(block.length, bytes - written));
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Runs the CLI with `args`; `pid()` is its process id once spawned. */
function cli(
  wp: WordPressServer,
  args: string[],
): { pid: () => number | undefined; run: () => Promise<string> } {
  let pid: number | undefined;
  return {
    pid: () => pid,
    run: () =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['bin/wpfleet.js', ...args], {
          env: { ...process.env, ...wp.store.env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        pid = child.pid;
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (out += c.toString()));
        child.once('error', reject);
        child.once('close', (code) => {
          if (code === 0) resolve(out);
          else reject(new Error(`wpfleet ${args.join(' ')} exited with ${String(code)}: ${out}`));
        });
      }),
  };
}

/**
 * An install whose uploads hold one file of `fileBytes`: a backup through the API, `wpfleet
 * backups verify`, and `wpfleet backups restore` (run by the server: it verifies, takes a safety
 * backup, unpacks), each with the RSS of the processes doing the work sampled throughout. The
 * file, its backups and the restore's leftovers are removed at the end.
 */
export async function largeUpload(
  wp: WordPressServer,
  install: Install,
  fileBytes: number,
): Promise<LargeUploadFigures> {
  const layout = siteLayout(wp.store.config.dataDir, install.id);
  const file = path.join(layout.contentDir, 'uploads', '2025', '01', 'large-video.mp4');
  const backups = path.join(wp.store.config.dataDir, 'backups', install.id);
  const server = (): number => wp.pid;
  try {
    const small = await timeBackup(wp, install, 100);
    const smallCli = cli(wp, ['backups', 'verify', small.id, '--json']);
    const verifySmall = await rssDuring(smallCli.pid, smallCli.run);

    writeLargeFile(file, fileBytes);
    const serverBefore = processRssMb(wp.pid);
    const backup = await rssDuring(server, () => timeBackup(wp, install, 100));
    const verifyCli = cli(wp, ['backups', 'verify', backup.result.id, '--json']);
    const verify = await rssDuring(verifyCli.pid, verifyCli.run);
    const ok = JSON.parse(verify.result) as { ok: boolean; files: number };
    if (!ok.ok) throw new Error(`the large backup does not verify: ${verify.result}`);

    // The server does the restore's work; the CLI that queues it verifies the backup first.
    const restoreCli = cli(wp, ['backups', 'restore', install.name, backup.result.id, '--json']);
    const restore = await rssDuring(server, restoreCli.run);
    if (fs.statSync(file).size !== fileBytes) throw new Error('the restored file differs');
    const page = await wp.site(install.name, '/', { 'cache-control': 'no-cache' });
    if (page.status !== 200)
      throw new Error(`after the restore ${install.name} answered ${page.status}`);
    return {
      fileBytes,
      archiveBytes: backup.result.filesBytes,
      serverBefore,
      backup,
      verifySmall,
      verify,
      restore,
    };
  } finally {
    fs.rmSync(file, { force: true });
    fs.rmSync(backups, { recursive: true, force: true });
    fs.rmSync(`${layout.contentDir}.restore`, { recursive: true, force: true });
    fs.rmSync(`${layout.contentDir}.old`, { recursive: true, force: true });
  }
}

const mbText = (v: number): string => `${v.toFixed(1)} MB`;
const riseText = (r: RssRise): string =>
  `${mbText(r.before)} → peak ${mbText(r.peak)} (+${mbText(r.rise)})`;
const verdict = (r: number): string =>
  `${r < RSS_TARGET_MB ? 'met' : 'NOT met'} (< ${RSS_TARGET_MB} MB)`;

/** Prints the figures of each step: the peak rise of each process over its RSS before. */
export function printLargeUpload(f: LargeUploadFigures): void {
  const sec = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  console.log(
    `  file ${(f.fileBytes / 2 ** 30).toFixed(2)} GiB, files.tar.gz ${(f.archiveBytes / 2 ** 30).toFixed(2)} GiB`,
  );
  for (const [step, d] of [
    ['backup', f.backup],
    ['restore', f.restore],
  ] as const) {
    console.log(`  ${step} (${sec(d.ms)}, ${d.samples} samples every 50 ms):`);
    console.log(`    server process:        ${riseText(d.main)}  target ${verdict(d.main.rise)}`);
    console.log(
      `      over its RSS before the backup (${mbText(f.serverBefore)}): +${mbText(d.main.peak - f.serverBefore)}`,
    );
    console.log(`    PHP host process:      ${riseText(d.kept)}`);
    console.log(
      `    offload child (peak):  ${mbText(d.started.peak)}  target ${verdict(d.started.peak)}  [${d.started.what}]`,
    );
    console.log(`    server's whole tree:   ${riseText(d.tree)}`);
  }
  const rise = f.verify.main.peak - f.verifySmall.main.peak;
  console.log(
    `  verify (${sec(f.verify.ms)}): wpfleet backups verify peaks at ${mbText(f.verify.main.peak)}; ` +
      `on the backup taken before the file was added, ${mbText(f.verifySmall.main.peak)}: ` +
      `+${mbText(rise)}  target ${verdict(rise)}`,
  );
}
