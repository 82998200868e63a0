// The ledger's scripts against the real Redis (REDIS_URL), isolated by a key prefix.
import fc from 'fast-check';
import { Redis, createRedis } from '@payrail/messaging';
import { batchWindow } from './batch-id';
import { computeFee } from './fees';
import { checkInvariants } from './invariants';
import { LedgerKeys } from './keys';
import { LedgerRepository, batchReport } from './ledger.repository';
import { BatchCursorCache, PostingPlan, postLive } from './posting';
import { ReplyDroppingProxy, deletePrefix, uniquePrefix } from '../testing';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const policy = { cutoffS: 3600, maxPayments: 3 };

function plan(pid: string, merchantId: string, amount: bigint, currency = 'EUR', hour = 10): PostingPlan {
  const fee = computeFee(amount, 150, 10);
  const screenedAt = new Date(Date.UTC(2026, 10, 29, hour, 5)).toISOString();
  return { paymentId: pid, merchantId, currency, amount, fee, net: amount - fee, screenedAt, window: batchWindow(Date.parse(screenedAt), policy.cutoffS) };
}

describe('ledger scripts on Redis', () => {
  const prefix = uniquePrefix('ledger');
  let redis: Redis;
  let ledger: LedgerRepository;

  beforeAll(async () => {
    redis = createRedis({ url: REDIS_URL, keyPrefix: prefix }, 'ledger-int-spec');
    await redis.connect();
    ledger = new LedgerRepository(redis);
  });

  afterAll(async () => {
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it('posts once, answers a redelivery with the first posting, refuses an approval after a decline', async () => {
    const cursors = new BatchCursorCache();
    const p = plan('0190c000-0000-7000-8000-000000000001', 'm-once', 10_000n);
    const first = await postLive(ledger, p, policy, '2026-11-29T10:05:01.000Z', cursors);
    const again = await postLive(ledger, p, policy, '2026-11-29T10:09:00.000Z', cursors);
    expect(first).toEqual({ kind: 'POSTED', batchId: 'm-once.EUR.20261129T100000Z', closedBySize: false });
    expect(again).toEqual({ kind: 'DUPLICATE', batchId: 'm-once.EUR.20261129T100000Z', fee: 160n, net: 9_840n, postedAt: '2026-11-29T10:05:01.000Z' });
    expect(await ledger.balances('m-once')).toEqual([{ currency: 'EUR', clearing: -10_000n, merchant_payable: 9_840n, fee_revenue: 160n }]);

    const declined = plan('0190c000-0000-7000-8000-000000000002', 'm-once', 500n);
    expect(await ledger.hold('m-once', declined.paymentId, 'DECLINE')).toBe('HELD');
    expect(await ledger.hold('m-once', declined.paymentId, 'REVIEW')).toBe('HELD');
    expect(await ledger.held('m-once')).toEqual({ [declined.paymentId]: 'DECLINE' });
    expect(await postLive(ledger, declined, policy, '2026-11-29T10:06:00.000Z', cursors)).toEqual({ kind: 'DECLINED' });

    const reviewed = plan('0190c000-0000-7000-8000-000000000003', 'm-once', 700n);
    expect(await ledger.hold('m-once', reviewed.paymentId, 'REVIEW')).toBe('HELD');
    expect(await postLive(ledger, reviewed, policy, '2026-11-29T10:07:00.000Z', cursors)).toEqual({ kind: 'IN_REVIEW' }); // a re-screening's APPROVE
    expect((await postLive(ledger, { ...reviewed, releasesReview: true }, policy, '2026-11-29T10:07:00.000Z', cursors)).kind).toBe('POSTED'); // analyst approved
    expect(await ledger.held('m-once')).toEqual({ [declined.paymentId]: 'DECLINE' });
    expect(await ledger.hold('m-once', reviewed.paymentId, 'REVIEW')).toBe('ALREADY_POSTED'); // redelivered REVIEW
    expect((await checkInvariants(ledger)).ok).toBe(true);
  });

  it('posts nothing into a merchant whose keys are not of the ledger epoch it works in (Redis lost them, or a restore owns them)', async () => {
    const own = uniquePrefix('ledger-epoch'); // a Redis of its own to lose: the other tests' keys stay
    const second = createRedis({ url: REDIS_URL, keyPrefix: own }, 'ledger-int-spec-epoch');
    await second.connect();
    try {
      const live = new LedgerRepository(second);
      await live.setEpoch('epoch-1');
      live.attachEpoch('epoch-1');
      const p = plan('0190c000-0000-7000-8000-000000000020', 'm-epoch', 1_000n);
      // never opened in this epoch: refused, nothing written
      expect(await live.post({ ...p, postedAt: '2026-11-29T10:05:00.000Z', seq: 1, maxBatchPayments: 10, mode: 'live' })).toEqual({ kind: 'NO_LEDGER' });
      expect(await live.balances('m-epoch')).toEqual([]);
      expect(await live.openMerchant('m-epoch')).toBe('OPEN');
      expect((await postLive(live, p, policy, '2026-11-29T10:05:00.000Z', new BatchCursorCache())).kind).toBe('POSTED');
      // Redis lost the merchant's keys and the epoch: refused again, and opening waits for a restore
      await deletePrefix(second, own);
      const q = plan('0190c000-0000-7000-8000-000000000021', 'm-epoch', 2_000n);
      expect(await postLive(live, q, policy, '2026-11-29T10:06:00.000Z', new BatchCursorCache())).toEqual({ kind: 'NO_LEDGER' });
      expect(await live.openMerchant('m-epoch')).toBe('NO_LEDGER');
      expect(await live.balances('m-epoch')).toEqual([]);
      // a restore claims the merchant for its own epoch: the live repository keeps refusing until it adopts it
      const restore = new LedgerRepository(second);
      restore.attachEpoch('epoch-2');
      await restore.claimMerchant('m-epoch');
      expect((await postLive(restore, p, policy, '2026-11-29T10:05:00.000Z', new BatchCursorCache())).kind).toBe('POSTED');
      expect(await postLive(live, q, policy, '2026-11-29T10:06:00.000Z', new BatchCursorCache())).toEqual({ kind: 'NO_LEDGER' });
      await restore.setEpoch('epoch-2');
      live.attachEpoch('epoch-2');
      expect((await postLive(live, q, policy, '2026-11-29T10:06:00.000Z', new BatchCursorCache())).kind).toBe('POSTED');
      // a merchant stamped with another epoch (a rebuild that died, or stamped while one ran) joins the live one when
      // no restore runs, and waits while one does
      await second.set(LedgerKeys.merchantEpoch('m-stale'), 'epoch-1');
      await second.set(LedgerKeys.restoreLock, 'someone', 'PX', 60_000);
      expect(await live.openMerchant('m-stale')).toBe('NO_LEDGER');
      await second.del(LedgerKeys.restoreLock);
      expect(await live.openMerchant('m-stale')).toBe('OPEN');
      expect(await second.get(LedgerKeys.merchantEpoch('m-stale'))).toBe('epoch-2');
      // a known merchant whose keys went while the ledger's epoch stayed (an eviction, a lost shard) is LOST
      await second.del(LedgerKeys.merchantEpoch('m-stale'));
      expect(await live.openMerchant('m-stale')).toBe('LOST');
      // the epoch is written only by the holder of the restore lease
      expect(await live.setEpochHolding('epoch-3', LedgerKeys.restoreLock, 'me')).toBe(false);
      expect(await live.epoch()).toBe('epoch-2');
      await second.set(LedgerKeys.restoreLock, 'me', 'PX', 60_000);
      expect(await live.setEpochHolding('epoch-3', LedgerKeys.restoreLock, 'me')).toBe(true);
      expect(await live.epoch()).toBe('epoch-3');
      live.attachEpoch('epoch-3');
      await live.setEpoch('epoch-3');
      expect(await live.balances('m-epoch')).toEqual([{ currency: 'EUR', clearing: -3_000n, merchant_payable: 3_000n - p.fee - q.fee, fee_revenue: p.fee + q.fee }]);
    } finally {
      await deletePrefix(second, own);
      await second.quit();
    }
  });

  it('rejects an invalid posting before its first write', async () => {
    const p = plan('0190c000-0000-7000-8000-000000000010', 'm-invalid', 1_000n);
    const keysBefore = await redis.keys(`${prefix}ledger:{m-invalid}*`);
    await expect(ledger.post({ ...p, fee: p.fee + 1n, postedAt: '2026-11-29T10:05:00.000Z', seq: 1, maxBatchPayments: 10, mode: 'live' })).rejects.toThrow(/unbalanced/);
    await expect(ledger.post({ ...p, amount: 0n, fee: 0n, net: 0n, postedAt: '2026-11-29T10:05:00.000Z', seq: 1, maxBatchPayments: 10, mode: 'live' })).rejects.toThrow(/positive integer/);
    await expect(ledger.post({ ...p, amount: 10n ** 16n, fee: 0n, net: 10n ** 16n, postedAt: '2026-11-29T10:05:00.000Z', seq: 1, maxBatchPayments: 10, mode: 'live' })).rejects.toThrow(/10\^15/);
    expect(await redis.keys(`${prefix}ledger:{m-invalid}*`)).toEqual(keysBefore);
  });

  it('closes a batch by size in the posting that fills it, the next payments go to the next batch, and closing twice closes once', async () => {
    const cursors = new BatchCursorCache();
    const outcomes = [];
    for (let i = 1; i <= 4; i++) outcomes.push(await postLive(ledger, plan(`0190c000-0000-7000-8000-00000000010${i}`, 'm-size', 1_000n * BigInt(i)), policy, `2026-11-29T10:10:0${i}.000Z`, new BatchCursorCache()));
    expect(outcomes.map((o) => (o.kind === 'POSTED' ? [o.batchId, o.closedBySize] : o.kind))).toEqual([
      ['m-size.EUR.20261129T100000Z', false],
      ['m-size.EUR.20261129T100000Z', false],
      ['m-size.EUR.20261129T100000Z', true],
      ['m-size.EUR.20261129T100000Z.2', false],
    ]);
    const closed = await ledger.batch('m-size', 'm-size.EUR.20261129T100000Z');
    expect(closed).toMatchObject({ state: 'closed', closeReason: 'size', closedAt: '2026-11-29T10:10:03.000Z', count: 3, gross: 6_000n });
    expect(await ledger.unreportedBatchIds('m-size')).toEqual(['m-size.EUR.20261129T100000Z']);
    const report = batchReport(closed ?? (undefined as never), await ledger.batchPaymentIds('m-size', 'm-size.EUR.20261129T100000Z'));
    expect(report).toMatchObject({ payment_count: 3, gross: { minor: '6000', currency: 'EUR' }, close_reason: 'size' });

    expect(await ledger.closeBatch('m-size', 'm-size.EUR.20261129T100000Z.2', '2026-11-29T11:00:30.000Z', 'cutoff')).toBe('CLOSED');
    expect(await ledger.closeBatch('m-size', 'm-size.EUR.20261129T100000Z.2', '2026-11-29T11:05:00.000Z', 'cutoff')).toBe('ALREADY_CLOSED');
    expect((await ledger.batch('m-size', 'm-size.EUR.20261129T100000Z.2'))?.closedAt).toBe('2026-11-29T11:00:30.000Z');
    // a late payment of the closed window opens the window's next batch
    expect(await postLive(ledger, plan('0190c000-0000-7000-8000-000000000109', 'm-size', 5n), policy, '2026-11-29T11:01:00.000Z', cursors)).toMatchObject({ kind: 'POSTED', batchId: 'm-size.EUR.20261129T100000Z.3' });
    expect(await ledger.markReported('m-size', 'm-size.EUR.20261129T100000Z', '2026-11-29T10:10:04.000Z')).toBe('REPORTED');
    expect(await ledger.recordSigned('m-size', 'm-size.EUR.20261129T100000Z', 'kid-1', 'a.b.c', '2026-11-29T10:10:05.000Z')).toBe('RECORDED');
    expect(await ledger.recordSigned('m-size', 'm-size.EUR.20261129T100000Z', 'kid-1', 'x.y.z', '2026-11-29T10:10:06.000Z')).toBe('DUPLICATE');
    expect((await ledger.batch('m-size', 'm-size.EUR.20261129T100000Z'))).toMatchObject({ status: 'signed', reportJws: 'a.b.c' });
    expect((await checkInvariants(ledger)).ok).toBe(true);
  });

  it('does not post twice when the connection is cut after the script ran but before its reply', async () => {
    const url = new URL(REDIS_URL);
    const proxy = new ReplyDroppingProxy({ host: url.hostname, port: Number(url.port || 6379) });
    await proxy.start();
    const viaProxy = createRedis({ url: `redis://127.0.0.1:${proxy.port}${url.pathname}`, keyPrefix: prefix }, 'ledger-int-spec-proxy');
    await viaProxy.connect();
    try {
      const cutLedger = new LedgerRepository(viaProxy);
      const cursors = new BatchCursorCache();
      expect((await postLive(cutLedger, plan('0190c000-0000-7000-8000-000000000201', 'm-cut', 100n), policy, '2026-11-29T10:00:01.000Z', cursors)).kind).toBe('POSTED'); // loads the script
      const sentBefore = proxy.sent.join('').split('0190c000-0000-7000-8000-000000000202').length - 1;
      proxy.dropNextReply();
      const outcome = await postLive(cutLedger, plan('0190c000-0000-7000-8000-000000000202', 'm-cut', 2_500n), policy, '2026-11-29T10:00:02.000Z', cursors);
      const sends = proxy.sent.join('').split('0190c000-0000-7000-8000-000000000202').length - 1 - sentBefore;
      expect(sends).toBeGreaterThanOrEqual(2); // the script reached Redis twice: once before the cut, once re-sent
      expect(outcome.kind).toBe('DUPLICATE'); // ...and the re-sent one was a no-op
      // fees: 100 -> 1.5 rounds to 2, + 10 fixed = 12; 2,500 -> 37.5 rounds to 38, + 10 = 48
      expect(await ledger.balances('m-cut')).toEqual([{ currency: 'EUR', clearing: -2_600n, merchant_payable: 2_540n, fee_revenue: 60n }]);
      expect((await ledger.batch('m-cut', 'm-cut.EUR.20261129T100000Z'))?.count).toBe(2);
    } finally {
      viaProxy.disconnect();
      await proxy.stop();
    }
  });

  it('keeps balances at zero and every batch equal to its postings with two clients racing on duplicates (property, real scripts)', async () => {
    const second = createRedis({ url: REDIS_URL, keyPrefix: prefix }, 'ledger-int-spec-2');
    await second.connect();
    const ledgers = [ledger, new LedgerRepository(second)] as const;
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ n: fc.nat(7), amount: fc.bigInt({ min: 1n, max: 10n ** 12n }), hour: fc.nat(2), invalid: fc.nat(9).map((x) => x === 0), hold: fc.constantFrom<'REVIEW' | 'DECLINE' | undefined>(undefined, undefined, undefined, 'REVIEW', 'DECLINE') }), { minLength: 1, maxLength: 8 }),
          async (steps) => {
            const m = `m-prop-${run++}`;
            const cursors = [new BatchCursorCache(), new BatchCursorCache()];
            for (const step of steps) {
              const pid = `0190c000-0000-7000-8000-${String(step.n).padStart(12, '0')}`;
              const p = plan(pid, m, step.amount, 'EUR', 10 + step.hour);
              if (step.hold) await (step.n % 2 === 0 ? ledgers[0] : ledgers[1]).hold(m, pid, step.hold);
              // the same payment from both instances at once, one of them re-sent (lost reply), plus an invalid one
              await Promise.allSettled([
                postLive(ledgers[0], p, { cutoffS: 3600, maxPayments: 2 }, '2026-11-29T10:30:00.000Z', cursors[0] ?? new BatchCursorCache()),
                postLive(ledgers[1], p, { cutoffS: 3600, maxPayments: 2 }, '2026-11-29T10:30:00.000Z', cursors[1] ?? new BatchCursorCache()),
                postLive(ledgers[1], p, { cutoffS: 3600, maxPayments: 2 }, '2026-11-29T10:30:00.000Z', cursors[1] ?? new BatchCursorCache()),
                step.invalid ? ledgers[0].post({ ...p, fee: p.fee + 1n, postedAt: '2026-11-29T10:30:00.000Z', seq: 1, maxBatchPayments: 2, mode: 'live' }) : Promise.resolve(),
              ]);
              const balances = await ledger.balances(m);
              for (const b of balances) expect(b.clearing + b.merchant_payable + b.fee_revenue).toBe(0n);
            }
            await ledger.registerMerchant(m);
            const report = await checkInvariants(ledger);
            expect(report.violations.filter((v) => v.merchantId === m)).toEqual([]);
          },
        ),
        { numRuns: 60 },
      );
    } finally {
      await second.quit();
    }
  });
});
