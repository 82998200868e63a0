// The ledger's scripts against the real Redis (REDIS_URL), isolated by a key prefix.
import fc from 'fast-check';
import { Redis, createRedis } from '@payrail/messaging';
import { batchWindow } from './batch-id';
import { computeFee } from './fees';
import { checkInvariants } from './invariants';
import { LedgerKeys } from './keys';
import { BatchOperation, BatchOperationOutcome, LedgerRepository, batchReport } from './ledger.repository';
import { BatchCursorCache, PostingPlan, postLive, postLiveBatch } from './posting';
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

  describe('a consumed batch in one script per merchant (postBatch)', () => {
    const post = (p: PostingPlan): BatchOperation => ({ kind: 'post', posting: p });
    const hold = (paymentId: string, decision: 'REVIEW' | 'DECLINE'): BatchOperation => ({ kind: 'hold', paymentId, decision });
    const noWait = async () => {
      throw new Error('unexpected NO_LEDGER');
    };
    const pid = (n: number) => `0190c000-0000-7000-8000-${String(n).padStart(12, '0')}`;
    const summary = (o: BatchOperationOutcome) => (o.kind === 'POSTED' ? `POSTED ${o.batchId}${o.closedBySize ? ' closed' : ''}` : o.kind === 'DUPLICATE' ? `DUPLICATE ${o.batchId}` : o.kind);

    it('posts two currencies and windows in order, closes by size mid-batch, finds a payment twice in one batch, and keeps each payment\'s decisions in order', async () => {
      const m = 'm-batch';
      const cursors = new BatchCursorCache();
      const ops: BatchOperation[] = [
        post(plan(pid(301), m, 1_000n)),
        post(plan(pid(302), m, 2_000n, 'JPY')),
        post(plan(pid(301), m, 1_000n)), // the same payment again in the same batch
        post(plan(pid(303), m, 3_000n)),
        post(plan(pid(304), m, 4_000n)), // fills the first EUR batch (3): closed by size
        post(plan(pid(305), m, 5_000n)), // the window's next batch
        post(plan(pid(306), m, 6_000n, 'EUR', 11)), // the next window
        hold(pid(307), 'DECLINE'),
        post(plan(pid(307), m, 7_000n)), // approval after a decline: refused
        hold(pid(308), 'REVIEW'),
        post(plan(pid(308), m, 8_000n)), // automatic approval of a review: refused
        post({ ...plan(pid(308), m, 8_000n), releasesReview: true }), // the analyst's: posted
        post(plan(pid(309), m, 9_000n, 'JPY')),
        hold(pid(309), 'DECLINE'), // after its posting: the posting stands
      ];
      const outcomes = await postLiveBatch(ledger, m, ops, policy, '2026-11-29T10:20:00.000Z', cursors, noWait);
      expect(outcomes.map(summary)).toEqual([
        'POSTED m-batch.EUR.20261129T100000Z',
        'POSTED m-batch.JPY.20261129T100000Z',
        'DUPLICATE m-batch.EUR.20261129T100000Z',
        'POSTED m-batch.EUR.20261129T100000Z',
        'POSTED m-batch.EUR.20261129T100000Z closed',
        'POSTED m-batch.EUR.20261129T100000Z.2',
        'POSTED m-batch.EUR.20261129T110000Z',
        'HELD',
        'DECLINED',
        'HELD',
        'IN_REVIEW',
        'POSTED m-batch.EUR.20261129T100000Z.2',
        'POSTED m-batch.JPY.20261129T100000Z',
        'ALREADY_POSTED',
      ]);
      expect(outcomes[2]).toEqual({ kind: 'DUPLICATE', batchId: 'm-batch.EUR.20261129T100000Z', fee: computeFee(1_000n, 150, 10), net: 1_000n - computeFee(1_000n, 150, 10), postedAt: '2026-11-29T10:20:00.000Z' });
      expect(await ledger.batch(m, 'm-batch.EUR.20261129T100000Z')).toMatchObject({ state: 'closed', closeReason: 'size', count: 3, gross: 8_000n });
      expect(await ledger.batchPaymentIds(m, 'm-batch.EUR.20261129T100000Z.2')).toEqual([pid(305), pid(308)]);
      expect(await ledger.held(m)).toEqual({ [pid(307)]: 'DECLINE' });
      expect(await ledger.balances(m)).toEqual([
        { currency: 'EUR', clearing: -(1_000n + 3_000n + 4_000n + 5_000n + 6_000n + 8_000n), merchant_payable: expect.any(BigInt), fee_revenue: expect.any(BigInt) },
        { currency: 'JPY', clearing: -(2_000n + 9_000n), merchant_payable: expect.any(BigInt), fee_revenue: expect.any(BigInt) },
      ]);
      expect(cursors.get(m, 'EUR:20261129T100000Z')).toBe(2);
      await ledger.registerMerchant(m);
      expect((await checkInvariants(ledger)).violations.filter((v) => v.merchantId === m)).toEqual([]);

      // the whole batch redelivered (a crash before the commit), by an instance with no hints: nothing posts twice
      const balances = await ledger.balances(m);
      const again = await postLiveBatch(ledger, m, ops, policy, '2026-11-29T10:25:00.000Z', new BatchCursorCache(), noWait);
      expect(again.map((o) => o.kind)).toEqual(['DUPLICATE', 'DUPLICATE', 'DUPLICATE', 'DUPLICATE', 'DUPLICATE', 'DUPLICATE', 'DUPLICATE', 'HELD', 'DECLINED', 'ALREADY_POSTED', 'DUPLICATE', 'DUPLICATE', 'DUPLICATE', 'ALREADY_POSTED']);
      expect(again[5]).toMatchObject({ batchId: 'm-batch.EUR.20261129T100000Z.2', postedAt: '2026-11-29T10:20:00.000Z' });
      expect(await ledger.balances(m)).toEqual(balances);
      expect((await ledger.batch(m, 'm-batch.EUR.20261129T100000Z.2'))?.count).toBe(2);
    });

    it('refuses an invalid posting before its first write and skips the later decisions of that payment, the others post', async () => {
      const m = 'm-batch-invalid';
      const bad = plan(pid(401), m, 1_000n);
      const outcomes = await postLiveBatch(ledger, m, [post(plan(pid(400), m, 500n)), post({ ...bad, fee: bad.fee + 1n }), hold(pid(401), 'DECLINE'), post(plan(pid(402), m, 700n))], policy, '2026-11-29T10:20:00.000Z', new BatchCursorCache(), noWait);
      expect(outcomes.map((o) => o.kind)).toEqual(['POSTED', 'ERROR', 'SKIPPED', 'POSTED']);
      expect(outcomes[1]).toMatchObject({ message: expect.stringMatching(/unbalanced/) });
      expect(await ledger.posting(m, pid(401))).toBeUndefined();
      expect(await ledger.held(m)).toEqual({});
      expect((await ledger.batch(m, 'm-batch-invalid.EUR.20261129T100000Z'))?.count).toBe(2);
    });

    it('follows the cursor when its hint is stale (another instance closed batches) and declares the keys of every batch it fills', async () => {
      const m = 'm-batch-stale';
      // another instance filled batches 1 and 2 of the window
      const other = new BatchCursorCache();
      for (let i = 0; i < 6; i++) await postLive(ledger, plan(pid(500 + i), m, 100n), policy, '2026-11-29T10:20:00.000Z', other);
      const stale = new BatchCursorCache(); // hint: batch 1
      const ops = Array.from({ length: 10 }, (_, i) => post(plan(pid(510 + i), m, 1_000n)));
      const outcomes = await postLiveBatch(ledger, m, ops, policy, '2026-11-29T10:21:00.000Z', stale, noWait);
      expect(outcomes.map(summary)).toEqual([
        ...Array.from({ length: 2 }, () => 'POSTED m-batch-stale.EUR.20261129T100000Z.3'),
        'POSTED m-batch-stale.EUR.20261129T100000Z.3 closed',
        ...Array.from({ length: 2 }, () => 'POSTED m-batch-stale.EUR.20261129T100000Z.4'),
        'POSTED m-batch-stale.EUR.20261129T100000Z.4 closed',
        ...Array.from({ length: 2 }, () => 'POSTED m-batch-stale.EUR.20261129T100000Z.5'),
        'POSTED m-batch-stale.EUR.20261129T100000Z.5 closed',
        'POSTED m-batch-stale.EUR.20261129T100000Z.6',
      ]);
      expect(stale.get(m, 'EUR:20261129T100000Z')).toBe(6);
      await ledger.registerMerchant(m);
      expect((await checkInvariants(ledger)).violations.filter((v) => v.merchantId === m)).toEqual([]);
    });

    it('keeps skipping the later decisions of a refused payment when the batch goes on in another script after a stale hint', async () => {
      const m = 'm-batch-stale-refused';
      const other = new BatchCursorCache();
      for (let i = 0; i < 9; i++) await postLive(ledger, plan(pid(900 + i), m, 100n), policy, '2026-11-29T10:20:00.000Z', other); // EUR cursor at 4
      const bad = plan(pid(920), m, 1_000n, 'JPY');
      const outcomes = await postLiveBatch(ledger, m, [post({ ...bad, fee: bad.fee + 1n }), post(plan(pid(921), m, 500n)), hold(pid(920), 'DECLINE')], policy, '2026-11-29T10:21:00.000Z', new BatchCursorCache(), noWait);
      expect(outcomes.map(summary)).toEqual(['ERROR', 'POSTED m-batch-stale-refused.EUR.20261129T100000Z.4', 'SKIPPED']);
      expect(await ledger.held(m)).toEqual({});
      expect(await ledger.posting(m, pid(920))).toBeUndefined();
    });

    it('writes nothing into a merchant whose keys are not of its epoch, and posts the whole batch once the ledger is back', async () => {
      const m = 'm-batch-epoch';
      await redis.set(LedgerKeys.merchantEpoch(m), 'epoch-b');
      const attached = new LedgerRepository(redis);
      attached.attachEpoch('epoch-a');
      let waits = 0;
      const outcomes = await postLiveBatch(attached, m, [hold(pid(601), 'DECLINE'), post(plan(pid(602), m, 100n))], policy, '2026-11-29T10:20:00.000Z', new BatchCursorCache(), async () => {
        waits++;
        expect(await redis.keys(`${prefix}ledger:{${m}}:*`)).toEqual([`${prefix}ledger:{${m}}:epoch`]);
        await redis.set(LedgerKeys.merchantEpoch(m), 'epoch-a'); // restored
      });
      expect(waits).toBe(1);
      expect(outcomes.map((o) => o.kind)).toEqual(['HELD', 'POSTED']);
    });

    it('posts nothing twice when the connection is cut after the batch script ran but before its reply (ioredis re-sends it)', async () => {
      const url = new URL(REDIS_URL);
      const proxy = new ReplyDroppingProxy({ host: url.hostname, port: Number(url.port || 6379) });
      await proxy.start();
      const viaProxy = createRedis({ url: `redis://127.0.0.1:${proxy.port}${url.pathname}`, keyPrefix: prefix }, 'ledger-int-spec-batch-proxy');
      await viaProxy.connect();
      try {
        const m = 'm-batch-cut';
        const cutLedger = new LedgerRepository(viaProxy);
        expect((await postLiveBatch(cutLedger, m, [post(plan(pid(801), m, 100n))], policy, '2026-11-29T10:00:01.000Z', new BatchCursorCache(), noWait))[0]?.kind).toBe('POSTED'); // loads the script
        proxy.dropNextReply();
        const outcomes = await postLiveBatch(cutLedger, m, [post(plan(pid(802), m, 2_500n)), post(plan(pid(803), m, 1_000n, 'JPY'))], policy, '2026-11-29T10:00:02.000Z', new BatchCursorCache(), noWait);
        expect(outcomes.map((o) => o.kind)).toEqual(['DUPLICATE', 'DUPLICATE']); // the re-sent script found both
        expect(await ledger.balances(m)).toEqual([
          { currency: 'EUR', clearing: -2_600n, merchant_payable: 2_540n, fee_revenue: 60n },
          { currency: 'JPY', clearing: -1_000n, merchant_payable: 1_000n - computeFee(1_000n, 150, 10), fee_revenue: computeFee(1_000n, 150, 10) },
        ]);
      } finally {
        viaProxy.disconnect();
        await proxy.stop();
      }
    });

    it('gives the outcomes and the ledger that the same decisions one script at a time give (property, real scripts)', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ n: fc.nat(6), amount: fc.bigInt({ min: 1n, max: 10n ** 12n }), hour: fc.nat(1), currency: fc.constantFrom('EUR', 'JPY'), kind: fc.constantFrom<'post' | 'review' | 'analyst' | 'REVIEW' | 'DECLINE'>('post', 'post', 'post', 'analyst', 'REVIEW', 'DECLINE') }), { minLength: 1, maxLength: 14 }),
          async (steps) => {
            const [one, batched] = [`m-eq-${run}-one`, `m-eq-${run}-batch`];
            run++;
            const ops = (m: string): BatchOperation[] =>
              steps.map((s) => {
                // one payment keeps one amount, currency and screening time whatever the step says
                const first = steps.find((t) => t.n === s.n) ?? s;
                const p = plan(pid(700 + s.n), m, first.amount, first.currency, 10 + first.hour);
                return s.kind === 'REVIEW' || s.kind === 'DECLINE' ? hold(p.paymentId, s.kind) : post({ ...p, releasesReview: s.kind === 'analyst' });
              });
            const pol = { cutoffS: 3600, maxPayments: 2 };
            const cursors = new BatchCursorCache();
            const sequential: string[] = [];
            for (const op of ops(one)) {
              if (op.kind === 'hold') sequential.push(await ledger.hold(one, op.paymentId, op.decision));
              else sequential.push((await postLive(ledger, op.posting, pol, '2026-11-29T10:30:00.000Z', cursors)).kind);
            }
            const batchedOutcomes = await postLiveBatch(ledger, batched, ops(batched), pol, '2026-11-29T10:30:00.000Z', new BatchCursorCache(), noWait);
            expect(batchedOutcomes.map((o) => o.kind)).toEqual(sequential);
            expect(await ledger.balances(batched)).toEqual(await ledger.balances(one));
            expect(await ledger.held(batched)).toEqual(await ledger.held(one));
            const batches = async (m: string) => Promise.all((await ledger.batchIds(m)).map(async (id) => [id.slice(m.length), (await ledger.batch(m, id))?.count, (await ledger.batch(m, id))?.state, await ledger.batchPaymentIds(m, id)]));
            expect(await batches(batched)).toEqual(await batches(one));
          },
        ),
        { numRuns: 60 },
      );
    });
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
