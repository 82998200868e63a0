import { createHmac } from 'node:crypto';
import { MIN_SECRET_BYTES } from '../lib/algorithms';
import { canonicalJson } from '../lib/canonical';
import { KeyConfigError } from '../lib/errors';
import { normaliseIdentifier } from './mask';

function checkKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length < MIN_SECRET_BYTES) {
    throw new KeyConfigError(`fingerprint key must be at least ${MIN_SECRET_BYTES} bytes (got ${Buffer.isBuffer(key) ? key.length : 'no buffer'})`);
  }
}

/**
 * Keyed fingerprint: HMAC-SHA256(key, value), base64url. Equal inputs give equal fingerprints (fraud checks
 * can count and block a card) but without the key nobody can test guesses against it, which a plain hash of a
 * 16-digit PAN would allow.
 */
export function fingerprint(key: Buffer, value: string): string {
  checkKey(key);
  if (typeof value !== 'string') throw new TypeError('fingerprint: value must be a string');
  return createHmac('sha256', key).update(value, 'utf8').digest('base64url');
}

/**
 * Fingerprint of a field value as FieldProtector computes it: strings of digits, spaces and hyphens reduce to their
 * digits (so "4111 1111 1111 1111" matches "4111111111111111"), other strings are used as is, other values as
 * canonical JSON. Use it to fingerprint blocklist entries.
 */
export function fingerprintField(key: Buffer, value: unknown): string {
  return fingerprint(key, typeof value === 'string' ? normaliseIdentifier(value) : canonicalJson(value));
}
