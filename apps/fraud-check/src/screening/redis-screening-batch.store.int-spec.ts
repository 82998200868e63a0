// Batch screening on real Redis (REDIS_URL): the pipelines give the decisions the in-memory store gives (velocity in
// offset order within a batch, duplicates, first payees, blocklists), a redelivered batch counts nothing twice.
import { randomUUID } from 'node:crypto';
import type { PaymentInstruction, PaymentScreened, PaymentSigned } from '@payrail/contracts';
import { Redis, createRedis } from '@payrail/messaging';
import { fingerprintOf, instruction, paymentStream } from '../../test/payments';
import { InMemoryBlocklists } from '../blocklist/blocklist';
import { BLOCKLISTS_KEY, blocklistField } from '../blocklist/redis-blocklist.store';
import { parseRuleSet } from '../rules/ruleset';
import { InMemoryVelocityStore } from '../velocity/in-memory-velocity.store';
import { RedisVelocityStore } from '../velocity/redis-velocity.store';
import { InMemoryScreeningBatchStore } from './in-memory-screening-batch.store';
import { RedisScreeningBatchStore } from './redis-screening-batch.store';
import { ScreenBatch, ScreeningBatchStore } from './screen-batch';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const rules = parseRuleSet(JSON.stringify({
  version: 'batch-int.1',
  thresholds: { review: 50, decline: 100 },
  small_amount: { EUR: '300' },
  rules: [
    { id: 'amount.review', type: 'amount_limit', score: 50, limits: { EUR: '200000' } },
    { id: 'velocity.card.1m', type: 'velocity', dimension: 'card', window: '1m', max_count: 3, score: 50 },
    { id: 'velocity.card.24h_sum', type: 'velocity', dimension: 'card', window: '24h', max_sum: { EUR: '400000' }, score: 50 },
    { id: 'card_testing.device', type: 'card_testing', dimension: 'device', window: '1h', max_distinct_payers: 3, max_small_payments: 4, score: 60 },
    { id: 'first_payee.large', type: 'first_payee', limits: { EUR: '100000' }, score: 30 },
    { id: 'duplicate.120s', type: 'duplicate', within_s: 120, score: 60 },
    { id: 'blocklist.merchant', type: 'blocklist', list: 'merchant', score: 100 },
  ],
}), 'batch-int.1').ruleset;

const stream = (n: number): PaymentInstruction[] => paymentStream(n, { startMs: T0, seed: 11, payers: 4, merchants: ['m-1', 'm-2', 'm-blocked'] });

function screener(store: ScreeningBatchStore, payments: PaymentInstruction[], published: PaymentScreened[]): ScreenBatch {
  const byId = new Map(payments.map((p) => [p.payment_id, p]));
  return new ScreenBatch({
    store,
    ruleset: () => rules,
    verify: async (signed) => byId.get(signed.payment_id),
    ready: async () => undefined,
    intact: async () => true,
    publish: async (screened) => void published.push(screened),
    screenOne: async () => {
      throw new Error('not expected');
    },
    decided: () => undefined,
    now: () => new Date(T0 + 3_600_000),
  });
}

const items = (ps: PaymentInstruction[]) => ps.map((p) => ({ signed: { payment_id: p.payment_id, kid: 'k', instruction_jws: `jws.${p.payment_id}` } satisfies PaymentSigned, key: p.payer.fingerprint }));
const blocklists = () => new InMemoryBlocklists({ merchant: new Map([['m-blocked', { value: 'm-blocked', reason: 'test', added_by: 'x', added_at: '' }]]) });
const summary = (s: PaymentScreened | undefined) => ({ decision: s?.decision, score: s?.score, reasons: s?.reasons });

describe('RedisScreeningBatchStore on real Redis', () => {
  const prefix = `${process.env['PAYRAIL_RUN_KEY_PREFIX'] ?? 'payrail-test:'}screen-batch-${randomUUID()}:`;
  let redis: Redis;

  beforeAll(async () => {
    redis = createRedis({ url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', keyPrefix: prefix }, 'screen-batch-test');
    await redis.connect();
    await redis.hset(BLOCKLISTS_KEY, blocklistField('merchant', 'm-blocked'), JSON.stringify({ value: 'm-blocked', reason: 'test', added_by: 'x', added_at: '' }));
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(prefix.length)));
    await redis.quit();
  });

  it('decides batches of 25 as the in-memory store does; a redelivered batch is answered from the stored decisions', async () => {
    const payments = stream(100);
    // a payment after the stream, of its first payer: it must see the stream counted once, not twice
    const next = instruction({ at: T0 + 150_000, card: { fingerprint: fingerprintOf('payer-0') }, minor: '7' });
    const known = [...payments, next];
    const expected: PaymentScreened[] = [];
    const reference = screener(new InMemoryScreeningBatchStore(new InMemoryVelocityStore(), blocklists()), known, expected);
    const published: PaymentScreened[] = [];
    const onRedis = screener(new RedisScreeningBatchStore(redis, new RedisVelocityStore(redis)), known, published);
    for (let i = 0; i < payments.length; i += 25) {
      await reference.screen(items(payments.slice(i, i + 25)));
      const results = await onRedis.screen(items(payments.slice(i, i + 25)));
      expect(results.every((r) => 'kind' in r && r.kind === 'DECIDED')).toBe(true);
    }
    expect(published.map(summary)).toEqual(expected.map(summary));
    expect(new Set(published.map((s) => s.decision))).toEqual(new Set(['APPROVE', 'REVIEW', 'DECLINE']));

    // the whole stream redelivered as one batch: every payment meets its stored decision, nothing is counted again
    const again = await onRedis.screen(items(payments));
    expect(again.every((r) => 'kind' in r && r.kind === 'DUPLICATE')).toBe(true);
    expect(published.slice(100).map(summary)).toEqual(expected.map(summary));
    const nextExpected: PaymentScreened[] = [];
    await screener(new InMemoryScreeningBatchStore(new InMemoryVelocityStore(), blocklists()), known, nextExpected).screen(items(known));
    expect(nextExpected.at(-1)?.payment_id).toBe(next.payment_id);
    const [nextResult] = await onRedis.screen(items([next]));
    expect(nextResult).toEqual({ kind: 'DECIDED', decision: nextExpected.at(-1)?.decision, paymentId: next.payment_id });
    expect(published).toHaveLength(201);
    expect(published.at(-1)?.payment_id).toBe(next.payment_id);
    expect(summary(published.at(-1))).toEqual(summary(nextExpected.at(-1)));
  });
});
