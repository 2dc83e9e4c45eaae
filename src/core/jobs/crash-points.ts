/**
 * A test hook, not a setting: when `WPFLEET_CRASH_AT` names a step of a long job, the process
 * kills itself with SIGKILL the moment that step is done and recorded, so a test reproduces a
 * `kill -9` at exactly that point and checks what a restart makes of it. Unset, it costs one
 * string comparison.
 */
const crashAt = process.env.WPFLEET_CRASH_AT;

export function crashPoint(step: string): void {
  if (crashAt === undefined || crashAt !== step) return;
  process.stderr.write(`WPFLEET_CRASH_AT=${step}: killing this process (test hook)\n`);
  process.kill(process.pid, 'SIGKILL');
}
