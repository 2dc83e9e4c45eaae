import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type ConfigFlags } from '../../src/config.js';
import { ensureBuilt, runCli } from '../helpers/cli.js';

/** The ConfigError that loading throws; fails the test when it throws something else or nothing. */
function configError(flags: ConfigFlags, env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(flags, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('loadConfig accepted a bad value');
}

describe('loadConfig', () => {
  it('has defaults for everything', () => {
    const c = loadConfig({}, {});
    const dataDir = path.resolve('./data');
    expect(c.port).toBe(8080);
    expect(c.host).toBe('127.0.0.1');
    expect(c.dataDir).toBe(dataDir);
    expect(path.isAbsolute(c.dataDir)).toBe(true);
    expect(c.database).toEqual({ kind: 'sqlite', file: path.join(dataDir, 'wpfleet.sqlite') });
    expect(c.baseDomain).toBe('localhost');
    expect(c.trustProxy).toBe(false);
    expect(c.rateLimits).toEqual({ accountPerHour: 1000, ipPerMinute: 100 });
  });

  it('reads the environment', () => {
    const c = loadConfig(
      {},
      {
        WPFLEET_PORT: '9001',
        WPFLEET_HOST: '0.0.0.0',
        WPFLEET_DATA: 'some/dir',
        WPFLEET_BASE_DOMAIN: 'Example.COM',
        WPFLEET_TRUST_PROXY: 'yes',
        WPFLEET_RATE_LIMIT_ACCOUNT_HOUR: '0',
        WPFLEET_RATE_LIMIT_IP_MINUTE: '7',
      },
    );
    expect(c.port).toBe(9001);
    expect(c.host).toBe('0.0.0.0');
    expect(c.dataDir).toBe(path.resolve('some/dir'));
    expect(c.database).toEqual({
      kind: 'sqlite',
      file: path.join(path.resolve('some/dir'), 'wpfleet.sqlite'),
    });
    expect(c.baseDomain).toBe('example.com');
    expect(c.trustProxy).toBe(true);
    expect(c.rateLimits).toEqual({ accountPerHour: 0, ipPerMinute: 7 });
  });

  it('lets flags override the environment', () => {
    const env = {
      WPFLEET_PORT: '9001',
      WPFLEET_HOST: '0.0.0.0',
      WPFLEET_DATA: '/env/data',
      WPFLEET_BASE_DOMAIN: 'env.example',
      WPFLEET_TRUST_PROXY: 'false',
      DATABASE_URL: 'postgres://env@db.example/env',
    };
    const c = loadConfig(
      {
        port: '9002',
        host: '::1',
        data: '/flag/data',
        baseDomain: 'flag.example',
        trustProxy: true,
        databaseUrl: 'sqlite:/flag/store.sqlite',
      },
      env,
    );
    expect(c.port).toBe(9002);
    expect(c.host).toBe('::1');
    expect(c.dataDir).toBe(path.resolve('/flag/data'));
    expect(c.baseDomain).toBe('flag.example');
    expect(c.trustProxy).toBe(true);
    expect(c.database).toEqual({ kind: 'sqlite', file: path.resolve('/flag/store.sqlite') });
  });

  it('puts the default SQLite file in the data directory given by a flag', () => {
    const c = loadConfig({ data: '/srv/wpfleet' }, { WPFLEET_DATA: '/elsewhere' });
    expect(c.database).toEqual({
      kind: 'sqlite',
      file: path.join(path.resolve('/srv/wpfleet'), 'wpfleet.sqlite'),
    });
  });

  it('selects PostgreSQL for a postgres:// or postgresql:// DATABASE_URL', () => {
    const url = 'postgres://wp@127.0.0.1:5432/fleet';
    expect(loadConfig({}, { DATABASE_URL: url }).database).toEqual({ kind: 'postgres', url });
    const url2 = 'postgresql://wp@127.0.0.1/fleet';
    expect(loadConfig({}, { DATABASE_URL: url2 }).database).toEqual({
      kind: 'postgres',
      url: url2,
    });
    expect(loadConfig({ databaseUrl: url }, {}).database).toEqual({ kind: 'postgres', url });
  });

  it('logs notification e-mails from wpfleet@<base domain> unless SMTP is set', () => {
    expect(loadConfig({}, {}).mail).toEqual({ smtpUrl: null, from: 'wpfleet@localhost' });
    expect(loadConfig({ baseDomain: 'hosting.example.com' }, {}).mail.from).toBe(
      'wpfleet@hosting.example.com',
    );
    expect(loadConfig({}, { WPFLEET_SMTP_URL: ' ', WPFLEET_MAIL_FROM: '' }).mail).toEqual({
      smtpUrl: null,
      from: 'wpfleet@localhost',
    });
  });

  it('bounds the PHP queue wait, 30 s unless set', () => {
    expect(loadConfig({}, {}).php.queueSeconds).toBe(30);
    expect(loadConfig({}, { WPFLEET_PHP_QUEUE_SECONDS: '5' }).php.queueSeconds).toBe(5);
  });

  it('reads the SMTP URL and the From address', () => {
    const mail = loadConfig(
      {},
      {
        WPFLEET_SMTP_URL: 'smtps://relay%40example.com:s3cr%2Ft@mail.example.com:465',
        WPFLEET_MAIL_FROM: 'Fleet backups <backups@example.com>',
      },
    ).mail;
    expect(mail).toEqual({
      smtpUrl: 'smtps://relay%40example.com:s3cr%2Ft@mail.example.com:465',
      from: 'Fleet backups <backups@example.com>',
    });
    expect(loadConfig({}, { WPFLEET_SMTP_URL: 'smtp://127.0.0.1:2525' }).mail.smtpUrl).toBe(
      'smtp://127.0.0.1:2525',
    );
    expect(loadConfig({}, { WPFLEET_MAIL_FROM: 'ops@example.com' }).mail.from).toBe(
      'ops@example.com',
    );
  });

  it('never repeats the SMTP URL, which holds a password, in its error', () => {
    const err = configError({}, { WPFLEET_SMTP_URL: 'http://user:hunter2@mail.example.com' });
    expect(err.setting).toBe('WPFLEET_SMTP_URL');
    expect(err.message).not.toContain('hunter2');
  });

  it('opens no private network to PHP unless told, and reads the blocks it is told', () => {
    expect(loadConfig({ data: '/d' }, {}).php.networkAllow).toEqual([]);
    expect(
      loadConfig({ data: '/d' }, { WPFLEET_PHP_NETWORK_ALLOW: '10.0.5.0/24, fd00::/8,127.0.0.1' })
        .php.networkAllow,
    ).toEqual(['10.0.5.0/24', 'fd00::/8', '127.0.0.1']);
  });

  it("keeps the machine cache outside the data directory, in the user's cache folder", () => {
    const data = { data: '/srv/a' };
    expect(loadConfig(data, { HOME: '/home/ann' }).cacheDir).toBe('/home/ann/.cache/wpfleet');
    expect(loadConfig({ data: '/srv/b' }, { HOME: '/home/ann' }).cacheDir).toBe(
      '/home/ann/.cache/wpfleet',
    );
    expect(loadConfig(data, { HOME: '/home/ann', XDG_CACHE_HOME: '/var/cache/ann' }).cacheDir).toBe(
      '/var/cache/ann/wpfleet',
    );
    // The XDG spec says to ignore a relative path.
    expect(loadConfig(data, { HOME: '/home/ann', XDG_CACHE_HOME: 'cache' }).cacheDir).toBe(
      '/home/ann/.cache/wpfleet',
    );
    expect(
      loadConfig(data, { HOME: '/home/ann', XDG_CACHE_HOME: '/x', WPFLEET_CACHE_DIR: 'c' })
        .cacheDir,
    ).toBe(path.resolve('c'));
    expect(loadConfig(data, {}).cacheDir).toBe(path.join(os.homedir(), '.cache', 'wpfleet'));
  });

  it("runs installs' cron every 20 s, 2 at a time, each waited for 60 s; 0 turns it off", () => {
    expect(loadConfig({}, {}).cron).toEqual({
      intervalSeconds: 20,
      concurrency: 2,
      timeoutSeconds: 60,
    });
    expect(
      loadConfig(
        {},
        { WPFLEET_CRON_INTERVAL: '0', WPFLEET_CRON_CONCURRENCY: '4', WPFLEET_CRON_TIMEOUT: '30' },
      ).cron,
    ).toEqual({ intervalSeconds: 0, concurrency: 4, timeoutSeconds: 30 });
    expect(configError({}, { WPFLEET_CRON_INTERVAL: 'often' }).setting).toBe(
      'WPFLEET_CRON_INTERVAL',
    );
    expect(configError({}, { WPFLEET_CRON_CONCURRENCY: '0' }).setting).toBe(
      'WPFLEET_CRON_CONCURRENCY',
    );
    // The agent is given 10 s less than the scheduler waits: less than 15 leaves it too little.
    expect(configError({}, { WPFLEET_CRON_TIMEOUT: '10' }).setting).toBe('WPFLEET_CRON_TIMEOUT');
  });

  it('treats an empty DATABASE_URL as unset', () => {
    expect(loadConfig({ data: '/d' }, { DATABASE_URL: '' }).database.kind).toBe('sqlite');
  });

  describe('refuses bad values with a ConfigError naming the setting', () => {
    it.each([
      ['a flag port that is not a number', { port: 'abc' }, {}, '--port'],
      ['a flag port above 65535', { port: '70000' }, {}, '--port'],
      ['a negative flag port', { port: '-1' }, {}, '--port'],
      ['an environment port that is not a number', {}, { WPFLEET_PORT: 'abc' }, 'WPFLEET_PORT'],
      ['an environment port above 65535', {}, { WPFLEET_PORT: '70000' }, 'WPFLEET_PORT'],
      ['a DATABASE_URL of another scheme', {}, { DATABASE_URL: 'mysql://x@y/z' }, 'DATABASE_URL'],
      ['a --database-url of another scheme', { databaseUrl: 'mysql://x/z' }, {}, '--database-url'],
      ['an empty sqlite: DATABASE_URL', {}, { DATABASE_URL: 'sqlite:' }, 'DATABASE_URL'],
      ['a flag base domain with a space', { baseDomain: 'not a domain' }, {}, '--base-domain'],
      ['a base domain with a leading dash', { baseDomain: '-bad.example' }, {}, '--base-domain'],
      [
        'an environment base domain with an underscore',
        {},
        { WPFLEET_BASE_DOMAIN: 'bad_domain.example' },
        'WPFLEET_BASE_DOMAIN',
      ],
      ['an undecided trust proxy', {}, { WPFLEET_TRUST_PROXY: 'maybe' }, 'WPFLEET_TRUST_PROXY'],
      ['an empty host', { host: '' }, {}, '--host'],
      [
        'a rate limit that is not a number',
        {},
        { WPFLEET_RATE_LIMIT_IP_MINUTE: 'lots' },
        'WPFLEET_RATE_LIMIT_IP_MINUTE',
      ],
      [
        'a negative account rate limit',
        {},
        { WPFLEET_RATE_LIMIT_ACCOUNT_HOUR: '-5' },
        'WPFLEET_RATE_LIMIT_ACCOUNT_HOUR',
      ],
      ['an unknown PHP version', {}, { WPFLEET_PHP_VERSION: '5.6' }, 'WPFLEET_PHP_VERSION'],
      ['an unknown log level', {}, { WPFLEET_LOG_LEVEL: 'loud' }, 'WPFLEET_LOG_LEVEL'],
      [
        'a PHP queue wait of 0',
        {},
        { WPFLEET_PHP_QUEUE_SECONDS: '0' },
        'WPFLEET_PHP_QUEUE_SECONDS',
      ],
      [
        'a PHP queue wait that is no number',
        {},
        { WPFLEET_PHP_QUEUE_SECONDS: 'soon' },
        'WPFLEET_PHP_QUEUE_SECONDS',
      ],
      [
        'an SMTP URL that is not a URL',
        {},
        { WPFLEET_SMTP_URL: 'mail.example.com' },
        'WPFLEET_SMTP_URL',
      ],
      [
        'an SMTP URL of another scheme',
        {},
        { WPFLEET_SMTP_URL: 'http://mail.example.com' },
        'WPFLEET_SMTP_URL',
      ],
      ['an SMTP URL without a host', {}, { WPFLEET_SMTP_URL: 'smtp:relay' }, 'WPFLEET_SMTP_URL'],
      ['a From that is no address', {}, { WPFLEET_MAIL_FROM: 'backups' }, 'WPFLEET_MAIL_FROM'],
      [
        'a From with a bad address',
        {},
        { WPFLEET_MAIL_FROM: 'Fleet <a b@c>' },
        'WPFLEET_MAIL_FROM',
      ],
      [
        'a PHP network block that is a name',
        {},
        { WPFLEET_PHP_NETWORK_ALLOW: '10.0.0.0/8, redis.internal' },
        'WPFLEET_PHP_NETWORK_ALLOW',
      ],
      [
        'a PHP network block with a prefix too long',
        {},
        { WPFLEET_PHP_NETWORK_ALLOW: '10.0.0.0/33' },
        'WPFLEET_PHP_NETWORK_ALLOW',
      ],
      [
        'a From spread over two lines',
        {},
        { WPFLEET_MAIL_FROM: 'Fleet\r\nBcc: x@y.z <a@b.c>' },
        'WPFLEET_MAIL_FROM',
      ],
    ] satisfies [string, ConfigFlags, NodeJS.ProcessEnv, string][])(
      '%s',
      (_label, flags, env, setting) => {
        const err = configError(flags, env);
        expect(err.setting).toBe(setting);
        expect(err.message).toContain(setting);
      },
    );

    it('names the flag, not the environment variable, when the flag is the bad one', () => {
      const err = configError({ port: 'abc' }, { WPFLEET_PORT: '8081' });
      expect(err.setting).toBe('--port');
    });
  });
});

describe('wpfleet serve with a bad flag', () => {
  beforeAll(async () => {
    await ensureBuilt();
  }, 120_000);

  it('exits non-zero with exactly one line on stderr naming --port', async () => {
    // A data directory of its own, so that nothing could touch ./data even if it started.
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'wpfleet-config-'));
    const r = await runCli(['serve', '--port', 'abc'], {
      WPFLEET_DATA: data,
      WPFLEET_LOG_LEVEL: 'silent',
    }).finally(() => {
      fs.rmSync(data, { recursive: true, force: true });
    });
    expect(r.code).not.toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('--port');
    expect(r.stdout).toBe('');
  }, 30_000);
});
