// The operator actions: who may act, what each outcome of the other side becomes, and that every attempt,
// allowed or refused, leaves exactly one audit entry naming who, what and how it ended.
import { randomUUID } from 'node:crypto';
import type { AuditEntry, AuditTrail } from '../audit/audit-trail';
import { ConsoleIntegrations, IntegrationError, ReviewDecisionCommand, ReviewDecisionOutcome } from '../integrations/ports';
import { DecideReviewUseCase } from './decide-review.use-case';
import { ReplayDeadLetterUseCase } from './replay-dead-letter.use-case';

function auditTrail(): { trail: AuditTrail; entries: AuditEntry[] } {
  const entries: AuditEntry[] = [];
  const trail = { record: async (e: AuditEntry) => (entries.push(e), true), recent: async () => [] } as unknown as AuditTrail;
  return { trail, entries };
}

/** A REVIEW queue that behaves like fraud-check's: the first decision wins. */
function reviewQueue(pending: string[]) {
  const decided = new Map<string, ReviewDecisionCommand>();
  return {
    decided,
    port: {
      source: 'test queue',
      pending: async () => ({ total: pending.length, reviews: [] }),
      decide: async (c: ReviewDecisionCommand): Promise<ReviewDecisionOutcome> => {
        const earlier = decided.get(c.paymentId);
        if (earlier) return earlier.decision === c.decision ? 'already_decided' : 'conflict';
        if (!pending.includes(c.paymentId)) return 'not_found';
        decided.set(c.paymentId, c);
        return 'decided';
      },
    },
  };
}

const operator = { username: 'ops.alice', role: 'operator' as const };
const viewer = { username: 'ops.bob', role: 'viewer' as const };

describe('DecideReviewUseCase', () => {
  it('lets an operator decide, carrying their name as the analyst, and audits each outcome', async () => {
    const id = randomUUID();
    const queue = reviewQueue([id]);
    const { trail, entries } = auditTrail();
    const useCase = new DecideReviewUseCase(trail, { reviews: queue.port });
    await expect(useCase.execute({ operator, paymentId: id, decision: 'APPROVE', note: 'known customer', requestId: 'r1' })).resolves.toEqual({ kind: 'DECIDED' });
    expect(queue.decided.get(id)).toMatchObject({ operator: 'ops.alice', decision: 'APPROVE', note: 'known customer', requestId: 'r1' });
    await expect(useCase.execute({ operator, paymentId: id, decision: 'APPROVE', requestId: 'r2' })).resolves.toEqual({ kind: 'ALREADY_DECIDED' });
    await expect(useCase.execute({ operator, paymentId: id, decision: 'DECLINE', requestId: 'r3' })).resolves.toMatchObject({ kind: 'CONFLICT' });
    await expect(useCase.execute({ operator, paymentId: randomUUID(), decision: 'DECLINE', requestId: 'r4' })).resolves.toMatchObject({ kind: 'NOT_FOUND' });
    expect(entries.map((e) => [e.request_id, e.operator, e.role, e.action, e.outcome])).toEqual([
      ['r1', 'ops.alice', 'operator', 'review.approve', 'decided'],
      ['r2', 'ops.alice', 'operator', 'review.approve', 'already_decided'],
      ['r3', 'ops.alice', 'operator', 'review.decline', 'conflict'],
      ['r4', 'ops.alice', 'operator', 'review.decline', 'not_found'],
    ]);
    expect(entries[0]).toMatchObject({ target: id, detail: 'known customer' });
  });

  it('refuses viewers before anything reaches fraud-check, and audits the refusal', async () => {
    const id = randomUUID();
    const queue = reviewQueue([id]);
    const { trail, entries } = auditTrail();
    const result = await new DecideReviewUseCase(trail, { reviews: queue.port }).execute({ operator: viewer, paymentId: id, decision: 'APPROVE', requestId: 'r' });
    expect(result).toEqual({ kind: 'FORBIDDEN', detail: 'viewers cannot decide reviews' });
    expect(queue.decided.size).toBe(0);
    expect(entries).toEqual([expect.objectContaining({ operator: 'ops.bob', role: 'viewer', action: 'review.approve', target: id, outcome: 'forbidden' })]);
  });

  it('says what is missing when no REVIEW queue is configured, or what failed when fraud-check does not answer', async () => {
    const { trail, entries } = auditTrail();
    await expect(new DecideReviewUseCase(trail, {}).execute({ operator, paymentId: randomUUID(), decision: 'APPROVE', requestId: 'a' })).resolves.toEqual({ kind: 'UNAVAILABLE', detail: 'REVIEW decisions need FRAUD_ADMIN_URL and FRAUD_ADMIN_TOKEN' });
    const broken: ConsoleIntegrations = {
      reviews: { source: 's', pending: async () => ({ total: 0, reviews: [] }), decide: async () => Promise.reject(new IntegrationError('fraud-check admin API', 'unreachable (timed out)')) },
    };
    await expect(new DecideReviewUseCase(trail, broken).execute({ operator, paymentId: randomUUID(), decision: 'APPROVE', requestId: 'b' })).resolves.toEqual({ kind: 'FAILED', detail: 'fraud-check admin API: unreachable (timed out)' });
    expect(entries.map((e) => e.outcome)).toEqual(['unavailable', 'failed']);
  });
});

describe('ReplayDeadLetterUseCase', () => {
  const ref = 'payrail.dlq.settlement.v1/2/17';

  it('replays for operators through the port and audits the replay status', async () => {
    const { trail, entries } = auditTrail();
    const replayed: string[] = [];
    const copy = 'payrail.payments.screened.v1/1/40';
    const integrations: ConsoleIntegrations = {
      replay: { source: 'dead-letter library', replay: async (c) => (replayed.push(c.ref), replayed.length === 1 ? { status: 'replayed', target: copy } : { status: 'already-replayed', target: copy, detail: 'replayed at 2025-03-01T10:00:00Z' }) },
    };
    const useCase = new ReplayDeadLetterUseCase(trail, integrations);
    await expect(useCase.execute({ operator, ref, requestId: 'r1' })).resolves.toEqual({ kind: 'DONE', status: 'replayed', target: copy });
    await expect(useCase.execute({ operator, ref, requestId: 'r2' })).resolves.toMatchObject({ kind: 'DONE', status: 'already-replayed', target: copy });
    expect(entries.map((e) => [e.action, e.target, e.outcome, e.detail])).toEqual([
      ['dead-letter.replay', ref, 'replayed', `copy at ${copy}`],
      ['dead-letter.replay', ref, 'already-replayed', `copy at ${copy}; replayed at 2025-03-01T10:00:00Z`],
    ]);
  });

  it('refuses viewers and reports an unavailable replay, auditing both', async () => {
    const { trail, entries } = auditTrail();
    await expect(new ReplayDeadLetterUseCase(trail, { replay: { source: 's', replay: async () => ({ status: 'replayed' }) } }).execute({ operator: viewer, ref, requestId: 'a' })).resolves.toMatchObject({ kind: 'FORBIDDEN' });
    await expect(new ReplayDeadLetterUseCase(trail, {}).execute({ operator, ref, requestId: 'b' })).resolves.toMatchObject({ kind: 'UNAVAILABLE' });
    expect(entries.map((e) => e.outcome)).toEqual(['forbidden', 'unavailable']);
  });
});
