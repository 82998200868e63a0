// Against the real Redis (REDIS_URL): a service connects as an ACL user configured only through REDIS_URL, with the
// least privileges the README recommends, and does its work (keys under its prefix, idempotent scripts); wrong
// credentials fail at connect within a second with an error that says so, and the password shows up nowhere.
// The temporary user is created with ACL SETUSER under a unique name and deleted afterwards.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { parseEnv } from '@payrail/config';
import { IdempotentConsumer } from './idempotent-consumer';
import { connectRedis, createRedis, Redis, RedisAuthenticationError, redisAuthenticationFailure, redisReady } from './redis-client';
import { redisConnectionFromEnv, redisEnvFragment } from './redis.config';
import { redisUrl, uniqueSuffix, waitUntil } from '../../test/kafka-test-kit';

/** The README's recommended ACL for a service user (besides `on`, its password and its key pattern). */
const SERVICE_ACL = ['resetchannels', '-@all', '+@read', '+@write', '+@keyspace', '+@scripting', '+@connection', '+info'];

function configFor(url: string, prefix: string) {
  return redisConnectionFromEnv(parseEnv(z.object(redisEnvFragment), { REDIS_URL: url, REDIS_KEY_PREFIX: prefix }));
}

/** REDIS_URL with the given user and password in place of the shared one's. */
function urlWith(username: string, password: string): string {
  const url = new URL(redisUrl());
  url.username = encodeURIComponent(username);
  url.password = encodeURIComponent(password);
  return url.toString();
}

describe('Redis with an ACL user configured by REDIS_URL', () => {
  const suffix = uniqueSuffix();
  const username = `payrail-int-${suffix}`;
  const password = randomBytes(24).toString('base64url');
  const prefix = `${process.env['PAYRAIL_RUN_KEY_PREFIX'] ?? 'payrail-test:'}acl-${suffix}:`;
  const admin = createRedis({ url: redisUrl(), keyPrefix: '' }, 'payrail-int-acl-admin');
  const clients: Redis[] = [];

  beforeAll(async () => {
    await admin.connect();
    await admin.call('ACL', 'SETUSER', username, 'reset', 'on', `>${password}`, `~${prefix}*`, ...SERVICE_ACL);
  });

  afterAll(async () => {
    await Promise.all(clients.filter((c) => c.status !== 'end').map((c) => (c.status === 'ready' ? c.quit() : c.disconnect())));
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.unlink(...keys);
    expect(await admin.call('ACL', 'DELUSER', username)).toBe(1);
    await admin.quit();
  });

  it('connects as the ACL user and does a service\'s work under its key prefix; keys outside it are refused', async () => {
    const config = configFor(urlWith(username, password), prefix);
    const redis = createRedis(config, 'payrail-int-acl');
    clients.push(redis);
    await connectRedis(redis, config);
    expect(await redisReady(redis)).toBe(true);
    expect(await admin.call('ACL', 'WHOAMI')).toBe('default');
    expect(await redis.call('ACL', 'WHOAMI').catch((e: Error) => e.message)).toMatch(/NOPERM/); // no admin commands
    expect(await redis.set('claim:1', 'x', 'EX', 60, 'NX')).toBe('OK');
    const effect = new IdempotentConsumer(redis, { consumer: 'acl-test' }).defineEffect({ numberOfKeys: 1, lua: "return redis.call('INCRBY', KEYS[1], ARGV[1])" });
    const invocation = { eventId: 'evt-1', scope: 'merchant-1', keys: ['total:{merchant-1}'], args: [25] };
    expect(await effect.applyOnce(invocation)).toEqual({ outcome: 'APPLIED', result: 25, resent: false });
    expect(await effect.applyOnce(invocation)).toEqual({ outcome: 'DUPLICATE' });
    const connections = (await admin.call('CLIENT', 'LIST')) as string;
    expect(connections).toMatch(new RegExp(`name=payrail-int-acl .*user=${username}`));

    // the same user with another key prefix: the ACL key pattern refuses it
    const outside = createRedis(configFor(urlWith(username, password), 'other-service:'), 'payrail-int-acl-outside');
    clients.push(outside);
    await connectRedis(outside, configFor(urlWith(username, password), 'other-service:'));
    await expect(outside.set('claim:1', 'x')).rejects.toThrow(/NOPERM/);
  });

  it.each([
    ['a wrong password', () => urlWith(username, `${password}-wrong`)],
    ['an unknown user', () => urlWith(`nobody-${suffix}`, password)],
  ])('refuses %s at connect, at once, saying so and never showing the password', async (_case, url) => {
    const config = configFor(url(), prefix);
    const redis = createRedis(config, 'payrail-int-acl-wrong');
    clients.push(redis);
    let reconnects = 0;
    redis.on('reconnecting', () => reconnects++);
    const started = Date.now();
    const error = await connectRedis(redis, config).then(() => undefined, (err: unknown) => err as Error);
    const tookMs = Date.now() - started;
    expect(error).toBeInstanceOf(RedisAuthenticationError);
    expect(error?.message).toMatch(/^Redis at redis:\/\/.*:\*\*\*@.* refused the credentials: WRONGPASS invalid username-password pair/);
    expect(error?.message).not.toContain(new URL(url()).password);
    expect(tookMs).toBeLessThan(5_000);
    expect(redisAuthenticationFailure(redis)?.message).toMatch(/^WRONGPASS/);
    // no reconnect loop behind a live-looking process
    await waitUntil(() => redis.status === 'end', 2_000, 'the client to give up');
    expect(reconnects).toBe(0);
  });
});
