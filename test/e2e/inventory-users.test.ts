import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient, AgentError } from '../../src/runtime/agent/client.js';
import { getOptions, setOptions, upgradeDatabase } from '../../src/runtime/agent/core.js';
import { getInventory } from '../../src/runtime/agent/inventory.js';
import {
  createUser,
  deleteUser,
  listUsers,
  resetPassword,
  updateUserRole,
} from '../../src/runtime/agent/users.js';
import { MARIADB_URL, startHosted, type Hosted, type HostedInstall } from '../helpers/hosted.js';
import { cookiesOf, edgeAgentTransport, siteRequest } from '../helpers/site.js';

/**
 * The agent's inventory, users and core calls on real WordPress (Debian's 6.1.9) served by
 * `wpfleet serve`, signed by AgentClient and sent through the edge with the install's Host.
 */
const DATABASES: [string, Record<string, string>][] = [
  ['SQLite', {}],
  ['MariaDB', { WPFLEET_WP_DATABASE_URL: MARIADB_URL }],
];

/** Quotes are slashed in wp-login.php's $_POST: the agent stores passwords so they still match. */
const EDITOR_PASSWORD = `Editor's "pass" 1`;

describe.each(DATABASES)('inventory, users and core on %s', (database, env) => {
  let hosted: Hosted | undefined;
  let install: HostedInstall;
  let agent: AgentClient;
  const host = 'invusers.localhost';

  const serveUrl = (): string => {
    if (hosted === undefined) throw new Error('wpfleet serve did not start');
    return hosted.serve.url;
  };

  /** An AgentError's code and message, for one assertion on both. */
  const failure = async (call: Promise<unknown>): Promise<{ code: string; message: string }> => {
    const error = await call.then(
      () => new Error('the call succeeded'),
      (e: unknown) => e,
    );
    if (!(error instanceof AgentError)) throw error;
    return { code: error.code, message: error.message };
  };

  /** Whether wp-login.php logs `login` in with `password` (WordPress's own form). */
  const logsIn = async (login: string, password: string): Promise<boolean> => {
    const res = await siteRequest(serveUrl(), host, '/wp-login.php', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: 'wordpress_test_cookie=WP%20Cookie%20check',
      },
      body: new URLSearchParams({ log: login, pwd: password, testcookie: '1' }).toString(),
    });
    return res.status === 302 && cookiesOf(res).includes('wordpress_logged_in_');
  };

  beforeAll(async () => {
    hosted = await startHosted(env);
    const created = await hosted.api<HostedInstall>('POST', '/v1/installs', {
      name: 'invusers',
      account_id: hosted.accountId,
    });
    expect(created.status).toBe(201);
    install = await hosted.waitActive(created.body.id);
    const config = fs.readFileSync(
      path.join(hosted.store.config.dataDir, 'installs', install.id, 'wp-config.php'),
      'utf8',
    );
    const secret = /define\( 'WPFLEET_AGENT_SECRET', '([0-9a-f]+)' \);/.exec(config)?.[1];
    if (secret === undefined) throw new Error('no agent secret in wp-config.php');
    agent = new AgentClient(edgeAgentTransport(serveUrl(), host), secret);
  });

  afterAll(async () => {
    await hosted?.stop();
  });

  it('inventories a fresh install in one call', async () => {
    const inventory = await getInventory(agent);
    expect(inventory.core).toMatchObject({
      version: install.wp_version,
      dbUpgradeNeeded: false,
      locale: 'en_US',
      multisite: false,
      home: `http://${host}:${hosted?.port ?? ''}`,
    });
    expect(inventory.core.dbVersionStored).toBe(inventory.core.dbVersion);
    expect(inventory.php.version.startsWith(install.php_version)).toBe(true);
    expect(inventory.php.extensions).toContain('json');
    if (database === 'SQLite') {
      expect(inventory.database.engine).toBe('sqlite');
      expect(inventory.database.serverVersion).toMatch(/^3\.\d+\.\d+/);
      expect(inventory.database.sqliteIntegration?.version).toMatch(/^\d+\.\d+/);
    } else {
      expect(inventory.database.engine).toBe('mariadb');
      expect(inventory.database.serverVersion).toMatch(/^\d+\.\d+\.\d+$/);
      expect(inventory.database.sqliteIntegration).toBeNull();
    }
    expect(inventory.users).toEqual([
      expect.objectContaining({ id: 1, login: 'admin', roles: ['administrator'] }),
    ]);
    expect(inventory.usersTotal).toBe(1);
    expect(inventory.users[0]?.registered).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(JSON.stringify(inventory)).not.toMatch(/\$P\$|\$wp\$|\$2y\$/);
    const active = inventory.themes.filter((t) => t.active);
    expect(active.map((t) => t.stylesheet)).toEqual(['twentytwentythree']);
    expect(active[0]).toMatchObject({ parent: null, autoUpdate: false, update: null });
    const sqlitePlugin = inventory.plugins.find((p) => p.slug === 'sqlite-database-integration');
    expect(sqlitePlugin === undefined).toBe(database !== 'SQLite');
    // Offline: WordPress never checked for updates, so it knows of none.
    expect(inventory.translations).toEqual([]);
    expect(inventory.updates.core).toEqual([]);

    // The figure docs/operations.md quotes: warm calls, PHP already booted.
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await getInventory(agent);
      times.push(performance.now() - started);
    }
    // For comparison: the agent's smallest call, which boots WordPress just the same.
    const infoTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await agent.info();
      infoTimes.push(performance.now() - started);
    }
    const show = (list: number[]): string =>
      list
        .sort((a, b) => a - b)
        .map((t) => t.toFixed(0))
        .join(', ');
    console.info(`${database}: inventory ${show(times)} ms; info ${show(infoTimes)} ms`);
  });

  it('creates users with WordPress, who can then log in; a taken login or e-mail changes nothing', async () => {
    const editor = await createUser(agent, {
      login: 'editor1',
      email: 'editor1@example.com',
      role: 'editor',
      password: EDITOR_PASSWORD,
      displayName: 'Zoë Editor',
    });
    expect(editor.password).toBeNull();
    expect(editor.user).toMatchObject({
      login: 'editor1',
      email: 'editor1@example.com',
      displayName: 'Zoë Editor',
      roles: ['editor'],
    });
    expect(await logsIn('editor1', EDITOR_PASSWORD)).toBe(true);
    expect(await logsIn('editor1', 'wrong')).toBe(false);

    const generated = await createUser(agent, { login: 'reader', email: 'reader@example.com' });
    expect(generated.user.roles).toEqual(['subscriber']);
    expect(generated.password).toHaveLength(24);
    expect(await logsIn('reader', generated.password ?? '')).toBe(true);

    const before = await listUsers(agent);
    expect(before.users.map((u) => u.login)).toEqual(['admin', 'editor1', 'reader']);
    expect([before.total, before.limit]).toEqual([3, 1000]);
    expect(
      await failure(createUser(agent, { login: 'editor1', email: 'other@example.com' })),
    ).toEqual({ code: 'invalid', message: 'Sorry, that username already exists!' });
    expect(
      await failure(createUser(agent, { login: 'other', email: 'editor1@example.com' })),
    ).toEqual({ code: 'invalid', message: 'Sorry, that email address is already used!' });
    expect(
      await failure(createUser(agent, { login: 'other', email: 'o@example.com', role: 'boss' })),
    ).toEqual({
      code: 'invalid',
      message:
        "Role doesn't exist: boss. Valid roles: administrator, editor, author, contributor, subscriber.",
    });
    expect(await failure(createUser(agent, { login: 'other', email: 'not-an-email' }))).toEqual({
      code: 'invalid',
      message: 'Error: The email address is not correct.',
    });
    // WordPress's profile form refuses a backslash in a password; so does the agent.
    const backslash = {
      code: 'invalid',
      message: 'Error: Passwords may not contain the character "\\".',
    };
    expect(
      await failure(
        createUser(agent, { login: 'other', email: 'o@example.com', password: 'a\\b' }),
      ),
    ).toEqual(backslash);
    expect(await failure(resetPassword(agent, 'editor1', 'a\\b'))).toEqual(backslash);
    expect(await listUsers(agent)).toEqual(before);
    // The old password still works after the refused attempts.
    expect(await logsIn('editor1', EDITOR_PASSWORD)).toBe(true);
  });

  it('changes a role, and never leaves the site without an administrator', async () => {
    const change = await updateUserRole(agent, 'editor1', 'author');
    expect(change.previousRoles).toEqual(['editor']);
    expect(change.user.roles).toEqual(['author']);
    expect((await failure(updateUserRole(agent, 'admin', 'editor'))).message).toBe(
      'User "admin" is the site\'s last administrator: make another user an administrator first.',
    );
    expect(await failure(updateUserRole(agent, 1, 'nope'))).toMatchObject({ code: 'invalid' });
    const users = await listUsers(agent);
    expect(users.users.find((u) => u.login === 'admin')?.roles).toEqual(['administrator']);
  });

  it('resets a password: the old one stops working, the new one works', async () => {
    const reset = await resetPassword(agent, 'editor1', 'Second-pass-2');
    expect(reset.password).toBeNull();
    expect(await logsIn('editor1', EDITOR_PASSWORD)).toBe(false);
    expect(await logsIn('editor1', 'Second-pass-2')).toBe(true);
    // By e-mail, with a generated password answered once.
    const generated = await resetPassword(agent, 'reader@example.com');
    expect(generated.user.login).toBe('reader');
    expect(generated.password).toHaveLength(24);
    expect(await logsIn('reader', generated.password ?? '')).toBe(true);
  });

  it('deletes a user and gives their posts to another', async () => {
    const postAuthor = async (): Promise<number | undefined> => {
      const res = await siteRequest(
        serveUrl(),
        host,
        `/?rest_route=/wp/v2/posts/1&t=${Date.now()}`,
      );
      expect(res.status).toBe(200);
      return (JSON.parse(res.body) as { author?: number }).author;
    };
    expect(await postAuthor()).toBe(1);
    const boss = await createUser(agent, {
      login: 'boss',
      email: 'boss@example.com',
      role: 'administrator',
    });
    const deleted = await deleteUser(agent, 'admin', 'boss');
    expect(deleted).toEqual({
      deleted: expect.objectContaining({ id: 1, login: 'admin' }) as unknown,
      reassignedTo: boss.user.id,
    });
    expect(await postAuthor()).toBe(boss.user.id);
    // boss is now the only administrator.
    expect((await failure(deleteUser(agent, 'boss', 'editor1'))).message).toBe(
      'User "boss" is the site\'s last administrator and cannot be deleted.',
    );
    expect(await failure(deleteUser(agent, 'reader', 'reader'))).toMatchObject({
      code: 'invalid',
    });
    // Without reassign WordPress deletes the user's content with them (reader has none).
    expect((await deleteUser(agent, 'reader')).reassignedTo).toBeNull();
    expect((await listUsers(agent)).users.map((u) => u.login)).toEqual(['editor1', 'boss']);
  });

  it('answers not_found for a user that does not exist, and changes nothing', async () => {
    const before = await listUsers(agent);
    for (const call of [
      updateUserRole(agent, 'ghost', 'editor'),
      deleteUser(agent, 999),
      deleteUser(agent, 'editor1', 'ghost'),
      resetPassword(agent, 'ghost@example.com'),
    ]) {
      expect((await failure(call)).code).toBe('not_found');
    }
    expect(await failure(updateUserRole(agent, 'ghost', 'editor'))).toEqual({
      code: 'not_found',
      message: 'No user "ghost".',
    });
    expect(await listUsers(agent)).toEqual(before);
  });

  it('reads and writes options by name, never the agent own records', async () => {
    const read = await getOptions(agent, ['blogname', 'no_such_option', 'active_plugins']);
    expect(read.values).toMatchObject({ blogname: 'invusers' });
    expect(read.missing).toEqual(['no_such_option']);
    const written = await setOptions(agent, {
      blogdescription: 'Set by wpfleet',
      blogname: 'invusers',
    });
    expect(written.changed).toEqual(['blogdescription']);
    expect(written.values).toEqual({ blogdescription: 'Set by wpfleet', blogname: 'invusers' });
    expect(written.previous).toEqual({
      blogdescription: '',
      blogname: 'invusers',
    });
    const added = await setOptions(agent, { wpfleet_test_option: { list: [1, 'two'] } });
    expect(added).toEqual({
      values: { wpfleet_test_option: { list: [1, 'two'] } },
      previous: {},
      changed: ['wpfleet_test_option'],
    });
    expect(await failure(getOptions(agent, ['wpfleet_agent_nonce_x']))).toMatchObject({
      code: 'invalid',
    });
    expect(
      await failure(setOptions(agent, { blogdescription: 'no', wpfleet_agent_login_x: '1' })),
    ).toMatchObject({ code: 'invalid' });
    expect((await getOptions(agent, ['blogdescription'])).values).toEqual({
      blogdescription: 'Set by wpfleet',
    });
  });

  it('upgrades a database left at an older version to the release', async () => {
    const { core } = await getInventory(agent);
    await setOptions(agent, { db_version: 51917 });
    const lowered = await getInventory(agent);
    expect(lowered.core).toMatchObject({ dbVersionStored: 51917, dbUpgradeNeeded: true });
    const upgrade = await upgradeDatabase(agent);
    expect(upgrade).toEqual({
      dbVersionBefore: 51917,
      dbVersionAfter: core.dbVersion,
      upgraded: true,
      wordpressVersion: install.wp_version,
    });
    expect((await getInventory(agent)).core.dbUpgradeNeeded).toBe(false);
    expect(await upgradeDatabase(agent)).toMatchObject({ upgraded: false });
    // The site still serves, with its data.
    const home = await siteRequest(serveUrl(), host, '/?after-upgrade', {
      headers: { 'cache-control': 'no-cache' },
    });
    expect(home.status).toBe(200);
    expect(home.body).toContain('Set by wpfleet');
  });
});
