// Checksums of stored bytes. Copies are verified with xxh3 (64-bit, ~7 GB/s natively): it catches any
// accidental corruption and costs a fraction of a cryptographic hash, so verifying a copy end to end (the
// source's bytes against the target's) stays within reach of `cp`. MD5 is what OSS vouches for; sha256 is
// kept for callers that want a cryptographic digest.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { xxh3 } from '@node-rs/xxhash';
import type { DigestAlgorithm } from './types.js';

export interface Checksum {
  update(chunk: Uint8Array): void;
  /** Lower-case hex; xxh3 as 16 digits. */
  digest(): string;
}

/** xxh3's 64-bit value as 16 lower-case hex digits (the same text the digest workers produce). */
export function xxh3Hex(value: bigint): string {
  return value.toString(16).padStart(16, '0');
}

export function createChecksum(algorithm: DigestAlgorithm): Checksum {
  if (algorithm === 'xxh3') {
    const state = xxh3.Xxh3.withSeed();
    return {
      update: (chunk) => void state.update(chunk),
      digest: () => xxh3Hex(state.digest()),
    };
  }
  const hash = createHash(algorithm);
  return {
    update: (chunk) => void hash.update(chunk),
    digest: () => hash.digest('hex'),
  };
}

/** Where the native xxhash module lives, for worker threads that load it themselves. */
export function xxhashModulePath(): string {
  return createRequire(import.meta.url).resolve('@node-rs/xxhash');
}
