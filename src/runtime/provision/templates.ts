import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { PhpRuntime } from '../php/types.js';
import { siteLayout, writeSiteFiles } from '../sites/site-files.js';
import { renderWpConfig } from '../sites/wp-config.js';
import { installerScript, parseInstallerOutput } from './installer-script.js';
import { inTurn } from './php-turn.js';
import { TEMPLATE } from './sqlite-template.js';

export interface SqliteTemplate {
  /** An installed WordPress database (`.ht.sqlite`) to copy and personalize. */
  file: string;
  wpVersion: string;
}

export interface TemplateDeps {
  dataDir: string;
  runtime: PhpRuntime;
  agentFile: string;
  sqlitePlugin(): Promise<string>;
  phpVersion: string;
}

/**
 * One WordPress installed by its own installer per release, on SQLite, kept as a template:
 * a new install copies its database and makes it its own (sqlite-template.ts) instead of running
 * the installer again, which takes seconds on php-wasm.
 */
export class SqliteTemplates {
  private readonly building = new Map<string, Promise<SqliteTemplate>>();

  constructor(private readonly deps: TemplateDeps) {}

  ensure(releaseVersion: string, releaseDir: string): Promise<SqliteTemplate> {
    let pending = this.building.get(releaseVersion);
    if (pending === undefined) {
      pending = this.build(releaseVersion, releaseDir).finally(() =>
        this.building.delete(releaseVersion),
      );
      this.building.set(releaseVersion, pending);
    }
    return pending;
  }

  private async build(version: string, releaseDir: string): Promise<SqliteTemplate> {
    const dir = path.join(this.deps.dataDir, 'templates', `wordpress-${version}-sqlite`);
    const manifest = path.join(dir, 'template.json');
    const file = path.join(dir, 'wp-content', 'database', '.ht.sqlite');
    if (fs.existsSync(manifest)) {
      const { wp_version } = JSON.parse(fs.readFileSync(manifest, 'utf8')) as {
        wp_version: string;
      };
      return { file, wpVersion: wp_version };
    }
    // Built under a temporary id and renamed whole, so a crash never leaves half a template.
    const id = `template-${version}-${randomBytes(4).toString('hex')}`;
    const layout = siteLayout(path.join(this.deps.dataDir, 'templates', 'build'), id);
    // What a build killed part-way left (one process builds a version at a time).
    const builds = path.dirname(layout.dir);
    for (const stale of fs.existsSync(builds) ? fs.readdirSync(builds) : []) {
      if (stale.startsWith(`template-${version}-`)) {
        fs.rmSync(path.join(builds, stale), { recursive: true, force: true });
      }
    }
    try {
      await writeSiteFiles(layout, {
        releaseDir,
        sqlitePluginDir: await this.deps.sqlitePlugin(),
        agentFile: this.deps.agentFile,
        wpConfig: renderWpConfig({
          tablePrefix: TEMPLATE.prefix,
          database: { kind: 'sqlite' },
          agentSecret: randomBytes(32).toString('hex'),
        }),
      });
      const site = {
        installId: id,
        phpVersion: this.deps.phpVersion,
        releaseDir,
        contentDir: layout.contentDir,
        configFile: layout.configFile,
        absoluteUrl: TEMPLATE.url,
      };
      const script = installerScript({
        title: TEMPLATE.title,
        adminEmail: TEMPLATE.email,
        adminPassword: randomBytes(24).toString('base64url'),
        url: TEMPLATE.url,
      });
      const output = await inTurn('the template installer', () =>
        this.deps.runtime.runScript(site, script),
      );
      const result = parseInstallerOutput(output.stdout);
      await this.deps.runtime.unload(id);
      fs.writeFileSync(
        path.join(layout.dir, 'template.json'),
        JSON.stringify({ wp_version: result.wp_version }),
      );
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(path.dirname(dir), { recursive: true });
      fs.renameSync(layout.dir, dir);
      return { file, wpVersion: result.wp_version };
    } finally {
      await this.deps.runtime.unload(id);
      fs.rmSync(layout.dir, { recursive: true, force: true });
    }
  }
}
