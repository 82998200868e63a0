// What operators decided survives what Redis forgets, against the real Kafka broker and Redis:
// - a REVIEW or DECLINE decision record and a decided review never expire, so a redelivered instruction meets the
//   same decision even after the rules would approve it; only APPROVE records carry a TTL;
// - blocklist changes and audit entries are on Kafka; after the operators' keys are wiped (a Redis loss), the
//   recovery puts the lists and the trail back, and a second recovery changes nothing.
import { randomUUID } from 'node:crypto';
import type { FraudCheckHarness } from '../../test/fraud-check-harness';
import { blocklistIpAndMerchant, recoveryPayment, startRecoveryHarness, screenedEvents, untilReviewQueued } from '../../test/recovery';
import { AUDIT_RESTORED_KEY, AUDIT_STREAM_KEY, REDIS_LIFE_KEY, RedisAuditLog } from '../audit/audit-log';
import { BLOCKLISTS_KEY, BLOCKLIST_VERSIONS_KEY, RedisBlocklistStore } from '../blocklist/redis-blocklist.store';
import { DECISION_TTL_S, decisionKey } from '../screening/decision-record';
import { reviewKey } from '../review/review-queue.store';
import { OperationsRecoveryService } from './operations-recovery.service';

let h: FraudCheckHarness;
startRecoveryHarness((started) => (h = started));

const payment = recoveryPayment;

async function redeliveredDecisions(signed: { payment_id: string }, publish: () => Promise<void>, count: number) {
  await publish();
  return screenedEvents(h, signed.payment_id, count);
}

describe('decisions that are final', () => {
  it('keeps REVIEW and DECLINE records and decided reviews without a TTL, and a redelivery cannot flip them once the rules would approve', async () => {
    const { ip, merchant } = await blocklistIpAndMerchant(h);

    const declined = payment({ ip });
    const held = payment({ merchant });
    const approved = payment();
    const [sd, sh, sa] = [await h.submit(declined), await h.submit(held), await h.submit(approved)];
    expect((await h.reader.decision(declined.payment_id)).data.decision).toBe('DECLINE');
    expect((await h.reader.decision(held.payment_id)).data.decision).toBe('REVIEW');
    expect((await h.reader.decision(approved.payment_id)).data.decision).toBe('APPROVE');

    expect(await h.redis.ttl(decisionKey(declined.payment_id))).toBe(-1);
    expect(await h.redis.ttl(decisionKey(held.payment_id))).toBe(-1);
    const approveTtl = await h.redis.ttl(decisionKey(approved.payment_id));
    expect(approveTtl).toBeGreaterThan(DECISION_TTL_S - 60);
    expect(approveTtl).toBeLessThanOrEqual(DECISION_TTL_S);
    // the record stays small: never the signed instruction
    expect(await h.redis.get(decisionKey(held.payment_id))).not.toContain(sh.instruction_jws);

    // the review is queued with the decision (both before the message counts as handled) and has no TTL
    await untilReviewQueued(h, held.payment_id);
    expect(await h.redis.ttl(reviewKey(held.payment_id))).toBe(-1);

    // the rules would now approve both (entries removed), as after the 30 days an APPROVE record is kept
    expect((await h.admin('POST', '/admin/v1/blocklists/ip/removals', 'ops.writer', { value: ip })).status).toBe(200);
    expect((await h.admin('POST', '/admin/v1/blocklists/merchant/removals', 'ops.writer', { value: merchant })).status).toBe(200);
    const d = await redeliveredDecisions(declined, () => h.publish(sd, declined.payer.fingerprint), 2);
    const r = await redeliveredDecisions(held, () => h.publish(sh, held.payer.fingerprint), 2);
    expect(d.map((e) => e.data.decision)).toEqual(['DECLINE', 'DECLINE']);
    expect(r.map((e) => e.data.decision)).toEqual(['REVIEW', 'REVIEW']);
    expect(r[1]?.eventId).toBe(r[0]?.eventId);

    // an APPROVE record that expired is screened again (the contrast: only APPROVE is re-decided)
    await h.redis.del(decisionKey(approved.payment_id));
    const a = await redeliveredDecisions(approved, () => h.publish(sa, approved.payer.fingerprint), 2);
    expect(a.map((e) => e.data.decision)).toEqual(['APPROVE', 'APPROVE']);
    expect(await h.redis.ttl(decisionKey(approved.payment_id))).toBeGreaterThan(0);

    // an analyst's decision is kept for good too
    const decided = await h.admin('POST', `/admin/v1/reviews/${held.payment_id}/decision`, 'ops.writer', { decision: 'DECLINE', note: 'held for good' });
    expect(decided.status).toBe(200);
    expect(await h.redis.ttl(reviewKey(held.payment_id))).toBe(-1);
    expect(await h.redis.hget(reviewKey(held.payment_id), 'final')).not.toContain(sh.instruction_jws);
  });
});

describe('operators state after a Redis loss', () => {
  it('replays blocklists (latest change per entry wins) and restores the audit trail from Kafka, once', async () => {
    const app = h.apps[0];
    if (!app) throw new Error('no instance');
    const recovery = app.get(OperationsRecoveryService).recovery;
    const store = app.get(RedisBlocklistStore);
    const auditLog = app.get(RedisAuditLog);
    const kept = `198.51.100.${Math.floor(Math.random() * 200) + 20}`;
    const lifted = `2001:db8::${randomUUID().slice(0, 4)}`;
    expect((await h.admin('POST', '/admin/v1/blocklists/ip/entries', 'ops.writer', { value: kept, reason: 'first' })).status).toBe(201);
    expect((await h.admin('POST', '/admin/v1/blocklists/ip/entries', 'ops.writer', { value: kept, reason: 'second' })).status).toBe(200);
    expect((await h.admin('POST', '/admin/v1/blocklists/ip/entries', 'ops.writer', { value: lifted, reason: 'short-lived' })).status).toBe(201);
    expect((await h.admin('POST', '/admin/v1/blocklists/ip/removals', 'ops.writer', { value: lifted })).status).toBe(200);
    const before = await auditLog.list(4);
    expect(before.map((r) => r.entry.action)).toEqual(['blocklist.remove', 'blocklist.add', 'blocklist.add', 'blocklist.add']);

    // the periodic check sees nothing to do while Redis keeps its data
    expect(await recovery.recoverIfLost()).toBeUndefined();

    // Redis loses the operators' keys
    await h.redis.del(BLOCKLISTS_KEY, BLOCKLIST_VERSIONS_KEY, AUDIT_STREAM_KEY, AUDIT_RESTORED_KEY, REDIS_LIFE_KEY);
    expect(await store.find([{ list: 'ip', value: kept, field: 'context.ip' }])).toEqual([]);

    const report = await recovery.recoverIfLost();
    expect(report?.blocklistApplied).toBeGreaterThan(0);
    expect(report?.auditRestored).toBeGreaterThanOrEqual(4);
    expect(await store.find([{ list: 'ip', value: kept, field: 'context.ip' }, { list: 'ip', value: lifted, field: 'context.ip' }])).toEqual([{ list: 'ip', value: kept, field: 'context.ip', reason: 'second' }]);
    const restored = await auditLog.list(4);
    expect(restored.map((r) => ({ ...r.entry }))).toEqual(before.map((r) => ({ ...r.entry })));
    expect(restored[0]?.id.split('-')[0]).toBe(String(Date.parse(before[0]?.entry.at ?? '')));

    // a second recovery (another instance, a restart) changes nothing
    const snapshot = await h.redis.hgetall(BLOCKLISTS_KEY);
    const length = await h.redis.xlen(AUDIT_STREAM_KEY);
    const again = await recovery.recover();
    expect(again.blocklistApplied).toBe(0);
    expect(again.auditRestored).toBe(-1);
    expect(await h.redis.hgetall(BLOCKLISTS_KEY)).toEqual(snapshot);
    expect(await h.redis.xlen(AUDIT_STREAM_KEY)).toBe(length);
  });
});
