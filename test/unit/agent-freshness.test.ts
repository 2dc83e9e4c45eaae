import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentFreshness, agentDigest } from '../../src/runtime/sites/agent-freshness.js';

describe('AgentFreshness', () => {
  let dir: string;
  let agentFile: string;
  let contentDir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-agent-fresh-'));
    agentFile = path.join(dir, 'package', 'wpfleet-agent.php');
    fs.mkdirSync(path.join(dir, 'package', 'wpfleet-agent'), { recursive: true });
    fs.writeFileSync(agentFile, '<?php // agent 2');
    fs.writeFileSync(path.join(dir, 'package', 'wpfleet-agent', 'plugins.php'), '<?php // plugins');
    fs.writeFileSync(path.join(dir, 'package', 'wpfleet-agent', 'README.md'), 'not copied');
    contentDir = path.join(dir, 'wp-content');
    // An install made before modules existed: the agent file alone, an older one.
    fs.mkdirSync(path.join(contentDir, 'mu-plugins'), { recursive: true });
    fs.writeFileSync(path.join(contentDir, 'mu-plugins', 'wpfleet-agent.php'), '<?php // agent 1');
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const installed = (rel: string): string =>
    fs.readFileSync(path.join(contentDir, 'mu-plugins', rel), 'utf8');

  it("replaces an install's older agent with the package's, modules included", async () => {
    const freshness = new AgentFreshness(agentFile);
    await Promise.all([freshness.ensure(contentDir), freshness.ensure(contentDir)]);
    expect(installed('wpfleet-agent.php')).toBe('<?php // agent 2');
    expect(installed('wpfleet-agent/plugins.php')).toBe('<?php // plugins');
    expect(fs.existsSync(path.join(contentDir, 'mu-plugins', 'wpfleet-agent', 'README.md'))).toBe(
      false,
    );
    expect(
      await agentDigest(
        path.join(contentDir, 'mu-plugins', 'wpfleet-agent.php'),
        path.join(contentDir, 'mu-plugins', 'wpfleet-agent'),
      ),
    ).toBe(await agentDigest(agentFile, path.join(dir, 'package', 'wpfleet-agent')));
  });

  it('leaves an up-to-date agent alone, and notices one changed afterwards', async () => {
    const freshness = new AgentFreshness(agentFile);
    await freshness.ensure(contentDir);
    const module = path.join(contentDir, 'mu-plugins', 'wpfleet-agent', 'plugins.php');
    // Whole seconds: a fractional time may not survive the round trip through utimes exactly.
    const old = new Date(Math.floor(Date.now() / 1000 - 60) * 1000);
    fs.utimesSync(module, old, old);
    await freshness.ensure(contentDir);
    expect(fs.statSync(module).mtimeMs).toBe(old.getTime());
    // A restore brings back an old module: the next call puts the package's back.
    fs.writeFileSync(module, '<?php // plugins, old');
    await freshness.ensure(contentDir);
    expect(installed('wpfleet-agent/plugins.php')).toBe('<?php // plugins');
  });
});
