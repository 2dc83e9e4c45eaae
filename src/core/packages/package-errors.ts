import { NotFoundError, UnavailableError, ValidationError } from '../errors.js';
import type { PackageKind } from './package-source.js';

/**
 * The errors of package sources. Each extends the core error an API dialect already maps (not
 * found, invalid value, unavailable), and carries a `code` for callers that tell them apart.
 * Messages follow WordPress's and WP-CLI's wording where they have one.
 */
export type PackageErrorCode =
  'unknown_slug' | 'unknown_version' | 'broken_package' | 'refused_url' | 'unreachable';

/** No source knows the slug. */
export class UnknownPackageError extends NotFoundError {
  readonly code = 'unknown_slug';
  constructor(
    readonly packageKind: PackageKind,
    readonly slug: string,
    message: string,
  ) {
    super(packageKind === 'plugin' ? 'Plugin' : 'Theme');
    this.name = 'UnknownPackageError';
    this.message = message;
  }
}

/** The source knows the slug but not that version; `available` lists what it has. */
export class UnknownPackageVersionError extends ValidationError {
  readonly code = 'unknown_version';
  constructor(
    readonly packageKind: PackageKind,
    readonly slug: string,
    readonly version: string,
    readonly available: string[],
    message: string,
  ) {
    super(packageKind === 'plugin' ? 'Plugin' : 'Theme', [
      {
        resource: packageKind === 'plugin' ? 'Plugin' : 'Theme',
        field: 'version',
        type: 'value_unavailable',
        code: 'unknown_version',
        message,
      },
    ]);
    this.name = 'UnknownPackageVersionError';
    this.message = message;
  }
}

/** Not a zip, or a zip that holds no plugin (or theme) as WordPress would install it. */
export class BrokenPackageError extends ValidationError {
  readonly code = 'broken_package';
  constructor(message: string) {
    super('Package', [
      { resource: 'Package', field: 'package', type: 'invalid_value', code: 'broken', message },
    ]);
    this.name = 'BrokenPackageError';
    this.message = message;
  }
}

/** A URL the fetch policy does not take (scheme, address, size, or it failed to download). */
export class RefusedUrlError extends ValidationError {
  readonly code = 'refused_url';
  constructor(
    readonly url: string,
    message: string,
  ) {
    super('Package', [
      { resource: 'Package', field: 'url', type: 'invalid_value', code: 'refused', message },
    ]);
    this.name = 'RefusedUrlError';
    this.message = message;
  }
}

/** A source that might know the answer cannot be reached (wordpress.org offline). */
export class PackageSourceUnavailableError extends UnavailableError {
  readonly code = 'unreachable';
  constructor(message: string) {
    super(message);
    this.name = 'PackageSourceUnavailableError';
  }
}
