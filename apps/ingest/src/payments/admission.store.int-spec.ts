// Against the real Redis started by `npm test` (REDIS_URL): the admission script (rate limit, Idempotency-Key,
// jti) under concurrency, as two ingest instances sharing one Redis see it.
import { randomUUID } from 'node:crypto';
import { Redis, createRedis } from '@payrail/messaging';
import { Admission, AdmissionRequest, AdmissionStore, guardLifeKey } from './admission.store';

type Result = { kind: 'ACCEPTED'; run: number };
const isResult = (v: unknown): v is Result => (v as { kind?: unknown } | null)?.kind === 'ACCEPTED';

describe('AdmissionStore on real Redis', () => {
  let instanceA: Redis;
  let instanceB: Redis;
  let stores: [AdmissionStore, AdmissionStore];
  let keyPrefix: string;
  const upstreamId = () => `up-${randomUUID().slice(0, 8)}`;
  /** An upstream whose replay guard is in this Redis (what ReplayGuardRecovery marks). */
  const guardedUpstream = async (u = upstreamId()) => {
    await instanceA.set(guardLifeKey(u), '1');
    return u;
  };
  const request = (over: Partial<AdmissionRequest<Result>> & { upstreamId: string }): AdmissionRequest<Result> => ({
    jti: randomUUID(),
    requestId: randomUUID(),
    jtiTtlSeconds: 60,
    paymentHash: 'payment-1',
    isResult,
    ...over,
  });

  beforeAll(async () => {
    keyPrefix = `${process.env['PAYRAIL_RUN_KEY_PREFIX'] ?? 'payrail-test:'}admission-${randomUUID()}:`;
    const config = { url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', keyPrefix };
    instanceA = createRedis(config, 'test-a');
    instanceB = createRedis(config, 'test-b');
    await Promise.all([instanceA.connect(), instanceB.connect()]);
    stores = [new AdmissionStore(instanceA, 86_400), new AdmissionStore(instanceB, 86_400)];
  });

  afterAll(async () => {
    await Promise.all([instanceA.quit(), instanceB.quit()]);
  });

  it('runs a request once for 40 concurrent duplicates across two instances; all get its result', async () => {
    const u = await guardedUpstream();
    const key = randomUUID();
    const jti = randomUUID();
    const requestId = randomUUID();
    let runs = 0;
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const store = stores[(i % 2) as 0 | 1];
        const admission = await store.admit(request({ upstreamId: u, jti, requestId, idempotencyKey: key }));
        if (admission.kind !== 'ADMITTED') return admission;
        runs++;
        await new Promise((r) => setTimeout(r, 50));
        const result: Result = { kind: 'ACCEPTED', run: runs };
        await store.complete(admission.ticket, result);
        return { kind: 'DUPLICATE' as const, result };
      }),
    );
    expect(runs).toBe(1);
    expect(new Set(outcomes.map((o) => JSON.stringify(o)))).toEqual(new Set([JSON.stringify({ kind: 'DUPLICATE', result: { kind: 'ACCEPTED', run: 1 } })]));
    // the same key with another payment is refused, every time, on both instances
    const conflicts = await Promise.all([0, 1, 0].map((i) => stores[i as 0 | 1].admit(request({ upstreamId: u, idempotencyKey: key, paymentHash: 'payment-2' }))));
    expect(conflicts.map((o) => o.kind)).toEqual(['CONFLICT', 'CONFLICT', 'CONFLICT']);
  });

  it('lets exactly one of many concurrent claims of a jti through, across instances', async () => {
    const u = await guardedUpstream();
    const jti = randomUUID();
    const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => stores[(i % 2) as 0 | 1].admit(request({ upstreamId: u, jti }))));
    expect(claims.filter((c) => c.kind === 'ADMITTED')).toHaveLength(1);
    expect(claims.filter((c) => c.kind === 'REPLAYED')).toHaveLength(19);
  });

  it('limits an upstream to its burst at once across instances, then tells how long to wait', async () => {
    const u = await guardedUpstream();
    const rateLimit = { perSecond: 2, burst: 5 };
    const outcomes = await Promise.all(Array.from({ length: 12 }, (_, i) => stores[(i % 2) as 0 | 1].admit(request({ upstreamId: u, rateLimit }))));
    expect(outcomes.filter((o) => o.kind === 'ADMITTED')).toHaveLength(5);
    const limited = outcomes.filter((o): o is Extract<Admission<Result>, { kind: 'RATE_LIMITED' }> => o.kind === 'RATE_LIMITED');
    expect(limited).toHaveLength(7);
    for (const l of limited) {
      expect(l.retryAfterMs).toBeGreaterThan(0);
      expect(l.retryAfterMs).toBeLessThanOrEqual(500);
    }
    // another upstream has its own allowance
    expect((await stores[0].admit(request({ upstreamId: await guardedUpstream(), rateLimit }))).kind).toBe('ADMITTED');
    // after the advertised wait, one more fits
    await new Promise((r) => setTimeout(r, Math.max(...limited.map((l) => l.retryAfterMs)) + 20));
    expect((await stores[1].admit(request({ upstreamId: u, rateLimit }))).kind).toBe('ADMITTED');
  });

  it('answers a re-sent admission (reply lost, ioredis sends it again) with its first verdict and charges once', async () => {
    const u = await guardedUpstream();
    const rateLimit = { perSecond: 1, burst: 2 };
    const first = request({ upstreamId: u, rateLimit, idempotencyKey: randomUUID(), operationId: randomUUID() });
    expect((await stores[0].admit(first)).kind).toBe('ADMITTED');
    expect((await stores[1].admit(first)).kind).toBe('ADMITTED'); // not REPLAYED by its own jti, not charged again
    expect((await stores[0].admit(request({ upstreamId: u, rateLimit }))).kind).toBe('ADMITTED'); // the burst's second
    expect((await stores[0].admit(request({ upstreamId: u, rateLimit }))).kind).toBe('RATE_LIMITED');
  });

  it('releases the key and the jti when the request fails, so a retry runs it', async () => {
    const u = await guardedUpstream();
    const req = request({ upstreamId: u, idempotencyKey: randomUUID() });
    const admitted = await stores[0].admit(req);
    if (admitted.kind !== 'ADMITTED') throw new Error(`expected ADMITTED, got ${admitted.kind}`);
    await stores[0].release(admitted.ticket);
    const retry = await stores[1].admit(req);
    expect(retry.kind).toBe('ADMITTED');
  });

  it('does not free a jti claimed by another request', async () => {
    const u = await guardedUpstream();
    const jti = randomUUID();
    const winner = await stores[0].admit(request({ upstreamId: u, jti }));
    const loser = await stores[1].admit(request({ upstreamId: u, jti, idempotencyKey: randomUUID() }));
    expect([winner.kind, loser.kind]).toEqual(['ADMITTED', 'REPLAYED']);
    if (winner.kind !== 'ADMITTED') return;
    await stores[1].release({ ...winner.ticket, op: randomUUID() });
    expect((await stores[1].admit(request({ upstreamId: u, jti }))).kind).toBe('REPLAYED');
  });

  /** Redis loses an upstream's keys (all of them, or only those matching `part`): what a restart without persistence does. */
  async function lose(upstream: string, part = ''): Promise<number> {
    const keys = (await instanceA.keys(`${keyPrefix}*{${upstream}}*`)).filter((k) => k.includes(part)).map((k) => k.slice(keyPrefix.length));
    return keys.length === 0 ? 0 : instanceA.del(...keys);
  }

  it('admits nothing after Redis lost every key until the replay guard is back, then a careful retry as the same request (the guard\'s restore from Kafka: submission.int-spec.ts)', async () => {
    const u = await guardedUpstream();
    const req = request({ upstreamId: u, idempotencyKey: randomUUID() });
    const first = await stores[0].admit(req);
    if (first.kind !== 'ADMITTED') throw new Error(`expected ADMITTED, got ${first.kind}`);
    await stores[0].complete(first.ticket, { kind: 'ACCEPTED', run: 1 });
    expect(await lose(u)).toBeGreaterThanOrEqual(3);
    // nothing is admitted before the replay guard is back (ReplayGuardRecovery restores it from Kafka)
    expect((await stores[1].admit({ ...req, jti: randomUUID() })).kind).toBe('UNGUARDED');
    await guardedUpstream(u);
    const retry = await stores[1].admit({ ...req, jti: randomUUID() }); // signed again: a new jti, the same key
    expect(retry.kind).toBe('ADMITTED');
    if (retry.kind === 'ADMITTED') expect(retry.ticket.requestId).toBe(req.requestId);
  });

  it('answers a retry whose idempotency record is gone but whose jti is still claimed (crash in between, or a partial loss): admitted, not "replayed"', async () => {
    const u = await guardedUpstream();
    const req = request({ upstreamId: u, idempotencyKey: randomUUID() });
    expect((await stores[0].admit(req)).kind).toBe('ADMITTED');
    expect(await lose(u, ':idem:')).toBe(1);
    expect((await stores[1].admit(req)).kind).toBe('ADMITTED');
    // the same token under another key (another request, another payment id) is a replay
    expect((await stores[1].admit({ ...req, idempotencyKey: randomUUID(), requestId: randomUUID() })).kind).toBe('REPLAYED');
    // and without a key the same jti is a replay too
    expect((await stores[0].admit({ ...req, idempotencyKey: undefined })).kind).toBe('REPLAYED');
  });

  it('takes a request over from an owner that died before storing its answer, once its lease ran out', async () => {
    const u = await guardedUpstream();
    const req = request({ upstreamId: u, idempotencyKey: randomUUID(), leaseMs: 300 });
    expect((await stores[0].admit(req)).kind).toBe('ADMITTED'); // the owner dies here: no complete, no release
    expect((await stores[1].admit({ ...req, waitMs: 20 })).kind).toBe('IN_PROGRESS');
    await new Promise((r) => setTimeout(r, 350));
    const takeover = await stores[1].admit({ ...req, waitMs: 20 });
    expect(takeover.kind).toBe('ADMITTED');
    if (takeover.kind !== 'ADMITTED') return;
    await stores[1].complete(takeover.ticket, { kind: 'ACCEPTED', run: 2 });
    expect(await stores[0].admit(req)).toEqual({ kind: 'DUPLICATE', result: { kind: 'ACCEPTED', run: 2 } });
  });
});
