import { ConfigError } from '../config.js';
import { DomainError, ValidationError } from '../core/errors.js';

/** A command-line mistake, reported as one line without a stack. */
export class CliError extends Error {}

/** Prints an error the way a user of the command should see it and returns the exit code. */
export function reportError(err: unknown): number {
  if (err instanceof ConfigError) {
    console.error(`wpfleet: ${err.message}`);
    return 2;
  }
  if (err instanceof CliError) {
    console.error(`wpfleet: ${err.message}`);
    return 2;
  }
  if (err instanceof ValidationError) {
    console.error(`wpfleet: ${err.issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
    return 1;
  }
  if (err instanceof DomainError) {
    console.error(`wpfleet: ${err.message}`);
    return 1;
  }
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  return 1;
}
