/**
 * Progress of long work on stderr, so that stdout keeps only the answer (and `--json` stays
 * parseable): a bar redrawn in place on a terminal, one line per step otherwise.
 */
export class Progress {
  private readonly tty = process.stderr.isTTY;
  private last = '';

  constructor(
    private readonly title: string,
    private readonly total: number,
  ) {}

  update(done: number, label: string): void {
    const line = this.render(done, label);
    if (line === this.last) return;
    this.last = line;
    process.stderr.write(this.tty ? `\r\x1b[2K${line}` : `${line}\n`);
  }

  finish(): void {
    if (this.tty && this.last !== '') process.stderr.write('\n');
  }

  private render(done: number, label: string): string {
    const shown = Math.min(done, this.total);
    if (!this.tty) return `${this.title}: ${label} (${shown}/${this.total})`;
    const width = 24;
    const filled = Math.round((shown / Math.max(1, this.total)) * width);
    return `${this.title} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${shown}/${this.total} ${label}`;
  }
}
