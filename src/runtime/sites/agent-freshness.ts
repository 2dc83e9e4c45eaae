import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { installAgent } from './site-files.js';

/**
 * Keeps installs' copies of the agent in step with the package's: an install made before a new
 * agent module shipped has only what was current then. Before an agent call, the install's
 * copy (mu-plugins/wpfleet-agent.php and mu-plugins/wpfleet-agent/) is compared with the
 * package's, and replaced with installAgent() when they differ. The package's digest is taken
 * once per process; the install's is taken on every call (a few small files), so an old agent
 * brought back by a restore is noticed too.
 */
export class AgentFreshness {
  private packageDigest: Promise<string> | undefined;
  private readonly updating = new Map<string, Promise<void>>();

  constructor(private readonly agentFile: string) {}

  /** Brings the install's agent up to date if it differs; resolves once it matches. */
  async ensure(contentDir: string): Promise<void> {
    const running = this.updating.get(contentDir);
    if (running !== undefined) return running;
    const work = this.check(contentDir).finally(() => this.updating.delete(contentDir));
    this.updating.set(contentDir, work);
    return work;
  }

  private async check(contentDir: string): Promise<void> {
    this.packageDigest ??= agentDigest(
      this.agentFile,
      path.join(path.dirname(this.agentFile), 'wpfleet-agent'),
    );
    const wanted = await this.packageDigest;
    const muPlugins = path.join(contentDir, 'mu-plugins');
    const current = await agentDigest(
      path.join(muPlugins, 'wpfleet-agent.php'),
      path.join(muPlugins, 'wpfleet-agent'),
    );
    if (current !== wanted) await installAgent(contentDir, this.agentFile);
  }
}

/**
 * A digest of the agent file and its modules folder (the files installAgent() copies: all but
 * `.md`); a missing file or folder counts as empty.
 */
export async function agentDigest(agentFile: string, modulesDir: string): Promise<string> {
  const hash = createHash('sha256');
  hash.update(await readOrEmpty(agentFile));
  const entries = fs.existsSync(modulesDir)
    ? await fsp.readdir(modulesDir, { withFileTypes: true, recursive: true })
    : [];
  const files = entries
    .filter((e) => e.isFile() && !e.name.endsWith('.md'))
    .map((e) => path.relative(modulesDir, path.join(e.parentPath, e.name)))
    .sort();
  for (const file of files) {
    hash.update(`\0${file}\0`);
    hash.update(await readOrEmpty(path.join(modulesDir, file)));
  }
  return hash.digest('hex');
}

async function readOrEmpty(file: string): Promise<Buffer> {
  try {
    return await fsp.readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw error;
  }
}
