import { OperatorDirectory, OperatorsFileSchema, hashToken, mayPerform, newOperatorToken } from './operators';

describe('operators and their tokens', () => {
  const alice = newOperatorToken('a.smith', 'write');
  const bob = newOperatorToken('r.viewer', 'read');
  const directory = new OperatorDirectory([alice.operator, bob.operator]);

  it('makes 256-bit tokens and keeps only their SHA-256', () => {
    expect(alice.token).toMatch(/^pfo_[A-Za-z0-9_-]{43}$/);
    expect(alice.operator).toEqual({ id: 'a.smith', role: 'write', token_sha256: hashToken(alice.token) });
    expect(JSON.stringify(alice.operator)).not.toContain(alice.token.slice(4));
  });

  it('authenticates a Bearer token to its operator, and nothing else', () => {
    expect(directory.authenticate(`Bearer ${alice.token}`)).toEqual({ id: 'a.smith', role: 'write' });
    expect(directory.authenticate(`bearer ${bob.token}`)).toEqual({ id: 'r.viewer', role: 'read' });
    for (const header of [undefined, '', alice.token, `Basic ${alice.token}`, `Bearer ${alice.token}x`, `Bearer ${alice.operator.token_sha256}`, 'Bearer ']) {
      expect(directory.authenticate(header)).toBeUndefined();
    }
  });

  it('gives the read role reads only and the write role everything', () => {
    expect(mayPerform({ id: 'r', role: 'read' }, 'read')).toBe(true);
    expect(mayPerform({ id: 'r', role: 'read' }, 'write')).toBe(false);
    expect(mayPerform({ id: 'w', role: 'write' }, 'write')).toBe(true);
  });

  it('refuses a credentials file with duplicate ids, shared tokens or plaintext tokens', () => {
    const issues = (operators: unknown[]) => OperatorsFileSchema.safeParse({ operators }).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues([alice.operator, { ...bob.operator, id: 'a.smith' }])).toEqual(['operators.1.id: duplicate operator id a.smith']);
    expect(issues([alice.operator, { ...bob.operator, token_sha256: alice.operator.token_sha256 }])).toEqual(['operators.1.token_sha256: two operators share a token']);
    expect(issues([{ ...alice.operator, token_sha256: alice.token }])?.[0]).toMatch(/^operators\.0\.token_sha256: must be the hex SHA-256/);
    expect(issues([{ ...alice.operator, role: 'admin' }])?.[0]).toMatch(/^operators\.0\.role/);
  });
});
