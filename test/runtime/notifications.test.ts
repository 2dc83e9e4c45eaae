import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { BackupRow } from '../../src/core/backups/backups.repository.js';
import { backupManagerFor } from '../../src/runtime/backups/backups.js';
import { AGENT_FILE } from '../../src/runtime/agent/agent-file.js';
import {
  backupNotice,
  formatDuration,
  formatSize,
} from '../../src/runtime/notifications/backup-notice.js';
import { backupNotifier, recipientsOf } from '../../src/runtime/notifications/backup-notifier.js';
import {
  LogMailer,
  mailerFor,
  SmtpMailer,
  type Mailer,
  type MailMessage,
} from '../../src/runtime/notifications/mailer.js';
import { WasmRuntime } from '../../src/runtime/php/wasm/pool.js';
import { Provisioner } from '../../src/runtime/provision/provisioner.js';
import { releaseProvider } from '../../src/runtime/release-provider.js';
import { startHarness, type Harness, type Tenant } from '../helpers/harness.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js';

/** A pino logger whose lines the test can read. */
function capturedLog(): { log: pino.Logger; lines: () => Record<string, unknown>[] } {
  const raw: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void raw.push(line) });
  return {
    log,
    lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const FROM = 'Backups <backups@fleet.example.com>';

describe('the SMTP mailer', () => {
  let sink: SmtpSink;

  beforeAll(async () => {
    sink = await startSmtpSink({ user: 'relay@fleet.example.com', password: 'p@ss:w/rd' });
  });
  afterAll(async () => {
    await sink.close();
  });

  it('logs in with the URL credentials and delivers envelope, headers, subject and body', async () => {
    const { log, lines } = capturedLog();
    const mailer = new SmtpMailer(sink.url, FROM, log);
    const text = 'Première ligne — accents and a long line.\n'.repeat(5) + '.a line with a dot\n';
    await mailer.send({
      to: ['one@example.com', 'two@example.org'],
      subject: 'Backup of café completed',
      text,
    });

    const [mail] = await sink.waitForMessages(1);
    expect(mail?.user).toBe('relay@fleet.example.com');
    expect(mail?.secure).toBe(false);
    expect(mail?.envelopeFrom).toBe('backups@fleet.example.com');
    expect(mail?.envelopeTo).toEqual(['one@example.com', 'two@example.org']);
    expect(mail?.headers.from).toBe('Backups <backups@fleet.example.com>');
    expect(mail?.headers.to).toBe('one@example.com, two@example.org');
    expect(mail?.headers['auto-submitted']).toBe('auto-generated');
    expect(mail?.subject).toBe('Backup of café completed');
    expect(mail?.text.trimEnd()).toBe(text.trimEnd());
    expect(lines().find((l) => l.msg === 'e-mail sent')).toMatchObject({
      to: ['one@example.com', 'two@example.org'],
      subject: 'Backup of café completed',
    });
  });

  it('rejects when the server refuses the login', async () => {
    const { log } = capturedLog();
    const wrong = sink.url.replace(/:[^:@/]+@/, ':wrong@');
    expect(wrong).not.toBe(sink.url);
    await expect(
      new SmtpMailer(wrong, FROM, log).send({ to: ['a@example.com'], subject: 's', text: 't' }),
    ).rejects.toThrow(/535|Invalid/);
  });
});

describe('the SMTP mailer over implicit TLS (smtps://)', () => {
  it('delivers over TLS; the URL query reaches the TLS options', async () => {
    const sink = await startSmtpSink({ secure: true });
    try {
      // smtp-server's certificate is self-signed: the operator's way to accept one is the URL.
      const url = `${sink.url}?tls.rejectUnauthorized=false`;
      await new SmtpMailer(url, 'wpfleet@localhost', capturedLog().log).send({
        to: ['tls@example.com'],
        subject: 'over TLS',
        text: 'sealed',
      });
      const [mail] = await sink.waitForMessages(1);
      expect(mail?.secure).toBe(true);
      expect(mail?.envelopeFrom).toBe('wpfleet@localhost');
      expect(mail?.envelopeTo).toEqual(['tls@example.com']);
      expect(mail?.text.trimEnd()).toBe('sealed');
    } finally {
      await sink.close();
    }
  });
});

describe('the log mailer', () => {
  it('writes the recipients and subject through the logger and sends nothing', async () => {
    const { log, lines } = capturedLog();
    await new LogMailer(log).send({
      to: ['a@example.com', 'b@example.com'],
      subject: 'Backup of shop completed',
      text: 'body',
    });
    const [line] = lines();
    expect(line).toMatchObject({
      level: 30,
      to: ['a@example.com', 'b@example.com'],
      subject: 'Backup of shop completed',
      msg: 'e-mail not sent (no WPFLEET_SMTP_URL): Backup of shop completed',
    });
  });

  it('is the server mailer when no SMTP URL is set, SMTP otherwise', () => {
    const { log } = capturedLog();
    const unset = loadConfig({ data: '/tmp/x' }, {});
    expect(mailerFor(unset.mail, log)).toBeInstanceOf(LogMailer);
    const set = loadConfig({ data: '/tmp/x' }, { WPFLEET_SMTP_URL: 'smtp://127.0.0.1:2525' });
    expect(mailerFor(set.mail, log)).toBeInstanceOf(SmtpMailer);
  });
});

describe('the backup notice', () => {
  const base: BackupRow = {
    id: '7d0b4c3e-1111-4222-8333-944455556666',
    account_id: 'a',
    install_id: 'i',
    status: 'completed',
    description: 'Before the theme update',
    notification_emails: '["a@example.com"]',
    wordpress_version: '6.1.9',
    created_at: '2026-03-01T10:00:00.000Z',
    completed_at: '2026-03-01T10:00:03.400Z',
    size_bytes: 1_432_113,
    error: null,
  };

  it('says a completed backup completed, with its id, description, size and duration', () => {
    const n = backupNotice(base, 'shop', new Date());
    expect(n.subject).toBe('Backup of shop completed');
    expect(n.text).toContain('The backup of shop completed.');
    expect(n.text).toMatch(/^Backup ID: +7d0b4c3e-1111-4222-8333-944455556666$/m);
    expect(n.text).toMatch(/^Description: +Before the theme update$/m);
    expect(n.text).toMatch(/^Status: +completed$/m);
    expect(n.text).toMatch(/^Duration: +3\.4 s$/m);
    expect(n.text).toMatch(/^Size: +1\.4 MB \(1,432,113 bytes\)$/m);
    expect(n.text).toMatch(/^WordPress: +6\.1\.9$/m);
    expect(n.text).toContain(
      'npx wpfleet backups restore shop 7d0b4c3e-1111-4222-8333-944455556666',
    );
    expect(n.text).not.toContain('Error');
  });

  it('says a failed backup failed, with the error and how long it ran', () => {
    const failed: BackupRow = {
      ...base,
      status: 'failed',
      completed_at: null,
      size_bytes: null,
      wordpress_version: null,
      error: 'not enough disk space: the backup needs up to 5 bytes',
    };
    const n = backupNotice(failed, 'shop', new Date('2026-03-01T10:02:05.000Z'));
    expect(n.subject).toBe('Backup of shop failed');
    expect(n.text).toContain('The backup of shop failed. The install itself was not changed.');
    expect(n.text).toMatch(/^Status: +failed$/m);
    expect(n.text).toMatch(/^Failed after: +2 min 05 s$/m);
    expect(n.text).toMatch(/^Error: +not enough disk space: the backup needs up to 5 bytes$/m);
    expect(n.text).not.toContain('Size:');
    expect(n.text).not.toContain('backups restore');
  });

  it('formats sizes and durations', () => {
    expect(formatSize(512)).toBe('512 bytes');
    expect(formatSize(52_428_800)).toBe('52.4 MB (52,428,800 bytes)');
    expect(formatDuration(400)).toBe('0.4 s');
    expect(formatDuration(42_300)).toBe('42 s');
    expect(formatDuration(3_725_000)).toBe('62 min 05 s');
  });

  it('reads the stored recipients, ignoring what is not a list of addresses', () => {
    expect(recipientsOf('["a@example.com","b@example.com","a@example.com"]')).toEqual([
      'a@example.com',
      'b@example.com',
    ]);
    expect(recipientsOf('[]')).toEqual([]);
    expect(recipientsOf('not json')).toEqual([]);
    expect(recipientsOf('{"a":1}')).toEqual([]);
  });
});

/**
 * The notifier and the backup job's hook over a real store and API (no WordPress): an install
 * that is still pending cannot be backed up, so its backup job fails at once, which is the
 * failure path end to end. The completion path runs against real WordPress in
 * test/e2e/backup-notifications.test.ts.
 */
describe('backup notifications from the store', () => {
  let h: Harness;
  let t: Tenant;
  let sink: SmtpSink;
  let installId: string;

  beforeAll(async () => {
    h = await startHarness('sqlite');
    t = await h.tenant();
    sink = await startSmtpSink();
    const install = await h.request<{ id: string }>('POST', '/v1/installs', {
      auth: t.auth,
      body: { name: 'notifyme', account_id: t.accountId },
    });
    expect(install.status).toBe(201);
    installId = install.body.id;
  });
  afterAll(async () => {
    await sink.close();
    await h.close();
  });

  async function requestBackup(emails: string[]): Promise<string> {
    const res = await h.request<{ id: string }>('POST', `/v1/installs/${installId}/backups`, {
      auth: t.auth,
      body: { description: 'nightly', notification_emails: emails },
    });
    expect(res.status).toBe(202);
    return res.body.id;
  }

  it('a backup job that fails sends "failed" with the reason to every recipient', async () => {
    const { log } = capturedLog();
    const config = h.app.config;
    const runtime = new WasmRuntime({ perInstall: 1, total: 1, idleMs: 1000, timeoutMs: 10_000 });
    const provisioner = new Provisioner({
      store: h.app.store,
      installs: h.app.services.installs,
      runtime,
      releases: releaseProvider(config),
      edge: {
        origin: (host) => `http://${host}`,
        get: () => Promise.reject(new Error('this test serves no sites')),
      },
      dataDir: config.dataDir,
      agentFile: AGENT_FILE,
      mysql: null,
      templatePhpVersion: config.defaultPhpVersion,
    });
    const notify = backupNotifier({
      store: h.app.store,
      mailer: new SmtpMailer(sink.url, 'wpfleet@localhost', log),
      log,
    });
    const manager = backupManagerFor(config, {
      store: h.app.store,
      runtime,
      provisioner,
      purgePages: () => Promise.resolve(),
      notify,
    });
    try {
      const backupId = await requestBackup(['owner@example.com', 'dev@example.com']);
      const [job] = await h.app.store.read.jobs.listForTarget(backupId);
      if (job === undefined) throw new Error('the backup queued no job');
      const before = sink.received.length;

      const result = await manager.runJob(job, 3);
      expect(result).toMatchObject({ status: 'failed' });
      const stored = await h.app.store.read.backups.findAny(backupId);
      expect(stored?.status).toBe('failed');

      const mail = (await sink.waitForMessages(before + 1))[before];
      expect(mail?.envelopeTo).toEqual(['owner@example.com', 'dev@example.com']);
      expect(mail?.subject).toBe('Backup of notifyme failed');
      expect(mail?.text).toMatch(new RegExp(`^Backup ID: +${backupId}$`, 'm'));
      expect(mail?.text).toMatch(/^Description: +nightly$/m);
      expect(mail?.text).toMatch(
        /^Error: +the install is not running, so it cannot be backed up$/m,
      );

      // A job that finds its backup already finished (a retry after a crash) sends nothing more.
      await manager.runJob(job, 3);
      expect(sink.received.length).toBe(before + 1);
    } finally {
      await runtime.close();
    }
  });

  it('sends nothing for a backup without recipients, such as a restore safety backup', async () => {
    const { log, lines } = capturedLog();
    const sent: MailMessage[] = [];
    const mailer: Mailer = {
      send: (m) => {
        sent.push(m);
        return Promise.resolve();
      },
    };
    const notify = backupNotifier({ store: h.app.store, mailer, log });
    const safety: BackupRow = {
      id: randomUUID(),
      account_id: t.accountId,
      install_id: installId,
      status: 'completed',
      description: 'Safety backup before restoring backup x',
      notification_emails: '[]',
      wordpress_version: '6.1.9',
      created_at: new Date().toISOString(),
      completed_at: new Date().toISOString(),
      size_bytes: 10,
      error: null,
    };
    await h.app.store.transaction((r) => r.backups.insert(safety));
    await notify(safety.id);
    expect(sent).toEqual([]);

    // The same backup with a recipient is sent: the silence above is the empty list's doing.
    const requested = await requestBackup(['x@example.com']);
    await notify(requested);
    expect(sent).toEqual([]);
    await h.app.store.transaction((r) =>
      r.backups.setStatus(requested, 'completed', { completed_at: new Date().toISOString() }),
    );
    await notify(requested);
    expect(sent.map((m) => [m.to, m.subject])).toEqual([
      [['x@example.com'], 'Backup of notifyme completed'],
    ]);
    expect(lines()).toEqual([]);
  });

  it('logs a failure to send and never rejects', async () => {
    const { log, lines } = capturedLog();
    const backupId = await requestBackup(['z@example.com']);
    await h.app.store.transaction((r) =>
      r.backups.setStatus(backupId, 'completed', { completed_at: new Date().toISOString() }),
    );
    // A server that wants a login the mailer gets wrong.
    const guarded = await startSmtpSink({ user: 'someone', password: 'secret' });
    try {
      const notify = backupNotifier({
        store: h.app.store,
        mailer: new SmtpMailer(
          guarded.url.replace(':secret@', ':guess@'),
          'wpfleet@localhost',
          log,
        ),
        log,
      });
      await expect(notify(backupId)).resolves.toBeUndefined();
      expect(guarded.received).toEqual([]);
    } finally {
      await guarded.close();
    }
    expect(lines().find((l) => l.level === 50)).toMatchObject({
      backupId,
      msg: 'the backup notification e-mail could not be sent',
    });
  });
});
