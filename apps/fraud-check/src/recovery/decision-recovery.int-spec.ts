// What a customer was told survives a Redis loss, against the real Kafka broker and Redis: payments are decided
// (APPROVE, REVIEW, DECLINE, and a REVIEW an analyst approved), every fraud-check key is wiped, then the same signed
// instructions are redelivered and re-signed ones (another JWS, the same payment) arrive, as after an upstream retry:
// the decisions published are the original ones (decision, score, reasons, screened_at), nothing is screened again,
// the review queue is back, and a new payment is screened normally, with the blocklists replayed first.
import { PaymentInstruction, PaymentScreened, PaymentSigned } from '@payrail/contracts';
import type { FraudCheckHarness } from '../../test/fraud-check-harness';
import { blocklistIpAndMerchant, recoveryPayment, startRecoveryHarness, screenedEvents, untilReviewQueued } from '../../test/recovery';
import { REDIS_LIFE_KEY } from '../audit/audit-log';
import { REVIEW_QUEUE_KEY, reviewKey } from '../review/review-queue.store';
import { decisionKey } from '../screening/decision-record';
import { OperationsRecoveryService } from './operations-recovery.service';
import { RECOVERY_LEASE_KEY } from './recovery-lease';

let h: FraudCheckHarness;
startRecoveryHarness((started) => (h = started));

const payment = recoveryPayment;

// the seal covers the instruction: a decision published with a re-signed instruction carries a seal of its own
const withoutJws = ({ instruction_jws: _jws, seal: _seal, ...rest }: PaymentScreened) => rest;

const eventsOf = (paymentId: string, count: number) => screenedEvents(h, paymentId, count);

/** A JSON value parsed (key order aside, the same record), anything else as it is. */
function parsed(value: string | null): unknown {
  try {
    return value === null ? null : (JSON.parse(value) as unknown);
  } catch {
    return value;
  }
}

/** Every key of this run's fraud-check, as it is (values, TTL or not), but the marker and the lease. */
async function redisState(): Promise<Record<string, unknown>> {
  const keys = (await h.redis.keys(`${h.prefix}*`)).map((k) => k.slice(h.prefix.length)).filter((k) => k !== REDIS_LIFE_KEY && k !== RECOVERY_LEASE_KEY);
  const state: Record<string, unknown> = {};
  for (const key of keys.sort()) {
    const type = await h.redis.type(key);
    const persistent = (await h.redis.ttl(key)) === -1;
    if (type === 'string') state[key] = { persistent, value: parsed(await h.redis.get(key)) };
    else if (type === 'hash') state[key] = { persistent, value: Object.fromEntries(Object.entries(await h.redis.hgetall(key)).map(([f, v]) => [f, parsed(v)])) };
    else if (type === 'zset') state[key] = { persistent, value: await h.redis.zrange(key, 0, -1, 'WITHSCORES') };
    else if (type === 'stream') state[key] = { persistent, length: await h.redis.xlen(key) };
    else state[key] = { persistent, type };
  }
  return state;
}

function instanceRecovery() {
  const app = h.apps[0];
  if (!app) throw new Error('no instance');
  return app.get(OperationsRecoveryService).recovery;
}

async function wipeFraudCheckKeys(): Promise<void> {
  const keys = (await h.redis.keys(`${h.prefix}*`)).map((k) => k.slice(h.prefix.length));
  for (let i = 0; i < keys.length; i += 500) await h.redis.del(...keys.slice(i, i + 500));
  expect(await h.redis.keys(`${h.prefix}*`)).toEqual([]);
}

describe('decisions after a Redis loss', () => {
  it('answers redelivered and re-signed instructions with the original decisions, restores the review queue, and screens new payments with the blocklists back', async () => {
    const { ip, merchant } = await blocklistIpAndMerchant(h);

    const payments: Record<'approved' | 'held' | 'declined' | 'analystApproved', PaymentInstruction> = {
      approved: payment(),
      held: payment({ merchant }),
      declined: payment({ ip }),
      analystApproved: payment({ merchant }),
    };
    const signed = new Map<string, PaymentSigned>();
    for (const p of Object.values(payments)) signed.set(p.payment_id, await h.submit(p));
    const original = new Map<string, PaymentScreened>();
    for (const p of Object.values(payments)) original.set(p.payment_id, (await h.reader.decision(p.payment_id)).data);
    expect(Object.fromEntries(Object.entries(payments).map(([name, p]) => [name, original.get(p.payment_id)?.decision]))).toEqual({ approved: 'APPROVE', held: 'REVIEW', declined: 'DECLINE', analystApproved: 'REVIEW' });

    // an analyst approves one REVIEW (its review is queued before the decision counts as handled)
    const reviewed = payments.analystApproved.payment_id;
    await untilReviewQueued(h, reviewed);
    expect((await h.admin('POST', `/admin/v1/reviews/${reviewed}/decision`, 'ops.writer', { decision: 'APPROVE', note: 'known customer' })).status).toBe(200);
    const analystDecision = (await eventsOf(reviewed, 2))[1];
    expect(analystDecision?.data).toMatchObject({ decision: 'APPROVE', review: { analyst: 'ops.writer' } });
    await untilReviewQueued(h, payments.held.payment_id);

    // screening them again now would approve the REVIEWs: the merchant is off the list
    expect((await h.admin('POST', '/admin/v1/blocklists/merchant/removals', 'ops.writer', { value: merchant })).status).toBe(200);
    const before = await redisState();

    // Redis loses everything fraud-check had
    await wipeFraudCheckKeys();

    // the same signed instructions come again, and re-signed ones (signing after an upstream's retry: another JWS)
    const resigned = new Map<string, PaymentSigned>();
    for (const p of Object.values(payments)) {
      const again = h.sign(p);
      expect(again.instruction_jws).not.toBe(signed.get(p.payment_id)?.instruction_jws);
      resigned.set(p.payment_id, again);
      const first = signed.get(p.payment_id);
      if (!first) throw new Error('not signed');
      await h.publish(first, p.payer.fingerprint);
      await h.publish(again, p.payer.fingerprint);
    }
    const blockedNewcomer = payment({ ip });
    const newcomer = payment({ merchant });
    await h.submit(blockedNewcomer);
    await h.submit(newcomer);

    for (const p of Object.values(payments)) {
      const first = original.get(p.payment_id);
      if (!first) throw new Error('no original decision');
      const reviewedOnce = p.payment_id === reviewed;
      // before the loss: 1 event (2 for the analyst's); each redelivery publishes the same again
      const events = await eventsOf(p.payment_id, reviewedOnce ? 6 : 3);
      const auto = events.filter((e) => !e.data.review);
      const byAnalyst = events.filter((e) => e.data.review);
      expect(auto).toHaveLength(3);
      for (const e of auto) {
        expect(e.eventId).toBe(`${p.payment_id}:screened:auto`);
        expect(withoutJws(e.data)).toEqual(withoutJws(first));
      }
      expect(auto.slice(1).map((e) => e.data.instruction_jws).sort()).toEqual([signed.get(p.payment_id)?.instruction_jws, resigned.get(p.payment_id)?.instruction_jws].sort());
      if (reviewedOnce && analystDecision) {
        expect(byAnalyst).toHaveLength(3);
        for (const e of byAnalyst) {
          expect(e.eventId).toBe(`${reviewed}:screened:review`);
          expect(withoutJws(e.data)).toEqual(withoutJws(analystDecision.data));
        }
      } else expect(byAnalyst).toEqual([]);
    }

    // new payments are screened, by the blocklists as they were: the IP's entry is back, the merchant's removal too
    expect((await h.reader.decision(blockedNewcomer.payment_id)).data).toMatchObject({ decision: 'DECLINE', reasons: [{ rule: 'blocklist.ip' }] });
    expect((await h.reader.decision(newcomer.payment_id)).data).toMatchObject({ decision: 'APPROVE', reasons: [] });

    // Redis holds what it held before: the same records with the same TTL policy, the review queue, the decided review
    const after = await redisState();
    for (const p of Object.values(payments)) {
      expect(after[decisionKey(p.payment_id)]).toEqual(before[decisionKey(p.payment_id)]);
      expect(after[reviewKey(p.payment_id)]).toEqual(before[reviewKey(p.payment_id)]);
    }
    expect(await h.redis.ttl(decisionKey(payments.approved.payment_id))).toBeGreaterThan(0);
    expect(await h.redis.zscore(REVIEW_QUEUE_KEY, payments.held.payment_id)).not.toBeNull();
    expect(await h.redis.zscore(REVIEW_QUEUE_KEY, reviewed)).toBeNull();
    expect(await h.redis.hget(reviewKey(reviewed), 'status')).toBe('decided');
    expect((await h.admin('GET', `/admin/v1/reviews/${payments.held.payment_id}`, 'ops.writer')).status).toBe(200);

    // every decision published, before and after the loss, carries fraud-check's seal over exactly that event
    for (const p of Object.values(payments)) {
      for (const e of await eventsOf(p.payment_id, 1)) await expect(h.sealVerifier.check(e.data)).resolves.toMatchObject({ ok: true });
    }

    // restoring again (another instance, a repeat) changes nothing
    const restored = await redisState();
    await h.redis.del(REDIS_LIFE_KEY);
    const again = await instanceRecovery().recoverIfLost();
    expect(again).toMatchObject({ restoredBy: 'this', auditRestored: -1, blocklistApplied: 0, decisions: { recorded: 0, reviewsOpened: 0, reviewsDecided: 0 } });
    expect(again?.decisions?.events).toBeGreaterThanOrEqual(13);
    expect(await redisState()).toEqual(restored);
  });

  it('restores no decision fraud-check did not seal: a forged DECLINE, an unsealed REVIEW and a moved seal on the screened topic are counted and left out', async () => {
    const [declinedByForger, heldByForger, movedSeal, genuine] = [payment(), payment(), payment(), payment()];
    await h.submit(genuine);
    const sealed = (await h.reader.decision(genuine.payment_id)).data;
    const forge = (p: PaymentInstruction, decision: PaymentScreened['decision']): PaymentScreened => ({ ...sealed, payment_id: p.payment_id, merchant_id: p.payee.merchant_id, decision, instruction_jws: h.sign(p).instruction_jws });
    const { seal: _none, ...unsealed } = forge(heldByForger, 'REVIEW');
    // on the topic as anyone with produce rights could put them there, before fraud-check ever saw these payments
    await h.publishScreened([{ ...forge(declinedByForger, 'DECLINE'), seal: sealed.seal }, unsealed, { ...forge(movedSeal, 'APPROVE'), seal: sealed.seal }]);

    await wipeFraudCheckKeys();
    const report = await instanceRecovery().recoverIfLost();
    expect(report?.decisions?.forged).toBeGreaterThanOrEqual(3);
    for (const p of [declinedByForger, heldByForger, movedSeal]) {
      expect(await h.redis.get(decisionKey(p.payment_id))).toBeNull();
      expect(await h.redis.zscore(REVIEW_QUEUE_KEY, p.payment_id)).toBeNull();
    }
    expect(await h.redis.get(decisionKey(genuine.payment_id))).not.toBeNull();

    // so the forged DECLINE does not stand: the payment, when it really comes, is screened (and approved)
    await h.submit(declinedByForger);
    await h.reader.until('the real decision', () => h.reader.screenedOf(declinedByForger.payment_id).find((e) => e.data.decision === 'APPROVE'));
  });
});

describe('one instance restores at a time', () => {
  /** Redis lost its marker while another instance holds the restore lease for `leaseMs`: this instance's recovery. */
  async function lostWhileAnotherInstanceHoldsTheLease(leaseMs: number) {
    await h.redis.set(RECOVERY_LEASE_KEY, 'another-instance', 'PX', leaseMs);
    await h.redis.del(REDIS_LIFE_KEY);
    return instanceRecovery();
  }

  it('waits while another instance holds the lease and takes over once that lease lapses', async () => {
    const recovery = await lostWhileAnotherInstanceHoldsTheLease(1_500);
    const started = Date.now();
    expect(await recovery.recoverIfLost()).toMatchObject({ restoredBy: 'this' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(await h.redis.get(REDIS_LIFE_KEY)).not.toBeNull();
    expect(await h.redis.exists(RECOVERY_LEASE_KEY)).toBe(0);
  });

  it('returns without replaying once the holder wrote the marker', async () => {
    const recovery = await lostWhileAnotherInstanceHoldsTheLease(60_000);
    const waiting = recovery.recoverIfLost();
    await new Promise((res) => setTimeout(res, 700));
    await h.redis.set(REDIS_LIFE_KEY, 'written-by-the-holder');
    await h.redis.del(RECOVERY_LEASE_KEY);
    expect(await waiting).toMatchObject({ restoredBy: 'other' });
  });
});
