import { SUBMISSION_PROBLEMS, rejectionReason } from './problems';
import { renderSubmission } from './payments.controller';

describe('renderSubmission', () => {
  const accepted = { kind: 'ACCEPTED' as const, paymentId: '019a0000-0000-7000-8000-000000000001', upstreamId: 'psp-alpha', upstreamReference: 'order-1', acceptedAt: '2026-11-29T12:00:00.000Z' };

  it('gives the same bytes for the same result (what duplicates of an Idempotency-Key receive)', () => {
    const a = renderSubmission(accepted);
    const b = renderSubmission(JSON.parse(JSON.stringify(accepted)) as typeof accepted);
    expect(b).toEqual(a);
    expect(a.status).toBe(202);
    expect(a.headers['location']).toBe('/v1/payments/019a0000-0000-7000-8000-000000000001');
    expect(JSON.parse(a.body)).toEqual({ payment_id: accepted.paymentId, status: 'accepted', upstream_reference: 'order-1', accepted_at: accepted.acceptedAt, links: { self: a.headers['location'] } });
  });

  it('renders every refusal as problem+json of its catalogue entry, Retry-After where there is one', () => {
    for (const [problem, spec] of Object.entries(SUBMISSION_PROBLEMS)) {
      const r = renderSubmission({ kind: 'REJECTED', problem: problem as keyof typeof SUBMISSION_PROBLEMS, detail: 'd', errors: [{ pointer: '#/jti', detail: 'x' }], retryAfterS: problem === 'rate-limited' ? 3 : undefined });
      expect(r.status).toBe(spec.status);
      expect(r.headers['content-type']).toBe('application/problem+json');
      expect(JSON.parse(r.body)).toEqual({ type: `https://payrail.dev/problems/${problem}`, title: spec.title, status: spec.status, detail: 'd', errors: [{ pointer: '#/jti', detail: 'x' }] });
      expect(r.headers['retry-after']).toBe(problem === 'rate-limited' ? '3' : undefined);
    }
  });

  it('maps refusals of Kafka submissions to the rejections topic reasons', () => {
    expect(rejectionReason('iat-in-future')).toBe('stale');
    expect(rejectionReason('algorithm-not-allowed')).toBe('signature_invalid');
    expect(rejectionReason('unknown-key')).toBe('unknown_upstream');
  });
});
