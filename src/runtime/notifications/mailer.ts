import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import type { MailConfig } from '../../config.js';

/** One plain-text message; the sender is the mailer's (`WPFLEET_MAIL_FROM`). */
export interface MailMessage {
  to: string[];
  subject: string;
  text: string;
}

export interface Mailer {
  /** Rejects when the message could not be handed over; callers decide what that costs. */
  send(message: MailMessage): Promise<void>;
}

/** Headers of every message: they are automatic, so auto-responders must not answer them. */
const HEADERS = { 'Auto-Submitted': 'auto-generated' };

/**
 * Sends through one SMTP server, a connection per message (notifications are rare). Timeouts
 * are short so that an unreachable server holds a job for seconds, not the library's minutes;
 * the URL's query may still set any of them (`?socketTimeout=60000`).
 */
export class SmtpMailer implements Mailer {
  private readonly transport;

  constructor(
    url: string,
    private readonly from: string,
    private readonly log: Logger,
  ) {
    this.transport = nodemailer.createTransport({
      url,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
  }

  async send(message: MailMessage): Promise<void> {
    const info = await this.transport.sendMail({
      from: this.from,
      to: message.to,
      subject: message.subject,
      text: message.text,
      headers: HEADERS,
    });
    // The server takes the message if it accepts any recipient; the others are only reported.
    if (info.rejected.length > 0) {
      this.log.warn(
        { to: message.to, rejected: info.rejected, subject: message.subject },
        'the SMTP server refused some recipients of an e-mail',
      );
    }
    this.log.info(
      { to: info.accepted, subject: message.subject, messageId: info.messageId },
      'e-mail sent',
    );
  }
}

/** Without an SMTP server the operator still sees, in the log, what would have been sent. */
export class LogMailer implements Mailer {
  constructor(private readonly log: Logger) {}

  send(message: MailMessage): Promise<void> {
    this.log.info(
      { to: message.to, subject: message.subject },
      `e-mail not sent (no WPFLEET_SMTP_URL): ${message.subject}`,
    );
    return Promise.resolve();
  }
}

/** The server's mailer: SMTP when `WPFLEET_SMTP_URL` is set, the log otherwise. */
export function mailerFor(mail: MailConfig, log: Logger): Mailer {
  return mail.smtpUrl === null ? new LogMailer(log) : new SmtpMailer(mail.smtpUrl, mail.from, log);
}
