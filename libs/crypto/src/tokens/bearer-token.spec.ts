import { createHash } from 'node:crypto';
import { FRAUD_OPERATOR_TOKEN_PREFIX, bearerTokenSha256, newBearerToken } from '../index';

describe('bearer tokens', () => {
  it('are the prefix and 256 random bits in base64url, stored as their hex SHA-256', () => {
    const a = newBearerToken(FRAUD_OPERATOR_TOKEN_PREFIX);
    const b = newBearerToken(FRAUD_OPERATOR_TOKEN_PREFIX);
    expect(a.token).toMatch(/^pfo_[A-Za-z0-9_-]{43}$/);
    expect(a.token).not.toBe(b.token);
    expect(a.sha256).toBe(createHash('sha256').update(a.token).digest('hex'));
    expect(bearerTokenSha256(a.token)).toBe(a.sha256);
  });
});
