import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type ServeProcess } from '../helpers/cli.js';
import { startHosted, type Hosted, type HostedInstall } from '../helpers/hosted.js';
import { waitFor } from '../helpers/site.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js';

interface BackupBody {
  id: string;
  status: string;
  wordpress_version: string | null;
}

/**
 * A backup of a real WordPress install requested through the WP Engine API with two
 * notification e-mails: `wpfleet serve`, given WPFLEET_SMTP_URL, tells both through a real SMTP
 * server on loopback that requires a login; restarted without it, the server logs the message.
 * One install serves both.
 */
describe('backup notification e-mails over SMTP', () => {
  let sink: SmtpSink;
  let hosted: Hosted | undefined;
  let install: HostedInstall;
  /** The server restarted without SMTP, once the SMTP test has run. */
  let plain: ServeProcess | undefined;

  const h = (): Hosted => {
    if (hosted === undefined) throw new Error('wpfleet serve did not start');
    return hosted;
  };

  beforeAll(async () => {
    sink = await startSmtpSink({ user: 'fleet', password: 'relay secret' });
    hosted = await startHosted({
      WPFLEET_SMTP_URL: sink.url,
      WPFLEET_MAIL_FROM: 'Fleet backups <backups@fleet.example.com>',
    });
    const made = await h().api<HostedInstall>('POST', '/v1/installs', {
      name: 'bkmail',
      account_id: h().accountId,
    });
    expect(made.status).toBe(201);
    install = await h().waitActive(made.body.id);
  });

  afterAll(async () => {
    await plain?.stop();
    await hosted?.stop();
    await sink.close();
  });

  async function completedBackup(baseUrl: string, emails: string[]): Promise<BackupBody> {
    const call = async (method: string, path: string, body?: unknown): Promise<BackupBody> => {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          authorization: h().auth,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return (await res.json()) as BackupBody;
    };
    const created = await call('POST', `/v1/installs/${install.id}/backups`, {
      description: 'Before the plugin update',
      notification_emails: emails,
    });
    expect(created.status).toBe('requested');
    return waitFor(
      'the backup to complete',
      async () => {
        const b = await call('GET', `/v1/installs/${install.id}/backups/${created.id}`);
        if (b.status === 'failed') throw new Error('the backup failed');
        return b.status === 'completed' ? b : undefined;
      },
      120_000,
      100,
    );
  }

  it('sends "Backup of <install> completed" to both recipients once the backup completes', async () => {
    const backup = await completedBackup(h().serve.url, [
      'owner@example.com',
      'developer@example.net',
    ]);

    const [mail] = await sink.waitForMessages(1);
    expect(mail?.user).toBe('fleet');
    expect(mail?.envelopeFrom).toBe('backups@fleet.example.com');
    expect(mail?.envelopeTo).toEqual(['owner@example.com', 'developer@example.net']);
    expect(mail?.headers.from).toBe('Fleet backups <backups@fleet.example.com>');
    expect(mail?.headers.to).toBe('owner@example.com, developer@example.net');
    expect(mail?.headers['auto-submitted']).toBe('auto-generated');
    expect(mail?.subject).toBe('Backup of bkmail completed');
    expect(mail?.text).toContain('The backup of bkmail completed.');
    expect(mail?.text).toMatch(new RegExp(`^Backup ID: +${backup.id}$`, 'm'));
    expect(mail?.text).toMatch(/^Description: +Before the plugin update$/m);
    expect(mail?.text).toMatch(/^Status: +completed$/m);
    expect(mail?.text).toMatch(/^Size: +[\d.]+ [kMG]B \([\d,]+ bytes\)$/m);
    expect(mail?.text).toMatch(/^Duration: +\d/m);
    expect(mail?.text).toMatch(
      new RegExp(`^WordPress: +${backup.wordpress_version ?? 'none'}$`, 'm'),
    );
    expect(mail?.text).toContain(`npx wpfleet backups restore bkmail ${backup.id}`);
  });

  it('logs the message instead when the server runs without SMTP', async () => {
    await h().serve.stop();
    const env: Record<string, string> = { ...h().store.env, WPFLEET_LOG_LEVEL: 'info' };
    delete env.WPFLEET_SMTP_URL;
    plain = await startServe(env);
    let log = '';
    plain.child.stdout?.on('data', (d: string) => (log += d));
    // The first server sent exactly one message for its backup, and nothing else.
    const before = sink.received.length;
    expect(before).toBe(1);

    const backup = await completedBackup(plain.url, ['owner@example.com']);
    const line = await waitFor(
      'the notification to be logged',
      () =>
        Promise.resolve(
          log
            .split('\n')
            .slice(0, -1) // the last piece may be a line still arriving
            .filter((l) => l.startsWith('{'))
            .map((l) => JSON.parse(l) as { msg?: string; to?: string[]; subject?: string })
            .find((l) => l.msg?.startsWith('e-mail not sent') === true),
        ),
      30_000,
      100,
    );
    expect(line).toEqual(
      expect.objectContaining({
        msg: 'e-mail not sent (no WPFLEET_SMTP_URL): Backup of bkmail completed',
        to: ['owner@example.com'],
        subject: 'Backup of bkmail completed',
      }),
    );
    expect(backup.status).toBe('completed');
    expect(sink.received.length).toBe(before);
  });
});
