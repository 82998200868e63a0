// Bearer tokens for the services' operators' APIs: 256 random bits (base64url) after a prefix that tells what a
// token is for, stored only as its SHA-256 (a fast hash is enough for a high-entropy secret; passwords need scrypt).
import { createHash, randomBytes } from 'node:crypto';

/** fraud-check's admin API: `fraud-cli operator-token` and `payrail-cli dev-setup` write these. */
export const FRAUD_OPERATOR_TOKEN_PREFIX = 'pfo_';

/** The hex SHA-256 a credentials file stores for a token. */
export function bearerTokenSha256(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new token (shown once) and the hash to store. */
export function newBearerToken(prefix: string): { token: string; sha256: string } {
  const token = `${prefix}${randomBytes(32).toString('base64url')}`;
  return { token, sha256: bearerTokenSha256(token) };
}
