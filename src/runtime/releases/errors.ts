import { UnavailableError } from '../../core/errors.js';

export type ReleaseErrorCode =
  /** A source cannot be reached or is not installed on this machine. */
  | 'unreachable'
  /** A source does not have the version asked for; another source may. */
  | 'not_offered'
  /** Files do not match their published checksums. */
  | 'checksum_mismatch'
  /** Nothing to verify against, and the operator did not allow an unverified release. */
  | 'unverifiable'
  /** No release is stored and no source could add one. */
  | 'no_release'
  /** What was given is not a (complete) WordPress, or a version is malformed. */
  | 'invalid'
  | 'in_use';

/**
 * Why a release could not be had. It is an UnavailableError so the API dialects already map it
 * (a provision that finds no release is "service unavailable"), and the CLI prints its message
 * as one line.
 */
export class ReleaseError extends UnavailableError {
  constructor(
    readonly code: ReleaseErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ReleaseError';
  }
}
