// Against the real Redis (REDIS_URL): console sessions follow the users file and the clock. A removed user or a
// changed password ends the session on the next request, a demoted user loses the operator role on the next
// request, a session ends after its idle time-out and after its absolute lifetime, and refused sign-ins are
// counted in Prometheus instead of being written into the audit trail.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PinoLogger } from 'nestjs-pino';
import { hashPassword } from '@payrail/crypto';
import { DOMAIN_METRIC_NAMES, OperatorAccessMetrics, PrometheusMessagingMetrics, createRedis, seriesValue } from '@payrail/messaging';
import { AuditTrail } from '../audit/audit-trail';
import type { ConsoleConfig } from '../config';
import type { ConsoleRuntime } from '../console.runtime';
import { ConsoleAuth } from './console-auth.service';
import { ConsoleUser } from './operator-directory';

const prefix = `${process.env['PAYRAIL_RUN_KEY_PREFIX'] ?? 'payrail-test:'}console-auth:${randomUUID().slice(0, 8)}:`;
const redis = createRedis({ url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', keyPrefix: prefix }, 'console-auth-int-test');
const FAST = { log2N: 14, r: 8, p: 1 };
const quiet = { setContext: () => undefined, info: () => undefined, error: () => undefined } as unknown as PinoLogger;

let alice: string;
let aliceNew: string;
let bob: string;

beforeAll(async () => {
  await redis.connect();
  [alice, aliceNew, bob] = await Promise.all([hashPassword('alice-password', FAST), hashPassword('alice-new-password', FAST), hashPassword('bob-password', FAST)]);
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(prefix.length)));
  await redis.quit();
});

function consoleAuth(users: ConsoleUser[], limits: { sessionTtlS: number; sessionMaxAgeS: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'console-auth-'));
  const usersFile = join(dir, 'users.json');
  const writeUsers = (list: ConsoleUser[]) => writeFileSync(usersFile, JSON.stringify({ users: list }));
  writeUsers(users);
  const config = { sessionKey: randomBytes(32), users, usersFile, cookieSecure: true, publicOrigin: undefined, ...limits } as unknown as ConsoleConfig;
  const metrics = new PrometheusMessagingMetrics({ service: 'console', processMetrics: false });
  const runtime = { redis, access: new OperatorAccessMetrics(metrics.registry) } as unknown as ConsoleRuntime;
  const audit = new AuditTrail(redis, 1_000);
  const auth = new ConsoleAuth(config, runtime, audit, quiet);
  const refused = async (reason: string) => seriesValue(await metrics.exposition(), DOMAIN_METRIC_NAMES.operatorAccessRefused, { surface: 'console', reason }) ?? 0;
  return { auth, writeUsers, audit, refused };
}

async function signedIn(auth: ConsoleAuth, username: string, password: string): Promise<string> {
  const result = await auth.signIn(username, password, '10.0.0.1');
  if (result.kind !== 'SIGNED_IN') throw new Error(`sign-in of ${username}: ${result.kind}`);
  expect(result.setCookie).toMatch(/^__Host-payrail_console=[^;]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict; Secure$/);
  return result.setCookie.split(';')[0] ?? '';
}

describe('ConsoleAuth', () => {
  it('re-reads the user on every request: demoted acts as viewer, removed or re-passworded is signed out', async () => {
    const { auth, writeUsers } = consoleAuth(
      [
        { username: 'ops.alice', role: 'operator', password_scrypt: alice },
        { username: 'ops.bob', role: 'operator', password_scrypt: bob },
      ],
      { sessionTtlS: 900, sessionMaxAgeS: 28_800 },
    );
    const aliceCookie = await signedIn(auth, 'ops.alice', 'alice-password');
    const bobCookie = await signedIn(auth, 'ops.bob', 'bob-password');
    await expect(auth.resolve(aliceCookie)).resolves.toMatchObject({ operator: { username: 'ops.alice', role: 'operator' } });

    writeUsers([{ username: 'ops.alice', role: 'viewer', password_scrypt: alice }]);
    await expect(auth.resolve(aliceCookie)).resolves.toMatchObject({ operator: { username: 'ops.alice', role: 'viewer' } });
    await expect(auth.resolve(bobCookie)).resolves.toBeUndefined();
    // gone for good: putting bob back does not revive the old session
    writeUsers([{ username: 'ops.alice', role: 'viewer', password_scrypt: alice }, { username: 'ops.bob', role: 'operator', password_scrypt: bob }]);
    await expect(auth.resolve(bobCookie)).resolves.toBeUndefined();

    writeUsers([{ username: 'ops.alice', role: 'viewer', password_scrypt: aliceNew }]);
    await expect(auth.resolve(aliceCookie)).resolves.toBeUndefined();
    await expect(signedIn(auth, 'ops.alice', 'alice-new-password')).resolves.toMatch(/^__Host-payrail_console=/);
  });

  it('ends a session after its idle time-out, and one in use after its absolute lifetime', async () => {
    const idle = consoleAuth([{ username: 'ops.alice', role: 'operator', password_scrypt: alice }], { sessionTtlS: 1, sessionMaxAgeS: 60 });
    const idleCookie = await signedIn(idle.auth, 'ops.alice', 'alice-password');
    await new Promise((r) => setTimeout(r, 2_100));
    await expect(idle.auth.resolve(idleCookie)).resolves.toBeUndefined();

    const capped = consoleAuth([{ username: 'ops.alice', role: 'operator', password_scrypt: alice }], { sessionTtlS: 60, sessionMaxAgeS: 2 });
    const cookie = await signedIn(capped.auth, 'ops.alice', 'alice-password');
    for (let i = 0; i < 4; i++) {
      await expect(capped.auth.resolve(cookie)).resolves.toBeDefined(); // in use all along
      await new Promise((r) => setTimeout(r, 400));
    }
    await new Promise((r) => setTimeout(r, 600));
    await expect(capped.auth.resolve(cookie)).resolves.toBeUndefined();
  });

  it("counts refused sign-ins in metrics, keeps them out of the audit trail, and never locks the user out from their own address", async () => {
    const { auth, audit, refused } = consoleAuth([{ username: 'ops.carol', role: 'operator', password_scrypt: alice }], { sessionTtlS: 900, sessionMaxAgeS: 28_800 });
    for (let i = 0; i < 40; i++) {
      const result = await auth.signIn('ops.carol', 'guess', '198.51.100.66');
      expect(['DENIED', 'THROTTLED']).toContain(result.kind);
    }
    expect(await refused('denied')).toBeGreaterThanOrEqual(5);
    expect((await refused('denied')) + (await refused('throttled'))).toBe(40);
    const before = (await audit.recent(1_000)).filter((e) => e.operator === 'ops.carol');
    expect(before).toEqual([]);
    // the real user, from their own address, signs in at once; that is audited
    await expect(auth.signIn('ops.carol', 'alice-password', '10.0.0.7')).resolves.toMatchObject({ kind: 'SIGNED_IN' });
    const after = (await audit.recent(1_000)).filter((e) => e.operator === 'ops.carol');
    expect(after).toEqual([expect.objectContaining({ action: 'session.sign-in', outcome: 'ok', address: '10.0.0.7' })]);
  });
});
