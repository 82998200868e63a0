// The batch posting use case on its own: real seals and signatures (the test's own fraud-check, signing and
// settlement keys), an in-memory ledger with the posting script's answers (the script itself runs against Redis in
// libs/ledger's integration tests), a producer that records what is published.
import { Registry } from 'prom-client';
import { EVENT_SEAL_TYPES, PaymentInstruction, PaymentScreened, PaymentSettled, TOPICS } from '@payrail/contracts';
import { CryptoError, EventSealVerifier, JwsVerifier, PAYRAIL_SIGNING_ALGS, PayrailKeyStore } from '@payrail/crypto';
import { BatchOperation, BatchOperationOutcome, PostingPlan } from '@payrail/ledger';
import { ConsumedEvent, DependencyUnavailableError, EventResult, PermanentError, SettlementMetrics } from '@payrail/messaging';
import { PaymentFactory } from '../../test/fixtures';
import { PostScreenedBatchUseCase, PostingLedger } from './post-screened-batch.use-case';

/** The posting script's answers, per merchant, in memory (see POST_BATCH_SCRIPT). */
class MemoryLedger implements PostingLedger {
  readonly postings = new Map<string, { batchId: string; fee: bigint; net: bigint; postedAt: string; amount: bigint }>();
  readonly held = new Map<string, 'REVIEW' | 'DECLINE'>();
  readonly scripts: { merchantId: string; operations: number }[] = [];
  readonly reasserted: string[] = [];
  attachedEpoch: string | undefined = 'epoch-1';
  failMerchant: string | undefined;
  /** Payments whose posting the script refuses (as it refuses one whose fee and net do not add up). */
  readonly refuse = new Set<string>();

  async registerMerchant(): Promise<void> {
    return undefined;
  }

  async postBatch(merchantId: string, operations: readonly BatchOperation[], postedAt: string): Promise<BatchOperationOutcome[]> {
    if (merchantId === this.failMerchant) throw new Error('Redis connection lost');
    this.scripts.push({ merchantId, operations: operations.length });
    const failed = new Set<string>();
    return operations.map((op): BatchOperationOutcome => {
      const pid = op.kind === 'post' ? op.posting.paymentId : op.paymentId;
      if (failed.has(pid)) return { kind: 'SKIPPED' };
      if (op.kind === 'hold') {
        if (this.postings.has(pid)) return { kind: 'ALREADY_POSTED' };
        if (this.held.get(pid) !== 'DECLINE') this.held.set(pid, op.decision);
        return { kind: 'HELD' };
      }
      const p = op.posting;
      const found = this.postings.get(pid);
      if (found) return { kind: 'DUPLICATE', batchId: found.batchId, fee: found.fee, net: found.net, postedAt: found.postedAt };
      if (p.fee + p.net !== p.amount || this.refuse.has(pid)) {
        failed.add(pid);
        return { kind: 'ERROR', message: 'ERR posting: unbalanced (fee + net ~= amount)' };
      }
      if (this.held.get(pid) === 'DECLINE') return { kind: 'DECLINED' };
      if (this.held.get(pid) === 'REVIEW' && !p.releasesReview) return { kind: 'IN_REVIEW' };
      const batchId = `${merchantId}.${p.currency}.${p.window.label}`;
      this.postings.set(pid, { batchId, fee: p.fee, net: p.net, postedAt, amount: p.amount });
      this.held.delete(pid);
      return { kind: 'POSTED', batchId, closedBySize: false, seq: 1 };
    });
  }

  async reassert(plan: PostingPlan): Promise<void> {
    this.reasserted.push(plan.paymentId);
  }
}

class RecordingProducer {
  readonly published: { topic: string; data: Record<string, unknown>; options: { key: string; eventId?: string; traceparent?: string } }[] = [];
  failSettled = false;
  /** Runs during the next publish: Redis lost and the ledger restored meanwhile. */
  onPublish: (() => void) | undefined;

  async publish(topic: { name: string }, data: object, options: { key: string; correlationId: string; eventId?: string; traceparent?: string }): Promise<void> {
    this.onPublish?.();
    this.onPublish = undefined;
    if (this.failSettled && topic.name === TOPICS.paymentsSettled.name) throw new Error('broker unavailable');
    this.published.push({ topic: topic.name, data: data as Record<string, unknown>, options });
  }

  on(topic: { name: string }): Record<string, unknown>[] {
    return this.published.filter((p) => p.topic === topic.name).map((p) => p.data);
  }
}

const errors: { obj: object; msg: string }[] = [];
const logger = { warn: () => undefined, error: (obj: object, msg: string) => void errors.push({ obj, msg }) };

let factory: PaymentFactory;
let other: PaymentFactory;
let decisions: EventSealVerifier;
let instructions: JwsVerifier;
let settledSeals: EventSealVerifier;

beforeAll(async () => {
  [factory, other] = await Promise.all([PaymentFactory.create(), PaymentFactory.create()]);
  decisions = new EventSealVerifier(await PayrailKeyStore.fromFile(factory.fraudCheckSealJwksFile), EVENT_SEAL_TYPES.paymentScreened);
  instructions = new JwsVerifier(await PayrailKeyStore.fromFile(factory.publicJwksFile), { algorithms: PAYRAIL_SIGNING_ALGS });
  settledSeals = new EventSealVerifier(await PayrailKeyStore.fromFile(factory.settlementSealJwksFile), EVENT_SEAL_TYPES.paymentSettled);
});

beforeEach(() => {
  errors.length = 0;
});

function setup(verifyInstruction = async (jws: string) => (await instructions.verify(jws)).payload) {
  const ledger = new MemoryLedger();
  const producer = new RecordingProducer();
  const metrics = new SettlementMetrics(new Registry());
  const useCase = new PostScreenedBatchUseCase({
    ledger,
    fees: { bps: 150, fixedMinor: 10 },
    policy: { cutoffS: 3600, maxPayments: 1000 },
    checkDecision: (screened) => decisions.check(screened),
    verifyInstruction,
    sealSettled: (settled) => factory.sealSettled(settled),
    producer: producer as never,
    metrics,
    logger,
    now: () => new Date('2026-11-29T10:30:00.000Z'),
  });
  return { ledger, producer, useCase };
}

let offset = 0;
function consumed(data: PaymentScreened): ConsumedEvent<PaymentScreened> {
  offset++;
  return {
    topic: TOPICS.paymentsScreened.name,
    partition: 0,
    offset: String(offset),
    key: data.merchant_id,
    envelope: { id: `ev-${offset}`, traceparent: `00-${String(offset).padStart(32, '0')}-00000000000000a1-01` } as ConsumedEvent['envelope'],
    data,
    headers: {},
    attempt: 1,
  };
}

const approve = (i: PaymentInstruction, opts: Parameters<PaymentFactory['screened']>[2] = {}) => consumed(factory.screened(i, 'APPROVE', { screenedAt: '2026-11-29T10:05:00.000Z', ...opts }));
const errorOf = (r: EventResult | undefined): Error | undefined => (typeof r === 'object' ? r.error : undefined);

describe('posting a consumed batch of screened payments', () => {
  it('posts two merchants and two currencies with one ledger script per merchant and publishes one sealed settled event per payment, on its trace', async () => {
    const { ledger, producer, useCase } = setup();
    const a1 = factory.instruction('m-alpha', 10_000n);
    const a2 = factory.instruction('m-alpha', 2_000n, 'GBP');
    const b1 = factory.instruction('m-beta', 500n, 'JPY');
    const events = [approve(a1), approve(b1), approve(a2)];
    expect(await useCase.execute(events)).toEqual(['ok', 'ok', 'ok']);
    expect(ledger.scripts).toEqual([
      { merchantId: 'm-alpha', operations: 2 },
      { merchantId: 'm-beta', operations: 1 },
    ]);
    const settled = producer.on(TOPICS.paymentsSettled) as PaymentSettled[];
    expect(settled.map((s) => [s.payment_id, s.merchant_id, s.amount.currency, s.fee.minor, s.net.minor, s.batch_id])).toEqual([
      [a1.payment_id, 'm-alpha', 'EUR', '160', '9840', 'm-alpha.EUR.20261129T100000Z'],
      [a2.payment_id, 'm-alpha', 'GBP', '40', '1960', 'm-alpha.GBP.20261129T100000Z'],
      [b1.payment_id, 'm-beta', 'JPY', '18', '482', 'm-beta.JPY.20261129T100000Z'],
    ]);
    for (const s of settled) expect((await settledSeals.check(s)).ok).toBe(true);
    const first = producer.published.find((p) => p.data['payment_id'] === a1.payment_id);
    expect(first?.options).toMatchObject({ key: 'm-alpha', eventId: `${a1.payment_id}:settled`, traceparent: events[0]?.envelope.traceparent });
    expect(settled.every((s) => s.posted_at === '2026-11-29T10:30:00.000Z')).toBe(true);
  });

  it('posts a payment that is twice in one batch once, and publishes its settled event once', async () => {
    const { ledger, producer, useCase } = setup();
    const i = factory.instruction('m-twice', 7_000n);
    const other1 = factory.instruction('m-twice', 100n);
    expect(await useCase.execute([approve(i), approve(other1), approve(i)])).toEqual(['ok', 'ok', 'duplicate']);
    expect(ledger.postings.size).toBe(2);
    expect(producer.on(TOPICS.paymentsSettled).map((s) => s['payment_id'])).toEqual([i.payment_id, other1.payment_id]);
  });

  it('posts nothing twice when the whole batch is redelivered, and re-publishes the very same settled events', async () => {
    const { ledger, producer, useCase } = setup();
    const events = [approve(factory.instruction('m-redeliver', 1_000n)), approve(factory.instruction('m-redeliver', 2_000n)), consumed(factory.screened(factory.instruction('m-redeliver', 3_000n), 'DECLINE'))];
    expect(await useCase.execute(events)).toEqual(['ok', 'ok', 'ok']);
    const postings = new Map(ledger.postings);
    const first = producer.on(TOPICS.paymentsSettled);
    expect(await useCase.execute(events.map((e) => ({ ...e, attempt: 1 })))).toEqual(['duplicate', 'duplicate', 'ok']);
    expect(ledger.postings).toEqual(postings);
    const again = producer.on(TOPICS.paymentsSettled).slice(first.length);
    expect(again).toEqual(first); // same facts, same (deterministic) seal
  });

  it('fails only the bad events of a batch: a forged decision and an instruction another key signed are dead-lettered with an alert, the later event of a failed payment waits, the rest posts', async () => {
    const { ledger, producer, useCase } = setup();
    const good = factory.instruction('m-mixed', 1_000n);
    const forged = factory.instruction('m-mixed', 2_000n);
    const foreign = other.instruction('m-mixed', 3_000n);
    const goodOther = factory.instruction('m-other', 4_000n);
    const forgedEvent = consumed(other.screened(forged, 'APPROVE')); // sealed with another fraud-check key
    const foreignEvent = consumed(factory.seal({ ...other.screened(foreign, 'APPROVE') })); // our seal, another signer's instruction
    const results = await useCase.execute([approve(good), forgedEvent, foreignEvent, approve(forged), approve(goodOther)]);
    expect(results[0]).toBe('ok');
    expect(errorOf(results[1])).toBeInstanceOf(PermanentError);
    expect(errorOf(results[1])?.message).toMatch(/seal does not verify/);
    expect(errorOf(results[2])).toBeInstanceOf(PermanentError);
    expect(errorOf(results[2])?.message).toMatch(/signature invalid/);
    // the same payment after its failed event: not applied in this call (it comes back with it, in order)
    expect(errorOf(results[3])?.message).toBe('after a failed event of the same payment');
    expect(results[4]).toBe('ok');
    expect([...ledger.postings.keys()].sort()).toEqual([good.payment_id, goodOther.payment_id].sort());
    expect(producer.on(TOPICS.securityAlerts).map((a) => [a['payment_id'], a['alert']])).toEqual([
      [forged.payment_id, 'key_unknown'], // another fraud-check key: its kid is not ours
      [foreign.payment_id, 'signature_invalid'],
    ]);
  });

  it('posts nothing and raises no alert while the signing JWKS cannot be read: the events wait (DependencyUnavailableError), then post', async () => {
    let jwksDown = true;
    const { ledger, producer, useCase } = setup(async (jws) => {
      if (jwksDown) throw new CryptoError('unavailable', 'JWKS https://signing/jwks unavailable: its last fetch failed');
      return (await instructions.verify(jws)).payload;
    });
    const batch = [approve(factory.instruction('m-outage', 1_000n)), approve(factory.instruction('m-outage', 2_000n))];
    const waiting = await useCase.execute(batch);
    expect(waiting.map((r) => errorOf(r))).toEqual([expect.any(DependencyUnavailableError), expect.any(DependencyUnavailableError)]);
    expect(ledger.postings.size).toBe(0);
    expect(producer.on(TOPICS.securityAlerts)).toEqual([]);
    jwksDown = false;
    expect(await useCase.execute(batch)).toEqual(['ok', 'ok']);
    expect(ledger.postings.size).toBe(2);
  });

  it('fails the events of a merchant whose script failed and of a payment the ledger refused; the other merchant posts', async () => {
    const { ledger, useCase } = setup();
    ledger.failMerchant = 'm-down';
    const results = await useCase.execute([approve(factory.instruction('m-down', 1_000n)), approve(factory.instruction('m-up', 2_000n)), approve(factory.instruction('m-up', 1_000n))]);
    expect(errorOf(results[0])?.message).toBe('Redis connection lost');
    expect(results[1]).toBe('ok');
    expect(results[2]).toBe('ok');
    ledger.failMerchant = undefined;
    const bad = factory.instruction('m-up', 5_000n);
    ledger.refuse.add(bad.payment_id);
    const second = await useCase.execute([approve(bad), consumed(factory.screened(bad, 'DECLINE')), approve(factory.instruction('m-up', 6_000n))]);
    expect(errorOf(second[0])?.message).toMatch(/refused by the ledger: ERR posting: unbalanced/);
    expect(errorOf(second[1])?.message).toBe('after a failed event of the same payment');
    expect(second[2]).toBe('ok');
  });

  it("keeps one payment's decisions in order within a batch: a decline is final, a review waits for the analyst, a decline after a posting leaves it", async () => {
    const { ledger, producer, useCase } = setup();
    const declined = factory.instruction('m-order', 1_000n);
    const reviewed = factory.instruction('m-order', 2_000n);
    const posted = factory.instruction('m-order', 3_000n);
    const review = { analyst: 'ops.alice', decided_at: '2026-11-29T10:20:00.000Z' };
    const results = await useCase.execute([
      consumed(factory.screened(declined, 'DECLINE')),
      approve(declined),
      consumed(factory.screened(reviewed, 'REVIEW')),
      approve(reviewed), // a re-screening's automatic approval
      approve(reviewed, { review }), // the analyst's
      approve(posted),
      consumed(factory.screened(posted, 'DECLINE')),
    ]);
    expect(results).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    expect([...ledger.postings.keys()]).toEqual([reviewed.payment_id, posted.payment_id]);
    expect(producer.on(TOPICS.paymentsSettled).map((s) => s['payment_id'])).toEqual([reviewed.payment_id, posted.payment_id]);
    expect(errors.map((e) => e.msg)).toEqual([
      'approval of a payment declined earlier: not posted (a decline is final)',
      'automatic approval of a payment held in REVIEW: not posted (only an analyst releases a review)',
      'DECLINE for a payment already posted: the posting stands',
    ]);
  });

  it('fails the events whose settled event could not be published (retried: the redelivery finds the posting), and puts postings back when Redis was lost meanwhile', async () => {
    const { ledger, producer, useCase } = setup();
    const i = factory.instruction('m-publish', 1_000n);
    producer.failSettled = true;
    const [failed] = await useCase.execute([approve(i)]);
    expect(errorOf(failed)?.message).toBe('broker unavailable');
    expect(ledger.postings.has(i.payment_id)).toBe(true);
    producer.failSettled = false;
    expect(await useCase.execute([approve(i)])).toEqual(['duplicate']);
    expect(producer.on(TOPICS.paymentsSettled).map((s) => s['payment_id'])).toEqual([i.payment_id]);

    const j = factory.instruction('m-publish', 2_000n);
    producer.onPublish = () => (ledger.attachedEpoch = 'epoch-2'); // restored while the settled event was published
    expect(await useCase.execute([approve(j), approve(j)])).toEqual(['ok', 'duplicate']);
    expect(ledger.reasserted).toEqual([j.payment_id]);
  });
});
