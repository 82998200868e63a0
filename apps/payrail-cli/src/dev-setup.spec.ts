import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KAFKA_ADMIN_USERNAME, kafkaAccessTable } from '@payrail/contracts';
import { verifyPassword } from '@payrail/crypto';
import { CONSOLE_FRAUD_OPERATOR, CONSOLE_FRAUD_SCOPES, ConsoleDevCredentials, devSetup } from './dev-setup';

describe('dev-setup: the console sign-ins of a local run', () => {
  it('writes a dev operator and a dev viewer whose users file holds only scrypt hashes of their random passwords', async () => {
    const setup = await devSetup(join(mkdtempSync(join(tmpdir(), 'dev-setup-')), 'keys'));
    const credentials = JSON.parse(readFileSync(setup.consoleCredentialsFile, 'utf8')) as ConsoleDevCredentials;
    const users = (JSON.parse(readFileSync(setup.consoleUsersFile, 'utf8')) as { users: { username: string; role: string; password_scrypt: string }[] }).users;

    expect(users.map((u) => [u.username, u.role])).toEqual([
      [credentials.operator.username, 'operator'],
      [credentials.viewer.username, 'viewer'],
    ]);
    expect(credentials.operator.password).not.toBe(credentials.viewer.password);
    expect(credentials.operator.password.length).toBeGreaterThanOrEqual(16);
    await expect(verifyPassword(credentials.operator.password, users[0]?.password_scrypt ?? '')).resolves.toBe(true);
    await expect(verifyPassword(credentials.viewer.password, users[1]?.password_scrypt ?? '')).resolves.toBe(true);
    expect(readFileSync(setup.consoleUsersFile, 'utf8')).not.toContain(credentials.operator.password);

    expect(Buffer.from(readFileSync(setup.consoleSessionKeyFile, 'utf8'), 'base64').length).toBe(32);
    for (const file of [setup.consoleUsersFile, setup.consoleSessionKeyFile, setup.consoleCredentialsFile]) expect(statSync(file).mode & 0o777).toBe(0o600);
  }, 30_000);

  it("registers the console's service token in fraud-check's operators file with review scopes only (no blocklists), as its SHA-256 only", async () => {
    const setup = await devSetup(join(mkdtempSync(join(tmpdir(), 'dev-setup-')), 'keys'));
    const token = readFileSync(setup.consoleFraudTokenFile, 'utf8');
    expect(token).toMatch(/^pfo_[A-Za-z0-9_-]{43}$/);
    const text = readFileSync(setup.fraudOperatorsFile, 'utf8');
    expect(JSON.parse(text)).toEqual({ operators: [{ id: CONSOLE_FRAUD_OPERATOR, scopes: [...CONSOLE_FRAUD_SCOPES], token_sha256: createHash('sha256').update(token).digest('hex') }] });
    expect(text).not.toContain(token);
    for (const file of [setup.fraudOperatorsFile, setup.consoleFraudTokenFile]) expect(statSync(file).mode & 0o777).toBe(0o600);
  }, 30_000);

  it("gives settlement's API one token per consumer (the console, a dev operator), registered as SHA-256 with ledger:read only", async () => {
    const setup = await devSetup(join(mkdtempSync(join(tmpdir(), 'dev-setup-')), 'keys'));
    const consoleToken = readFileSync(setup.consoleSettlementTokenFile, 'utf8');
    const operatorToken = readFileSync(setup.settlementOperatorTokenFile, 'utf8');
    expect(consoleToken).toMatch(/^pso_[A-Za-z0-9_-]{43}$/);
    expect(operatorToken).not.toBe(consoleToken);
    const text = readFileSync(setup.settlementApiClientsFile, 'utf8');
    const sha = (t: string) => createHash('sha256').update(t).digest('hex');
    expect(JSON.parse(text)).toEqual({ clients: [{ id: 'console', scopes: ['ledger:read'], token_sha256: sha(consoleToken) }, { id: 'dev-operator', scopes: ['ledger:read'], token_sha256: sha(operatorToken) }] });
    expect(text).not.toContain(consoleToken);
    for (const file of [setup.settlementApiClientsFile, setup.consoleSettlementTokenFile, setup.settlementOperatorTokenFile]) expect(statSync(file).mode & 0o777).toBe(0o600);
  }, 30_000);

  it('writes a distinct random SCRAM password for the admin, every principal of the ACL table and the broker\'s own users, each 0600 at kafka/<user>.password', async () => {
    const setup = await devSetup(join(mkdtempSync(join(tmpdir(), 'dev-setup-')), 'keys'));
    expect(Object.keys(setup.kafkaPasswordFiles).sort()).toEqual([KAFKA_ADMIN_USERNAME, ...kafkaAccessTable().map((p) => p.username), 'payrail-broker', 'payrail-controller'].sort());
    const passwords = Object.entries(setup.kafkaPasswordFiles).map(([user, file]) => {
      expect(file.endsWith(join('keys', 'kafka', `${user}.password`))).toBe(true);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      return readFileSync(file, 'utf8');
    });
    for (const p of passwords) expect(p).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set(passwords).size).toBe(passwords.length);
  }, 30_000);
});
