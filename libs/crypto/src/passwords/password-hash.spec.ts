import { scryptSync } from 'node:crypto';
import { MAX_PASSWORD_LENGTH, hashPassword, parsePasswordHash, verifyPassword } from './password-hash';

const FAST = { log2N: 14, r: 8, p: 1 };

describe('password hashes', () => {
  it('verifies the password it hashed and nothing else', async () => {
    const encoded = await hashPassword('correct horse battery staple', FAST);
    expect(encoded).toMatch(/^scrypt\$14\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    await expect(verifyPassword('correct horse battery staple', encoded)).resolves.toBe(true);
    await expect(verifyPassword('correct horse battery stapl', encoded)).resolves.toBe(false);
    await expect(verifyPassword('', encoded)).resolves.toBe(false);
  });

  it('salts every hash: the same password hashes differently', async () => {
    const [a, b] = await Promise.all([hashPassword('same', FAST), hashPassword('same', FAST)]);
    expect(a).not.toBe(b);
  });

  it('is plain scrypt: a hash computed independently with node:crypto verifies', async () => {
    const salt = Buffer.alloc(16, 7);
    const hash = scryptSync('tr0ub4dor&3', salt, 32, { N: 2 ** 14, r: 8, p: 1 });
    await expect(verifyPassword('tr0ub4dor&3', `scrypt$14$8$1$${salt.toString('base64url')}$${hash.toString('base64url')}`)).resolves.toBe(true);
  });

  it('treats canonically equivalent Unicode spellings as the same password', async () => {
    const encoded = await hashPassword('caf\u00e9', FAST);
    await expect(verifyPassword('cafe\u0301', encoded)).resolves.toBe(true);
  });

  it('refuses malformed hashes and unbounded costs instead of computing them', async () => {
    expect(parsePasswordHash('plain-text-password')).toBeUndefined();
    expect(parsePasswordHash(`scrypt$30$8$1$${'A'.repeat(22)}$${'A'.repeat(43)}`)).toBeUndefined();
    expect(parsePasswordHash(`scrypt$15$64$1$${'A'.repeat(22)}$${'A'.repeat(43)}`)).toBeUndefined();
    await expect(verifyPassword('x', 'scrypt$15$8$1$short$short')).resolves.toBe(false);
  });

  it('refuses empty and over-long passwords', async () => {
    await expect(hashPassword('', FAST)).rejects.toThrow(RangeError);
    await expect(hashPassword('x'.repeat(MAX_PASSWORD_LENGTH + 1), FAST)).rejects.toThrow(RangeError);
    const encoded = await hashPassword('x', FAST);
    await expect(verifyPassword('x'.repeat(MAX_PASSWORD_LENGTH + 1), encoded)).resolves.toBe(false);
  });
});
