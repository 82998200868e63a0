import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@payrail/config';
import { hashPassword } from '@payrail/crypto';
import { OperatorDirectory, loadUsersFile, mayAct, parseUsers } from './operator-directory';

const FAST = { log2N: 14, r: 8, p: 1 };

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.variable}: ${p.reason}`).join('; ');
    throw err;
  }
  return 'no error';
}

describe('console users', () => {
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    [alice, bob] = await Promise.all([hashPassword('alice-password', FAST), hashPassword('bob-password', FAST)]);
  });

  it('signs in operators and viewers with their own password only, whatever the username case', async () => {
    const directory = new OperatorDirectory(parseUsers(JSON.stringify({ users: [{ username: 'a.smith', role: 'operator', password_scrypt: alice }, { username: 'b.jones', role: 'viewer', password_scrypt: bob }] })));
    await expect(directory.authenticate('a.smith', 'alice-password')).resolves.toMatchObject({ username: 'a.smith', role: 'operator' });
    await expect(directory.authenticate('A.Smith', 'alice-password')).resolves.toMatchObject({ username: 'a.smith', role: 'operator' });
    await expect(directory.authenticate('b.jones', 'bob-password')).resolves.toMatchObject({ username: 'b.jones', role: 'viewer' });
    await expect(directory.authenticate('b.jones', 'alice-password')).resolves.toBeUndefined();
    await expect(directory.authenticate('nobody', 'alice-password')).resolves.toBeUndefined();
  });

  it('lets operators act and viewers only look', () => {
    expect(mayAct('operator')).toBe(true);
    expect(mayAct('viewer')).toBe(false);
  });

  it('refuses a users file with a plain password, an unknown role, duplicates or no user, naming CONSOLE_USERS_FILE', () => {
    expect(problem(() => parseUsers(JSON.stringify({ users: [{ username: 'a', role: 'operator', password_scrypt: 'hunter2' }] })))).toMatch(/^CONSOLE_USERS_FILE: users\.0\.password_scrypt: must be a scrypt hash/);
    expect(problem(() => parseUsers(JSON.stringify({ users: [{ username: 'a', role: 'admin', password_scrypt: alice }] })))).toMatch(/^CONSOLE_USERS_FILE: users\.0\.role/);
    expect(problem(() => parseUsers(JSON.stringify({ users: [{ username: 'a', role: 'viewer', password_scrypt: alice }, { username: 'A', role: 'operator', password_scrypt: bob }] })))).toBe('CONSOLE_USERS_FILE: users.1.username: duplicate username A');
    expect(problem(() => parseUsers(JSON.stringify({ users: [] })))).toBe('CONSOLE_USERS_FILE: users: needs at least one user');
    expect(problem(() => parseUsers('{not json'))).toMatch(/^CONSOLE_USERS_FILE: is not JSON/);
  });

  it('names the file it cannot read', () => {
    expect(problem(() => loadUsersFile('/nonexistent/users.json'))).toBe('CONSOLE_USERS_FILE: cannot read /nonexistent/users.json: ENOENT');
    const dir = mkdtempSync(join(tmpdir(), 'console-users-'));
    writeFileSync(join(dir, 'users.json'), JSON.stringify({ users: [{ username: 'a', role: 'viewer', password_scrypt: alice }] }));
    expect(loadUsersFile(join(dir, 'users.json'))).toEqual([{ username: 'a', role: 'viewer', password_scrypt: alice }]);
  });

  it('follows the users file: a removed user is gone, a demoted one has the new role, a new password a new credential', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'console-users-'));
    const path = join(dir, 'users.json');
    const write = (users: object[]) => writeFileSync(path, JSON.stringify({ users }));
    const failures: string[] = [];
    write([{ username: 'a.smith', role: 'operator', password_scrypt: alice }, { username: 'b.jones', role: 'operator', password_scrypt: bob }]);
    const directory = new OperatorDirectory(loadUsersFile(path), { path, onReloadFailed: (r) => failures.push(r) });
    await directory.refresh();
    const before = directory.current('a.smith');
    expect(before).toMatchObject({ username: 'a.smith', role: 'operator' });
    expect(directory.current('B.Jones')).toMatchObject({ role: 'operator' });

    write([{ username: 'a.smith', role: 'viewer', password_scrypt: alice }]);
    await directory.refresh();
    expect(directory.current('a.smith')).toEqual({ ...before, role: 'viewer' });
    expect(directory.current('b.jones')).toBeUndefined();
    await expect(directory.authenticate('b.jones', 'bob-password')).resolves.toBeUndefined();

    write([{ username: 'a.smith', role: 'viewer', password_scrypt: bob }]);
    await directory.refresh();
    expect(directory.current('a.smith')?.credential).not.toBe(before?.credential);

    // a broken file is reported and changes nothing
    writeFileSync(path, '{"users": [');
    await directory.refresh();
    expect(failures).toEqual([expect.stringMatching(/is not JSON/)]);
    expect(directory.current('a.smith')).toMatchObject({ role: 'viewer' });
  });
});
