import { redactSecrets } from './uri.js';

export type StorageErrorCode =
  | 'not_found'
  | 'access_denied'
  | 'unreachable'
  | 'no_space'
  | 'invalid'
  | 'verification_failed'
  | 'aborted'
  | 'failed';

/** The storage setting a failure points at, when one does (an API error's `details[].path`). */
export type StorageField = 'path' | 'endpoint' | 'access_key_id' | 'access_key_secret';

/**
 * A storage operation that failed, worded for the person reading it:
 * `write "backup_set_1/data.1" on oss://bucket/prefix (http://host): the access key secret does not match`.
 * Never carries a secret: the message is redacted against the storage's secret before it is built.
 */
export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    /** The storage's label (`file:///path`, `oss://bucket/prefix (endpoint)`). */
    readonly storage: string,
    readonly operation: string,
    /** The object key or path concerned, when there is one. */
    readonly path: string | undefined,
    readonly reason: string,
    secrets: readonly string[] = [],
  ) {
    super(redactSecrets(`${operation}${path !== undefined ? ` "${path}"` : ''} on ${storage} failed: ${reason}`, secrets));
    this.name = 'StorageError';
  }

  /** Which setting is at fault, when the failure says (a wrong secret, an unknown bucket, …). */
  field?: StorageField;
}
