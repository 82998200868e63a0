// The status read model's batch: verified as a whole, written in one pipeline in offset order, forged events refused
// (alert + dead letter) without blocking the payment's genuine ones, a failed event holding back the later events of
// its payment, copies of one event answered `duplicate`. Checks and the writer are faked: the batching is the point
// (the Redis pipeline itself runs in test/status.int-spec.ts).
import { PaymentScreened, PaymentSettled, PaymentSigned, TOPICS } from '@payrail/contracts';
import type { SealCheck } from '@payrail/crypto';
import { type ConsumedEvent, type EventResult, PermanentError } from '@payrail/messaging';
import type { StatusWrite } from './payment-status.store';
import { ApplyStatusBatch, RefuseForged, StatusChecks } from './status-batch.use-case';

let offset = 0;
function consumed<T extends { payment_id: string }>(topic: string, data: T, id = `e-${offset}`): ConsumedEvent {
  offset++;
  return {
    topic,
    partition: 0,
    offset: String(offset),
    key: data.payment_id,
    envelope: { specversion: '1.0', id, type: 't', source: 's', time: `2026-12-06T00:00:${String(offset % 60).padStart(2, '0')}.000Z`, dataschema: 'd', schemaversion: 1, correlationid: data.payment_id, datacontenttype: 'application/json' },
    data,
    headers: {},
    attempt: 1,
  };
}

const signed = (paymentId: string, id?: string) => consumed(TOPICS.paymentsSigned.name, { payment_id: paymentId, kid: 'k', instruction_jws: `jws-${paymentId}` } satisfies PaymentSigned, id);
const screened = (paymentId: string, decision: PaymentScreened['decision'], review = false) =>
  consumed(TOPICS.paymentsScreened.name, {
    payment_id: paymentId,
    merchant_id: 'm-1',
    amount: { minor: '100', currency: 'EUR' },
    decision,
    score: 0,
    reasons: [],
    ruleset_version: 'r1',
    screened_at: '2026-12-06T00:00:00.000Z',
    instruction_jws: 'x.y.z',
    ...(review ? { review: { decided_at: '2026-12-06T00:01:00.000Z', analyst: 'a', note: 'n' } } : {}),
  } as PaymentScreened);
const settled = (paymentId: string) =>
  consumed(TOPICS.paymentsSettled.name, { payment_id: paymentId, merchant_id: 'm-1', amount: { minor: '100', currency: 'EUR' }, fee: { minor: '1', currency: 'EUR' }, net: { minor: '99', currency: 'EUR' }, posted_at: '2026-12-06T00:02:00.000Z', batch_id: 'b-1' } satisfies PaymentSettled);

const OK: SealCheck = { ok: true, kid: 'k' };

function harness(opts: { verdict?: (paymentId: string, topic: string) => SealCheck | Error; writeFails?: (w: StatusWrite, i: number) => Error | undefined } = {}) {
  const checked: string[] = [];
  const pipelines: StatusWrite[][] = [];
  const alerts: string[] = [];
  const verdict = (paymentId: string, topic: string): Promise<SealCheck> => {
    checked.push(`${topic}:${paymentId}`);
    const v = opts.verdict?.(paymentId, topic) ?? OK;
    return v instanceof Error ? Promise.reject(v) : Promise.resolve(v);
  };
  const checks: StatusChecks = {
    checkSigned: (e) => verdict(e.payment_id, 'signed'),
    checkScreened: (e) => verdict(e.payment_id, 'screened'),
    checkSettled: (e) => verdict(e.payment_id, 'settled'),
  };
  const refuse: RefuseForged = async ({ topic, paymentId, check }) => {
    alerts.push(`${topic.name}:${paymentId}:${check.reason}`);
    throw new PermanentError(`${topic.name}: event seal does not verify (${check.reason}): dead-lettered, not acted on`, 'seal_invalid');
  };
  const writer = {
    writeMany: async (writes: readonly StatusWrite[]) => {
      pipelines.push([...writes]);
      return writes.map((w, i) => opts.writeFails?.(w, i));
    },
  };
  return { useCase: new ApplyStatusBatch(checks, writer, refuse), checked, pipelines, alerts };
}

const errorOf = (r: EventResult | undefined): Error => {
  if (r === undefined || typeof r !== 'object') throw new Error(`expected an error, got ${String(r)}`);
  return r.error;
};

describe('ApplyStatusBatch', () => {
  it('verifies every event and writes the genuine ones in one pipeline, in offset order', async () => {
    const { useCase, checked, pipelines } = harness();
    const results = await useCase.execute([signed('p-1'), screened('p-2', 'APPROVE'), screened('p-1', 'REVIEW'), screened('p-1', 'APPROVE', true), settled('p-2')]);
    expect(results).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(checked).toHaveLength(5);
    expect(pipelines).toHaveLength(1);
    const writes = pipelines[0] ?? [];
    expect(writes.map((w) => w.paymentId)).toEqual(['p-1', 'p-2', 'p-1', 'p-1', 'p-2']);
    expect(writes[0]?.fields).toEqual({ signed_at: expect.any(String) });
    // the analyst's decision comes after the screening in the pipeline: it replaces the decision, keeps screened_at
    expect(writes[2]?.fields).toMatchObject({ screened_at: '2026-12-06T00:00:00.000Z', decision: JSON.stringify({ outcome: 'REVIEW', reason_codes: [] }) });
    expect(writes[3]?.fields).toMatchObject({ reviewed_at: '2026-12-06T00:01:00.000Z', decision: JSON.stringify({ outcome: 'APPROVE', reason_codes: [] }) });
    expect(writes[3]?.fields).not.toHaveProperty('screened_at');
    expect(writes[4]?.fields).toEqual({ settled_at: '2026-12-06T00:02:00.000Z', settlement: JSON.stringify({ batch_id: 'b-1', fee: { minor: '1', currency: 'EUR' }, net: { minor: '99', currency: 'EUR' } }) });
  });

  it('refuses a forged event (alert, PermanentError: dead-lettered) and writes nothing of it; the payment\'s genuine events still apply', async () => {
    const { useCase, pipelines, alerts } = harness({ verdict: (p, topic) => (p === 'p-1' && topic === 'signed' ? { ok: false, reason: 'signature', kid: 'stranger' } : OK) });
    const results = await useCase.execute([signed('p-1'), screened('p-1', 'APPROVE'), settled('p-2')]);
    expect(errorOf(results[0])).toBeInstanceOf(PermanentError);
    expect(errorOf(results[0]).message).toMatch(/does not verify \(signature\)/);
    expect(results.slice(1)).toEqual(['ok', 'ok']);
    expect(alerts).toEqual([`${TOPICS.paymentsSigned.name}:p-1:signature`]);
    expect(pipelines[0]?.map((w) => Object.keys(w.fields)[0])).toEqual(['decision', 'settled_at']);
  });

  it('a check that cannot answer (JWKS unreachable) fails its event and holds back the later events of the same payment, not the others', async () => {
    const { useCase, pipelines } = harness({ verdict: (p, topic) => (p === 'p-1' && topic === 'screened' ? new Error('jwks unavailable') : OK) });
    const results = await useCase.execute([signed('p-1'), screened('p-1', 'REVIEW'), screened('p-1', 'APPROVE', true), settled('p-2')]);
    expect(results[0]).toBe('ok');
    expect(errorOf(results[1]).message).toBe('jwks unavailable');
    expect(errorOf(results[2]).message).toBe('after a failed event of the same payment');
    expect(errorOf(results[2])).not.toBeInstanceOf(PermanentError);
    expect(results[3]).toBe('ok');
    expect(pipelines[0]?.map((w) => w.paymentId)).toEqual(['p-1', 'p-2']);
  });

  it('a failed write fails its event and the later events of its payment (retried after it, in order)', async () => {
    const { useCase } = harness({ writeFails: (_w, i) => (i === 0 ? new Error('READONLY') : undefined) });
    const results = await useCase.execute([screened('p-1', 'REVIEW'), screened('p-1', 'APPROVE', true), signed('p-2')]);
    expect(errorOf(results[0]).message).toBe('READONLY');
    expect(errorOf(results[1]).message).toBe('after a failed event of the same payment');
    expect(results[2]).toBe('ok');
  });

  it('a pipeline that fails as a whole fails every written event', async () => {
    const checks: StatusChecks = { checkSigned: async () => OK, checkScreened: async () => OK, checkSettled: async () => OK };
    const useCase = new ApplyStatusBatch(checks, { writeMany: async () => Promise.reject(new Error('connection lost')) }, async () => Promise.reject(new Error('unused')));
    const results = await useCase.execute([signed('p-1'), settled('p-2')]);
    expect(results.map((r) => errorOf(r).message)).toEqual(['connection lost', 'connection lost']);
  });

  it('verifies and writes an event id seen twice in the batch once; the copy answers duplicate', async () => {
    const { useCase, checked, pipelines } = harness();
    const results = await useCase.execute([signed('p-1', 'same-id'), signed('p-1', 'same-id'), signed('p-2')]);
    expect(results).toEqual(['ok', 'duplicate', 'ok']);
    expect(checked).toEqual(['signed:p-1', 'signed:p-2']);
    expect(pipelines[0]).toHaveLength(2);
  });

  it('an empty batch does nothing', async () => {
    const { useCase, pipelines } = harness();
    expect(await useCase.execute([])).toEqual([]);
    expect(pipelines).toEqual([[]]);
  });
});
