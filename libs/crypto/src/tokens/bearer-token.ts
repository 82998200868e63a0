// Bearer tokens for the services' operators' APIs: 256 random bits (base64url) after a prefix that tells what a
// token is for, stored only as its SHA-256 (a fast hash is enough for a high-entropy secret; passwords need scrypt).
import { createHash, randomBytes } from 'node:crypto';

/** fraud-check's admin API: `fraud-cli operator-token` and `payrail-cli dev-setup` write these. */
export const FRAUD_OPERATOR_TOKEN_PREFIX = 'pfo_';
/** settlement's operators API: `payrail-cli settlement api-token` and `payrail-cli dev-setup` write these. */
export const SETTLEMENT_API_TOKEN_PREFIX = 'pso_';

/** The hex SHA-256 a credentials file stores for a token. */
export function bearerTokenSha256(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new token (shown once) and the hash to store. */
export function newBearerToken(prefix: string): { token: string; sha256: string } {
  const token = `${prefix}${randomBytes(32).toString('base64url')}`;
  return { token, sha256: bearerTokenSha256(token) };
}

/**
 * Who holds a token, looked up by the SHA-256 of what an `Authorization: Bearer <token>` header presents. Timing
 * can only reveal how a SHA-256 of the caller's own guess compares with stored hashes, which says nothing about any
 * token.
 */
export class BearerTokenDirectory<Holder> {
  private readonly byHash: ReadonlyMap<string, Holder>;

  constructor(holders: Iterable<readonly [tokenSha256: string, holder: Holder]>) {
    this.byHash = new Map(holders);
  }

  get size(): number {
    return this.byHash.size;
  }

  /** The holder of the token the Authorization header carries, or undefined (no header, not Bearer, unknown token). */
  authenticate(authorization: string | undefined): Holder | undefined {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization?.trim() ?? '');
    return match?.[1] ? this.byHash.get(bearerTokenSha256(match[1])) : undefined;
  }
}
