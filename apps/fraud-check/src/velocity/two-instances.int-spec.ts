// Two fraud-check instances in one consumer group over the real broker and Redis, with rebalances while payments
// flow (the second instance joins mid-stream, the first leaves mid-stream), redelivered signed messages, and
// payments whose velocity an instance had already recorded before "crashing": every payment is counted exactly
// once, counts and sums (beyond 2^53) are exact per card and per IP, and every payment has one decision.
import { randomUUID } from 'node:crypto';
import { PaymentInstruction, PaymentScreened } from '@payrail/contracts';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { FraudCheckHarness } from '../../test/fraud-check-harness';
import { fingerprintOf, instruction } from '../../test/payments';
import { decisionKey, fromDecisionRecord } from '../screening/decision-record';
import { RedisVelocityStore } from './redis-velocity.store';
import { VELOCITY_WINDOWS } from './velocity';

const CARDS = 40;
const PER_CARD = 40;
const IPS = 8;
const WAVES = 4;

// Everything is declined (nothing downstream acts on these payments); score-0 rules that always fire record the
// velocity each payment observed in its decision.
const RULESET = {
  version: 'it-two-instances.1',
  thresholds: { review: 50, decline: 100 },
  rules: [
    { id: 'test.decline_all', type: 'amount_limit', score: 100, limits: { EUR: '0' } },
    { id: 'observe.card', type: 'velocity', dimension: 'card', window: '24h', max_count: 0, max_sum: { EUR: '0' }, score: 0 },
    { id: 'observe.ip', type: 'velocity', dimension: 'ip', window: '24h', max_count: 0, score: 0 },
  ],
};

let h: FraudCheckHarness;

beforeAll(async () => {
  h = await FraudCheckHarness.start({ ruleset: RULESET, instances: 1 });
});

afterAll(async () => {
  await h?.stop();
});

async function assignedPartitions(): Promise<number[]> {
  return Promise.all(
    h.apps.map(async (app) => {
      const health = await app.get(MessagingRuntime).health();
      return (health.detail['consumers'] as { partitions: number }[]).reduce((n, c) => n + c.partitions, 0);
    }),
  );
}

async function until(what: string, done: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('keeps velocity counts and sums exact with two instances consuming, rebalancing and redelivering', async () => {
  const run = randomUUID().slice(0, 8);
  const cards = Array.from({ length: CARDS }, (_, c) => fingerprintOf(`two-${run}-card-${c}`));
  const ips = Array.from({ length: IPS }, (_, i) => `198.18.${Number.parseInt(run.slice(0, 2), 16)}.${i + 1}`);
  const t0 = Date.now();
  // payment k of every card in wave k / (PER_CARD / WAVES); amounts up to 10^15 so the sums pass 2^53
  const payments: PaymentInstruction[][] = Array.from({ length: WAVES }, () => []);
  let seq = 0;
  for (let k = 0; k < PER_CARD; k++) {
    for (let c = 0; c < CARDS; c++) {
      const minor = (10n ** 15n - BigInt(seq * 7919)).toString();
      const p = instruction({ at: t0 + seq, minor, merchant: `m-${c % 5}`, card: { fingerprint: cards[c] }, context: { ip: ips[seq % IPS] } });
      payments[Math.floor(k / (PER_CARD / WAVES))]?.push(p);
      seq++;
    }
  }
  const all = payments.flat();

  // an instance that "crashed" after recording velocity for these payments, before deciding them
  const crashedCards = new Set(cards.slice(0, 4));
  const store = new RedisVelocityStore(h.redis);
  const preRecorded = all.filter((p) => crashedCards.has(p.payer.fingerprint)).filter((_, i) => i % 3 === 0);
  for (const p of preRecorded) {
    const event = { paymentId: p.payment_id, atMs: Date.parse(p.accepted_at), currency: 'EUR', amountMinor: BigInt(p.amount.minor), payee: p.payee.merchant_id, small: false, duplicateLookbackMs: 0 };
    await store.record('card', p.payer.fingerprint, { ...event, trackPayees: true });
    if (p.context?.ip) await store.record('ip', p.context.ip, { ...event, payerFingerprint: p.payer.fingerprint, trackPayees: false });
  }

  const decided = () => all.filter((p) => h.reader.screenedOf(p.payment_id).length > 0).length;
  const publishWave = async (wave: PaymentInstruction[]) => {
    const signed = wave.map((p) => ({ p, s: h.sign(p) }));
    await Promise.all(signed.map(({ p, s }) => h.publish(s, p.payer.fingerprint)));
    // signing redelivers some: the same signed messages once more
    await Promise.all(signed.filter((_, i) => i % 10 === 0).map(({ p, s }) => h.publish(s, p.payer.fingerprint)));
  };

  const [first] = h.apps;
  if (!first) throw new Error('no instance');
  await publishWave(payments[0] ?? []);
  await until('the first wave to be under way', async () => decided() > 100);
  const second = await h.startInstance();
  await publishWave(payments[1] ?? []);
  await until('both instances to own partitions', async () => (await assignedPartitions()).every((n) => n > 0));
  expect((await assignedPartitions()).reduce((a, b) => a + b, 0)).toBe(12);
  await publishWave(payments[2] ?? []);
  await until('the third wave to be under way', async () => decided() > 2.3 * CARDS * (PER_CARD / WAVES));
  await h.stopInstance(first); // leaves mid-stream: the second takes every partition over
  await publishWave(payments[3] ?? []);
  await until('every payment decided', async () => decided() === all.length, 120_000);
  expect(h.apps).toEqual([second]);

  // one decision per payment: every screened event of a payment is the same (re-published, never re-decided)
  const decisions = new Map<string, PaymentScreened>();
  for (const p of all) {
    const events = h.reader.screenedOf(p.payment_id).map((e) => e.data);
    expect([...new Set(events.map((e) => JSON.stringify(e)))]).toEqual([JSON.stringify(events[0])]);
    const first = events[0];
    if (!first) throw new Error(`no decision for ${p.payment_id}`);
    const stored = fromDecisionRecord((await h.redis.get(decisionKey(p.payment_id))) ?? 'null', first);
    expect(stored).toEqual({ ...first, seal: undefined }); // Redis keeps the decision unsealed; it is sealed when published
    decisions.set(p.payment_id, stored);
  }

  // the state: each card holds exactly its payments, with their exact sum; each IP likewise
  const window = String(VELOCITY_WINDOWS['24h']);
  const state = async (dimension: 'card' | 'ip', value: string) => {
    const [ev, , agg] = store.keys(dimension, value);
    const [count, hi, lo] = await Promise.all([h.redis.zcard(ev ?? ''), h.redis.hget(agg ?? '', `s:${window}:EUR:h`), h.redis.hget(agg ?? '', `s:${window}:EUR:l`)]);
    return { count, sum: BigInt(hi ?? '0') * 1_000_000_000n + BigInt(lo ?? '0') };
  };
  const sumOf = (ps: PaymentInstruction[]) => ps.reduce((s, p) => s + BigInt(p.amount.minor), 0n);
  for (const card of cards) {
    const own = all.filter((p) => p.payer.fingerprint === card);
    expect(await state('card', card)).toEqual({ count: PER_CARD, sum: sumOf(own) });
  }
  for (const ip of ips) {
    const own = all.filter((p) => p.context?.ip === ip);
    expect(await state('ip', ip)).toEqual({ count: own.length, sum: sumOf(own) });
  }
  expect(sumOf(all.filter((p) => p.payer.fingerprint === cards[0])) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);

  // what each payment saw: per card (in order on its partition) the counts 1..40, each once
  for (const card of cards.filter((c) => !crashedCards.has(c))) {
    const seen = all
      .filter((p) => p.payer.fingerprint === card)
      .map((p) => decisions.get(p.payment_id)?.reasons.find((r) => r.rule === 'observe.card')?.observed?.['count'])
      .sort((a, b) => Number(a) - Number(b));
    expect(seen).toEqual(Array.from({ length: PER_CARD }, (_, i) => i + 1));
  }
});
