import { OperatorDirectory, OperatorsFileSchema, READ_SCOPES, hashToken, mayPerform, newOperatorToken } from './operators';

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
    expect(directory.authenticate(`Bearer ${alice.token}`)).toMatchObject({ id: 'a.smith', role: 'write' });
    expect(directory.authenticate(`bearer ${bob.token}`)).toMatchObject({ id: 'r.viewer', role: 'read' });
    for (const header of [undefined, '', alice.token, `Basic ${alice.token}`, `Bearer ${alice.token}x`, `Bearer ${alice.operator.token_sha256}`, 'Bearer ']) {
      expect(directory.authenticate(header)).toBeUndefined();
    }
  });

  it('gives the read role reads only, the write role reads and changes, and acting for others to nobody by role', () => {
    const read = directory.authenticate(`Bearer ${bob.token}`);
    const write = directory.authenticate(`Bearer ${alice.token}`);
    if (!read || !write) throw new Error('not authenticated');
    for (const scope of READ_SCOPES) expect([mayPerform(read, scope), mayPerform(write, scope)]).toEqual([true, true]);
    expect([mayPerform(read, 'reviews:decide'), mayPerform(read, 'blocklist:write')]).toEqual([false, false]);
    expect([mayPerform(write, 'reviews:decide'), mayPerform(write, 'blocklist:write')]).toEqual([true, true]);
    expect([mayPerform(read, 'act-for-operators'), mayPerform(write, 'act-for-operators')]).toEqual([false, false]);
  });

  it('grants exactly the scopes listed: a console token decides reviews for people but cannot touch blocklists', () => {
    const console = newOperatorToken('console', ['reviews:read', 'reviews:decide', 'act-for-operators']);
    expect(console.operator).toEqual({ id: 'console', scopes: ['reviews:read', 'reviews:decide', 'act-for-operators'], token_sha256: hashToken(console.token) });
    const caller = new OperatorDirectory([console.operator]).authenticate(`Bearer ${console.token}`);
    if (!caller) throw new Error('not authenticated');
    expect(caller.role).toBe('write');
    expect(['reviews:read', 'reviews:decide', 'act-for-operators', 'blocklist:read', 'blocklist:write', 'audit:read'].map((s) => mayPerform(caller, s as never))).toEqual([true, true, true, false, false, false]);
  });

  it('refuses a credentials file with duplicate ids, shared tokens or plaintext tokens', () => {
    const issues = (operators: unknown[]) => OperatorsFileSchema.safeParse({ operators }).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues([alice.operator, { ...bob.operator, id: 'a.smith' }])).toEqual(['operators.1.id: duplicate operator id a.smith']);
    expect(issues([alice.operator, { ...bob.operator, token_sha256: alice.operator.token_sha256 }])).toEqual(['operators.1.token_sha256: two operators share a token']);
    expect(issues([{ ...alice.operator, token_sha256: alice.token }])?.[0]).toMatch(/^operators\.0\.token_sha256: must be the hex SHA-256/);
    expect(issues([{ ...alice.operator, role: 'admin' }])?.[0]).toMatch(/^operators\.0\.role/);
    expect(issues([{ ...alice.operator, scopes: ['blocklist:write'] }])).toEqual(['operators.0.scopes: give either role (read|write) or scopes, not both']);
    expect(issues([{ id: 'x', token_sha256: alice.operator.token_sha256 }])).toEqual(['operators.0.scopes: give either role (read|write) or scopes, not both']);
    expect(issues([{ id: 'x', scopes: ['everything'], token_sha256: alice.operator.token_sha256 }])?.[0]).toMatch(/^operators\.0\.scopes\.0/);
  });
});
