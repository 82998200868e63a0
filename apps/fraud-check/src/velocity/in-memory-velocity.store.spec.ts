import fc from 'fast-check';
import { InMemoryVelocityStore, SortedTimes } from './in-memory-velocity.store';
import { VELOCITY_WINDOWS, VelocityEvent, WINDOW_NAMES } from './velocity';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const MIN = 60_000;
const HOUR = 3_600_000;

function event(id: string, atMs: number, o: Partial<VelocityEvent> = {}): VelocityEvent {
  return { paymentId: id, atMs, currency: 'EUR', amountMinor: 100n, payee: 'm-1', small: false, trackPayees: true, duplicateLookbackMs: 0, ...o };
}

describe('InMemoryVelocityStore', () => {
  it('counts and sums per window, and forgets payments as they leave each window', async () => {
    const store = new InMemoryVelocityStore();
    await store.record('card', 'c', event('p1', T0, { amountMinor: 1000n }));
    await store.record('card', 'c', event('p2', T0 + 30_000, { amountMinor: 2000n }));
    const third = await store.record('card', 'c', event('p3', T0 + 61_000, { amountMinor: 4000n }));
    // p1 left the minute (61 s later), p2 is still in it
    expect(third.windows['1m']).toMatchObject({ count: 2, sumMinor: 6000n });
    expect(third.windows['1h']).toMatchObject({ count: 3, sumMinor: 7000n });
    const later = await store.record('card', 'c', event('p4', T0 + 2 * HOUR, { amountMinor: 8000n }));
    expect(later.windows['1h']).toMatchObject({ count: 1, sumMinor: 8000n });
    expect(later.windows['24h']).toMatchObject({ count: 4, sumMinor: 15000n });
    const nextDay = await store.record('card', 'c', event('p5', T0 + 25 * HOUR, { amountMinor: 1n }));
    expect(nextDay.windows['24h']).toMatchObject({ count: 2, sumMinor: 8001n });
  });

  it('records a payment once: the same id again changes nothing', async () => {
    const store = new InMemoryVelocityStore();
    const first = await store.record('ip', '203.0.113.7', event('p1', T0, { amountMinor: 500n }));
    const again = await store.record('ip', '203.0.113.7', event('p1', T0, { amountMinor: 500n }));
    expect(again).toEqual(first);
    expect(again.windows['24h']).toMatchObject({ count: 1, sumMinor: 500n });
  });

  it('keeps sums per currency: a window holds EUR and JPY apart', async () => {
    const store = new InMemoryVelocityStore();
    await store.record('card', 'c', event('p1', T0, { amountMinor: 1000n, currency: 'EUR' }));
    const jpy = await store.record('card', 'c', event('p2', T0 + 1, { amountMinor: 7n, currency: 'JPY' }));
    expect(jpy.windows['1m']).toMatchObject({ count: 2, sumMinor: 7n });
  });

  it('counts distinct payers and small payments of an IP or device', async () => {
    const store = new InMemoryVelocityStore();
    let last;
    for (let i = 0; i < 6; i++) last = await store.record('device', 'd', event(`p${i}`, T0 + i * MIN, { payerFingerprint: `card-${i % 4}`, small: i % 2 === 0, trackPayees: false }));
    expect(last?.windows['1h']).toMatchObject({ count: 6, distinctPayers: 4, smallPayments: 3 });
    expect(last?.windows['1m']).toMatchObject({ count: 1, distinctPayers: 1, smallPayments: 0 });
  });

  it('answers first payment to a payee until a payment to it was approved', async () => {
    const store = new InMemoryVelocityStore();
    expect((await store.record('card', 'c', event('p1', T0))).firstPaymentToPayee).toBe(true);
    expect((await store.record('card', 'c', event('p2', T0 + 1))).firstPaymentToPayee).toBe(true);
    await store.markPayeeKnown('card', 'c', 'm-1', 'p2');
    // the approved one stays "first" when redelivered; every later one is not
    expect((await store.record('card', 'c', event('p2', T0 + 1))).firstPaymentToPayee).toBe(true);
    expect((await store.record('card', 'c', event('p3', T0 + 2))).firstPaymentToPayee).toBe(false);
    expect((await store.record('card', 'c', event('p4', T0 + 3, { payee: 'm-2' }))).firstPaymentToPayee).toBe(true);
  });

  it('finds the latest earlier payment with the same payee, currency and amount within the lookback', async () => {
    const store = new InMemoryVelocityStore();
    const lookback = 120_000;
    await store.record('card', 'c', event('p1', T0, { amountMinor: 999n, duplicateLookbackMs: lookback }));
    await store.record('card', 'c', event('p2', T0 + 10_000, { amountMinor: 999n, payee: 'm-2', duplicateLookbackMs: lookback }));
    await store.record('card', 'c', event('p3', T0 + 20_000, { amountMinor: 999n, duplicateLookbackMs: lookback }));
    const p4 = await store.record('card', 'c', event('p4', T0 + 30_000, { amountMinor: 999n, duplicateLookbackMs: lookback }));
    expect(p4.duplicateOf).toEqual({ paymentId: 'p3', atMs: T0 + 20_000 });
    const other = await store.record('card', 'c', event('p5', T0 + 40_000, { amountMinor: 998n, duplicateLookbackMs: lookback }));
    expect(other.duplicateOf).toBeUndefined();
    const late = await store.record('card', 'c', event('p6', T0 + 20_000 + lookback + 1, { amountMinor: 999n, duplicateLookbackMs: lookback }));
    expect(late.duplicateOf).toEqual({ paymentId: 'p4', atMs: T0 + 30_000 });
    // a redelivered p3 still points at p1, never at the later p4
    expect((await store.record('card', 'c', event('p3', T0 + 20_000, { amountMinor: 999n, duplicateLookbackMs: lookback }))).duplicateOf).toEqual({ paymentId: 'p1', atMs: T0 });
  });

  it('judges a late payment against the window at the watermark', async () => {
    const store = new InMemoryVelocityStore();
    await store.record('card', 'c', event('p1', T0 + 10 * MIN));
    const late = await store.record('card', 'c', event('p0', T0));
    expect(late.watermarkMs).toBe(T0 + 10 * MIN);
    expect(late.windows['1m'].count).toBe(1);
    expect(late.windows['1h'].count).toBe(2);
  });

  // the model: everything recorded and not yet expired, filtered by window at the watermark
  it('matches a direct computation over any sequence (exact sums beyond 2^53, redeliveries, late and far-apart payments)', async () => {
    const step = fc.record({
      id: fc.integer({ min: 0, max: 40 }),
      dt: fc.oneof(fc.integer({ min: 0, max: 90_000 }), fc.integer({ min: -120_000, max: 0 }), fc.constantFrom(HOUR, 24 * HOUR)),
      amount: fc.bigInt({ min: 0n, max: 10n ** 15n }),
      currency: fc.constantFrom('EUR', 'JPY'),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 120 }), async (steps) => {
        const store = new InMemoryVelocityStore();
        const model = new Map<string, { at: number; currency: string; amount: bigint }>();
        let now = T0;
        let wm = -Infinity;
        const firstSeen = new Map<string, { at: number; currency: string; amount: bigint }>();
        for (const s of steps) {
          const id = `p${s.id}`;
          const original = firstSeen.get(id);
          // a redelivery carries the same payment as the first time
          const p = original ?? { at: (now += s.dt), currency: s.currency, amount: s.amount };
          firstSeen.set(id, p);
          const got = await store.record('card', 'c', event(id, p.at, { amountMinor: p.amount, currency: p.currency, trackPayees: false }));
          wm = Math.max(wm, p.at);
          for (const [k, v] of model) if (v.at <= wm - VELOCITY_WINDOWS['24h']) model.delete(k);
          if (!model.has(id) && p.at > wm - VELOCITY_WINDOWS['24h'] && !original) model.set(id, p);
          for (const w of WINDOW_NAMES) {
            const inWindow = [...model.values()].filter((e) => e.at > wm - VELOCITY_WINDOWS[w]);
            expect(got.windows[w].count).toBe(inWindow.length);
            expect(got.windows[w].sumMinor).toBe(inWindow.filter((e) => e.currency === p.currency).reduce((a, e) => a + e.amount, 0n));
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('SortedTimes', () => {
  it('orders by time then member, moves a member on set, and removes up to a cutoff', () => {
    const s = new SortedTimes();
    s.set('b', 5);
    s.set('a', 5);
    s.set('c', 1);
    s.set('c', 9);
    expect(s.between(0, 10).map((e) => e.member)).toEqual(['a', 'b', 'c']);
    expect(s.countAfter(5)).toBe(1);
    expect(s.removeUpTo(5)).toEqual(['a', 'b']);
    expect(s.size).toBe(1);
  });
});
