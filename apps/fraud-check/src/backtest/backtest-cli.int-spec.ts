// `fraud-cli backtest --from-topic` against the real broker and Redis: reads a time range of the signed topic
// (verifying Payrail's signatures), replays it through the current and a candidate rule set with in-memory
// velocity, reads the live blocklists without changing a single key, and writes the comparison as JSON.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { TOPICS } from '@payrail/contracts';
import { JwsSigner, PayrailKeyStore, generateDevKeys } from '@payrail/crypto';
import { EventProducer, Redis, createKafka, kafkaConnectionFromProcessEnv, createRedis, ensureTopics } from '@payrail/messaging';
import { brokers, redisUrl } from '../../test/fraud-check-harness';
import { fingerprintOf, instruction } from '../../test/payments';
import { BLOCKLISTS_KEY, blocklistField } from '../blocklist/redis-blocklist.store';

const ROOT = join(__dirname, '..', '..', '..', '..');

describe('fraud-cli backtest over a range of the signed topic', () => {
  const prefix = `${process.env['PAYRAIL_RUN_KEY_PREFIX'] ?? 'payrail-test:'}backtest-${randomUUID().slice(0, 8)}:`;
  const kafka = createKafka(kafkaConnectionFromProcessEnv(process.env, 'payrail-backtest-test'), { warn: () => undefined, error: () => undefined });
  const producer = new EventProducer(kafka, { source: 'payrail/test-signing' });
  let redis: Redis;

  beforeAll(async () => {
    await ensureTopics(kafka);
    redis = createRedis({ url: redisUrl, keyPrefix: prefix }, 'backtest-test');
    await Promise.all([producer.connect(), redis.connect()]);
  });

  afterAll(async () => {
    await producer.disconnect();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(prefix.length)));
    await redis.quit();
  });

  async function liveState(): Promise<Record<string, string | null>> {
    const keys = (await redis.keys(`${prefix}*`)).map((k) => k.slice(prefix.length)).sort();
    const dumps = await Promise.all(keys.map(async (k) => [k, (await redis.dumpBuffer(k))?.toString('base64') ?? null] as const));
    return Object.fromEntries(dumps);
  }

  it('compares the decisions of both rule sets on what the topic carried, and leaves live state alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'payrail-backtest-'));
    const keys = await generateDevKeys({ alg: 'ES256', withEncryptionKey: false });
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify(keys.publicJwks));
    const signer = new JwsSigner(await PayrailKeyStore.fromJwks(keys.privateJwks, { source: 'test' }));
    const rules = (version: string, rs: unknown[]) => JSON.stringify({ version, thresholds: { review: 50, decline: 100 }, rules: rs });
    writeFileSync(join(dir, 'current.json'), rules('bt-current.1', [{ id: 'blocklist.merchant', type: 'blocklist', list: 'merchant', score: 100 }]));
    writeFileSync(
      join(dir, 'candidate.json'),
      rules('bt-candidate.1', [
        { id: 'blocklist.merchant', type: 'blocklist', list: 'merchant', score: 100 },
        { id: 'velocity.card.1h', type: 'velocity', dimension: 'card', window: '1h', max_count: 3, score: 50 },
      ]),
    );
    // live state the backtest may read (blocklists) and must not touch (velocity of the same card)
    await redis.hset(BLOCKLISTS_KEY, blocklistField('merchant', 'm-blocked'), JSON.stringify({ value: 'm-blocked', added_by: 'ops', added_at: new Date().toISOString() }));
    await redis.hset(`fraud:v:{card:${fingerprintOf('bt-busy')}}:agg`, 'wm', '1');
    const before = await liveState();

    const since = new Date(Date.now() - 1_000).toISOString();
    const busy = { fingerprint: fingerprintOf('bt-busy') };
    const payments = [
      ...Array.from({ length: 5 }, (_, i) => instruction({ at: Date.now() + i, card: busy })),
      instruction({ merchant: 'm-blocked', card: { fingerprint: fingerprintOf(randomUUID()) } }),
    ];
    await Promise.all(payments.map((p) => producer.publish(TOPICS.paymentsSigned, { payment_id: p.payment_id, kid: signer.kid, instruction_jws: signer.sign(p) }, { key: p.payer.fingerprint, correlationId: p.payment_id })));
    const out = join(dir, 'result.json');

    const run = spawnSync(
      process.execPath,
      ['-r', '@swc-node/register', 'apps/fraud-check/src/cli/fraud-cli.ts', 'backtest', '--from-topic', '--since', since, '--rules', join(dir, 'candidate.json'), '--current', join(dir, 'current.json'), '--jwks', join(dir, 'jwks.json'), '--blocklists', 'live', '--json', out],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SWC_NODE_PROJECT: 'tsconfig.base.json', KAFKA_BROKERS: brokers.join(','), REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix }, timeout: 90_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('changed decisions: 2');
    expect(run.stdout).toContain('signatures: verified');

    const result = JSON.parse(readFileSync(out, 'utf8')) as { payments: number; transitions: Record<string, Record<string, number>>; examples: { payment_id: string }[] };
    // only what this test published passes the signature check with its keys; anything else in the range is skipped
    expect(result.payments).toBe(6);
    expect(result.transitions['APPROVE']).toEqual({ APPROVE: 3, REVIEW: 2, DECLINE: 0 });
    expect(result.transitions['DECLINE']).toEqual({ APPROVE: 0, REVIEW: 0, DECLINE: 1 });
    expect(result.examples.map((e) => e.payment_id)).toEqual([payments[3]?.payment_id, payments[4]?.payment_id]);
    expect(await liveState()).toEqual(before);
  });
});
