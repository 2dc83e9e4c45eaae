import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { waitFor } from './site.js';

/** One message as the SMTP server received it: envelope, login and the decoded text. */
export interface ReceivedMail {
  envelopeFrom: string;
  envelopeTo: string[];
  /** The user that logged in, if any. */
  user: string | undefined;
  /** Received over TLS. */
  secure: boolean;
  /** Header names in lower case; values unfolded, encoded words decoded. */
  headers: Record<string, string>;
  subject: string;
  /** The body, transfer encoding undone, with `\n` line ends. */
  text: string;
}

export interface SmtpSink {
  /** `smtp://user:password@127.0.0.1:port`, or `smtps://…` for a TLS sink. */
  url: string;
  received: ReceivedMail[];
  /** Waits (bounded) until at least `count` messages have arrived. */
  waitForMessages(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

export interface SmtpSinkOptions {
  /** Implicit TLS with smtp-server's own self-signed certificate. */
  secure?: boolean;
  user?: string;
  password?: string;
}

/** Undoes `=XX` escapes into bytes. */
function unescapeHex(value: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const hex = value.slice(i + 1, i + 3);
    if (value[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(value.charCodeAt(i));
    }
  }
  return Buffer.from(bytes);
}

/** RFC 2047 encoded words (`=?UTF-8?Q?…?=`, `=?UTF-8?B?…?=`), adjacent ones joined. */
function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[QqBb]\?[^?]*\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?[^?]+\?([QqBb])\?([^?]*)\?=/g, (_all, encoding: string, data: string) =>
      encoding.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : unescapeHex(data.replaceAll('_', ' ')).toString('utf8'),
    );
}

/** A single-part message, as nodemailer writes a plain-text one. */
export function parseMessage(raw: string): { headers: Record<string, string>; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split + 4);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) {
      headers[line.slice(0, colon).trim().toLowerCase()] = decodeWords(
        line.slice(colon + 1).trim(),
      );
    }
  }
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const bytes =
    encoding === 'quoted-printable'
      ? unescapeHex(body.replace(/=\r\n/g, ''))
      : encoding === 'base64'
        ? Buffer.from(body, 'base64')
        : Buffer.from(body, 'latin1');
  return { headers, text: bytes.toString('utf8').replace(/\r\n/g, '\n') };
}

/**
 * A real SMTP server on a loopback port that keeps what it receives. With a user it requires
 * that login (over plain text too, as a local relay would); without one it takes mail from
 * anyone. STARTTLS is off on a plain sink, so a client cannot upgrade to its self-signed
 * certificate and fail to verify it.
 */
export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const secure = options.secure ?? false;
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    secure,
    authOptional: options.user === undefined,
    allowInsecureAuth: true,
    disabledCommands: secure ? [] : ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === options.user && auth.password === options.password) {
        callback(null, { user: auth.username });
      } else {
        callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      }
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const { headers, text } = parseMessage(Buffer.concat(chunks).toString('latin1'));
        const from = session.envelope.mailFrom;
        received.push({
          envelopeFrom: from === false ? '' : from.address,
          envelopeTo: session.envelope.rcptTo.map((r) => r.address),
          user: typeof session.user === 'string' ? session.user : undefined,
          secure: session.secure,
          headers,
          subject: headers.subject ?? '',
          text,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve();
    });
  });
  const { port } = server.server.address() as AddressInfo;
  const login =
    options.user === undefined
      ? ''
      : `${encodeURIComponent(options.user)}:${encodeURIComponent(options.password ?? '')}@`;
  return {
    url: `${secure ? 'smtps' : 'smtp'}://${login}127.0.0.1:${port}`,
    received,
    waitForMessages: (count, timeoutMs = 30_000) =>
      waitFor(
        `${count} e-mail(s) to arrive`,
        () => Promise.resolve(received.length >= count ? received : undefined),
        timeoutMs,
        100,
      ),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}
