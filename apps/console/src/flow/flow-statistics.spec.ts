import { randomUUID } from 'node:crypto';
import { DEAD_LETTER_TOPICS, DLQ_HEADERS, EventEnvelope, TOPICS, TopicKey } from '@payrail/contracts';
import type { ObservedMessage } from '@payrail/messaging';
import { FlowStatistics } from './flow-statistics';

let clock = Date.parse('2025-03-01T10:00:00.000Z');
const now = () => clock;
let offset = 0;

/** A message as the observer hands it over, its data checked against the topic's contract. */
function observed<K extends TopicKey>(key: K, data: unknown, id = randomUUID()): ObservedMessage {
  const topic = TOPICS[key];
  const envelope: EventEnvelope = {
    specversion: '1.0',
    id,
    type: topic.eventType,
    source: 'payrail/test',
    time: new Date(clock).toISOString(),
    dataschema: 'x',
    schemaversion: topic.schemaVersion,
    correlationid: 'c',
    datacontenttype: 'application/json',
  };
  return { topic: topic.name, partition: 0, offset: String(offset++), key: 'k', timestamp: clock, headers: {}, event: { envelope, data: topic.schema.parse(data) }, undecodable: undefined };
}

const instruction = 'eyJhbGciOiJFUzI1NiJ9.e30.sig';
const amount = (minor: string, currency = 'EUR') => ({ minor, currency });

function accepted(id: string, minor = '1050') {
  return observed('paymentsAccepted', {
    payment_id: id,
    upstream_id: 'psp-alpha',
    upstream_reference: `ref-${id}`,
    accepted_at: new Date(clock).toISOString(),
    amount: amount(minor),
    payer: { type: 'card', fingerprint: 'f'.repeat(32), masked: '4000********0002', bin: '4000', expiry: '2030-05', protected_jwe: 'jwe' },
    payee: { merchant_id: 'm-1', mcc: '5411' },
    upstream_verification: { kid: 'u1', alg: 'ES256', jti: 'j', iat: 1 },
  });
}

function screened(id: string, decision: 'APPROVE' | 'REVIEW' | 'DECLINE', rules: string[], review?: { analyst: string }) {
  return observed('paymentsScreened', {
    payment_id: id,
    merchant_id: 'm-1',
    amount: amount('250000'),
    decision,
    score: rules.length * 40,
    reasons: rules.map((rule) => ({ rule, score: 40 })),
    ruleset_version: '2025-03-01.1',
    screened_at: new Date(clock).toISOString(),
    review: review ? { analyst: review.analyst, decided_at: new Date(clock).toISOString() } : undefined,
    instruction_jws: instruction,
  });
}

function settled(id: string, minor: string, fee: string, currency = 'EUR') {
  return observed('paymentsSettled', { payment_id: id, merchant_id: 'm-1', amount: amount(minor, currency), fee: amount(fee, currency), net: amount(String(BigInt(minor) - BigInt(fee)), currency), posted_at: new Date(clock).toISOString(), batch_id: 'm-1:EUR:1' });
}

describe('FlowStatistics', () => {
  it('names the merchants seen paying most recently first, each once (whose ledger the page asks settlement for)', () => {
    const flow = new FlowStatistics(now);
    const pay = (merchant: string) => {
      const id = randomUUID();
      flow.record(observed('paymentsSettled', { payment_id: id, merchant_id: merchant, amount: amount('1000'), fee: amount('26'), net: amount('974'), posted_at: new Date(clock).toISOString(), batch_id: `${merchant}:EUR:1` }));
    };
    for (const m of ['m-a', 'm-b', 'm-a', 'm-c']) pay(m);
    expect(flow.recentMerchants(10)).toEqual(['m-c', 'm-a', 'm-b']);
    expect(flow.recentMerchants(2)).toEqual(['m-c', 'm-a']);
  });

  it('counts payments per stage and outcome, once per payment however often an event repeats', () => {
    const flow = new FlowStatistics(now);
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of ids) flow.record(accepted(id));
    flow.record(accepted(ids[0] ?? ''));
    flow.record(observed('paymentsRejected', { reason: 'replayed', detail: 'jti seen', rejected_at: new Date(clock).toISOString(), channel: 'http' }));
    for (const id of ids) flow.record(observed('paymentsSigned', { payment_id: id, kid: 'sig-2025', instruction_jws: instruction }));
    // signing re-signed a redelivered payment: a second signed event for the same payment
    flow.record(observed('paymentsSigned', { payment_id: ids[1], kid: 'sig-2025', instruction_jws: instruction }));
    flow.record(screened(ids[0] ?? '', 'APPROVE', []));
    flow.record(screened(ids[1] ?? '', 'DECLINE', ['blocklist.bin']));
    flow.record(screened(ids[2] ?? '', 'REVIEW', ['amount.review_limit']));
    flow.record(settled(ids[0] ?? '', '1050', '26'));

    const view = flow.view();
    expect(view.stages.ingest.outcomes).toEqual({ accepted: 3, rejected: 1 });
    expect(view.stages.signing.outcomes).toEqual({ signed: 3 });
    expect(view.stages['fraud-check'].outcomes).toEqual({ approve: 1, decline: 1, review: 1 });
    expect(view.stages.settlement.outcomes).toEqual({ settled: 1 });
    expect(view.rejections).toEqual([{ reason: 'replayed', count: 1 }]);
    expect(view.recent[0]).toMatchObject({ payment_id: ids[0], stage: 'settlement', outcome: 'settled', amount: { minor: '1050', currency: 'EUR', display: '10.50' } });
    expect(view.keysInUse).toEqual([{ kid: 'sig-2025', signs: 'payment instructions', count: 4, last_seen: new Date(clock).toISOString() }]);
  });

  it('measures throughput per stage over the last 60 s and lets old seconds fall out of the window', () => {
    const flow = new FlowStatistics(now);
    for (let i = 0; i < 30; i++) flow.record(accepted(randomUUID()));
    clock += 1_000;
    for (let i = 0; i < 90; i++) flow.record(accepted(randomUUID()));
    let ingest = flow.view().stages.ingest;
    expect(ingest.series.length).toBe(60);
    expect(ingest.series.slice(-2)).toEqual([30, 90]);
    expect(ingest.perSecond).toBe(2);
    expect(flow.view().stages.signing.perSecond).toBe(0);

    clock += 59_000;
    ingest = flow.view().stages.ingest;
    expect(ingest.series.slice(-1)).toEqual([0]);
    expect(ingest.perSecond).toBe(1.5);
    clock += 1_000;
    expect(flow.view().stages.ingest.perSecond).toBe(0);
    expect(flow.view().stages.ingest.outcomes).toEqual({ accepted: 120 });
  });

  it('keeps fraud decisions, the rules behind them ranked, and REVIEW payments until an analyst decides', () => {
    const flow = new FlowStatistics(now);
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    flow.record(screened(a, 'REVIEW', ['amount.review_limit', 'geo.mismatch']));
    flow.record(screened(b, 'REVIEW', ['amount.review_limit']));
    flow.record(screened(c, 'DECLINE', ['blocklist.bin']));
    expect(flow.view().reviewsObserved.map((r) => r.payment_id)).toEqual([a, b]);
    expect(flow.view().reviewsObserved[0]).toMatchObject({ merchant_id: 'm-1', amount: { display: '2500.00' }, rules: ['amount.review_limit', 'geo.mismatch'] });

    flow.record(screened(a, 'APPROVE', ['amount.review_limit', 'geo.mismatch'], { analyst: 'ops.alice' }));
    flow.record(screened(a, 'APPROVE', ['amount.review_limit', 'geo.mismatch'], { analyst: 'ops.alice' }));
    const view = flow.view();
    expect(view.reviewsObserved.map((r) => r.payment_id)).toEqual([b]);
    expect(view.fraud.decisions).toEqual({ APPROVE: 0, REVIEW: 2, DECLINE: 1 });
    expect(view.fraud.analyst).toEqual({ APPROVE: 1, DECLINE: 0 });
    expect(view.fraud.topRules).toEqual([
      { rule: 'amount.review_limit', count: 2 },
      { rule: 'blocklist.bin', count: 1 },
      { rule: 'geo.mismatch', count: 1 },
    ]);
    expect(view.fraud.rulesetVersions).toEqual(['2025-03-01.1']);
    expect(view.stages['fraud-check'].outcomes).toEqual({ review: 2, decline: 1, analyst_approve: 1 });
  });

  it('sums settled amounts per currency exactly in minor units, beyond 2^53', () => {
    const flow = new FlowStatistics(now);
    flow.record(settled(randomUUID(), '999999999999999', '15000000000010'));
    flow.record(settled(randomUUID(), '999999999999999', '15000000000010'));
    flow.record(settled(randomUUID(), '500', '17', 'JPY'));
    const totals = flow.view().settlement.totals;
    expect(totals[0]).toEqual({
      currency: 'EUR',
      payments: 2,
      gross: { minor: '1999999999999998', currency: 'EUR', display: '19999999999999.98' },
      fees: { minor: '30000000000020', currency: 'EUR', display: '300000000000.20' },
      net: { minor: '1969999999999978', currency: 'EUR', display: '19699999999999.78' },
    });
    expect(totals[1]).toMatchObject({ currency: 'JPY', payments: 1, net: { display: '483' } });
  });

  it('joins a batch report with its signed form, in either order, and records the report key in use', () => {
    const flow = new FlowStatistics(now);
    const report = (batch: string) =>
      observed('settlementBatchReports', {
        batch_id: batch,
        merchant_id: 'm-1',
        currency: 'EUR',
        opened_at: '2025-03-01T09:00:00Z',
        closed_at: '2025-03-01T10:00:00Z',
        close_reason: 'cutoff',
        payment_count: 2,
        gross: amount('2000'),
        fees: amount('52'),
        net: amount('1948'),
        payment_ids: [randomUUID(), randomUUID()],
      });
    const signedBatch = (batch: string) => observed('settlementBatches', { batch_id: batch, merchant_id: 'm-1', kid: 'sig-2025', report_jws: 'a.b.c' });
    flow.record(report('b-1'));
    flow.record(signedBatch('b-1'));
    flow.record(signedBatch('b-2'));
    flow.record(report('b-2'));
    const batches = flow.view().settlement.batches;
    expect(batches.map((b) => [b.batch_id, b.status, b.kid, b.report?.net.display])).toEqual([
      ['b-2', 'signed', 'sig-2025', '19.48'],
      ['b-1', 'signed', 'sig-2025', '19.48'],
    ]);
    expect(flow.view().keysInUse).toEqual([expect.objectContaining({ kid: 'sig-2025', signs: 'settlement reports', count: 2 })]);
  });

  it('lists dead letters with where they came from and why, newest first, each once', () => {
    const flow = new FlowStatistics(now);
    const letter = (offsetInDlq: number, at: number): ObservedMessage => ({
      topic: DEAD_LETTER_TOPICS['fraud-check'],
      partition: 1,
      offset: String(offsetInDlq),
      key: 'payer',
      timestamp: at,
      headers: {
        [DLQ_HEADERS.originalTopic]: TOPICS.paymentsSigned.name,
        [DLQ_HEADERS.originalPartition]: '4',
        [DLQ_HEADERS.originalOffset]: '77',
        [DLQ_HEADERS.errorClass]: 'SchemaInvalidError',
        [DLQ_HEADERS.errorMessage]: 'schema: payment_id: Invalid UUID',
        [DLQ_HEADERS.attempts]: '1',
        [DLQ_HEADERS.consumerGroup]: 'payrail-fraud-check',
        ce_correlationid: 'p-1',
      },
      event: undefined,
      undecodable: undefined,
    });
    flow.record(letter(3, clock - 5_000));
    flow.record(letter(4, clock));
    flow.record(letter(3, clock - 5_000));
    const view = flow.view();
    expect(view.deadLetters.seen).toEqual({ ingest: 0, signing: 0, 'fraud-check': 2, settlement: 0 });
    expect(view.deadLetters.recent.map((d) => d.ref)).toEqual([`${DEAD_LETTER_TOPICS['fraud-check']}/1/4`, `${DEAD_LETTER_TOPICS['fraud-check']}/1/3`]);
    expect(view.deadLetters.recent[0]).toMatchObject({ stage: 'fraud-check', original_topic: TOPICS.paymentsSigned.name, original_offset: '77', error_class: 'SchemaInvalidError', attempts: '1', correlation_id: 'p-1' });
  });

  it('counts undecodable messages per topic without letting them into the counters', () => {
    const flow = new FlowStatistics(now);
    flow.record({ topic: TOPICS.paymentsSigned.name, partition: 0, offset: '1', key: undefined, timestamp: clock, headers: {}, event: undefined, undecodable: 'missing ce_id' });
    expect(flow.view().undecodable).toEqual({ [TOPICS.paymentsSigned.name]: 1 });
    expect(flow.view().stages.signing.outcomes).toEqual({});
  });
});
