// Settlement against the real Kafka broker (KAFKA_BROKERS) and Redis (REDIS_URL): in-process instances wired like
// main.ts, each test with its own Redis key prefix and its own merchants.
import { randomBytes } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DEAD_LETTER_TOPICS, DLQ_HEADERS, EVENT_SEAL_TYPES, PaymentInstruction, PaymentScreened, SecurityAlert, SecurityAlertSchema, SettlementBatchReport, TOPICS, PAYMENT_INSTRUCTION_JWS_TYPE, SETTLEMENT_BATCH_JWS_TYPE } from '@payrail/contracts';
import { EventSealVerifier, JwsSigner, PayrailKeyStore, openPayrailVerifier } from '@payrail/crypto';
import { LedgerRepository, checkInvariants, computeFee, instructionVerifier, rebuildLedger, reconcile } from '@payrail/ledger';
import { DOMAIN_METRIC_NAMES, EventProducer, Kafka, Redis, createKafka, createRedis, ensureTopics, kafkaClientEnv, kafkaConnectionFromProcessEnv, partitionRanges, readPartitionRanges, scrapeSeries } from '@payrail/messaging';
import { deletePrefix, uniquePrefix } from '@payrail/ledger/testing';
import { OPERATOR_TOKEN, PaymentFactory, eventually, settlementEnv, startSettlement } from '../test/fixtures';
import { BatchCloser } from './batches/batch-closer.service';
import { Ledger } from './ledger/ledger.provider';
import { payloadVerifier } from './posting/payrail-signatures.provider';

const BROKERS = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092';
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const FEES = { bps: 150, fixedMinor: 10 };

interface Stream {
  events: PaymentScreened[];
  approved: Map<string, PaymentInstruction>;
  notPosted: Map<string, string>;
}

/** A stream of screened events for `merchants`: approvals, declines, reviews (some approved later), redeliveries. */
function makeStream(factory: PaymentFactory, merchants: string[], count: number, screenedAt?: string): Stream {
  const stream: Stream = { events: [], approved: new Map(), notPosted: new Map() };
  for (let i = 0; i < count; i++) {
    const m = merchants[i % merchants.length] ?? 'm';
    const instruction = factory.instruction(m, BigInt(100 + ((i * 7919) % 250_000)), i % 5 === 0 ? 'JPY' : 'EUR');
    const kind = i % 10;
    if (kind === 8) {
      stream.events.push(factory.screened(instruction, 'DECLINE', { screenedAt }));
      stream.notPosted.set(instruction.payment_id, 'DECLINE');
    } else if (kind === 9) {
      stream.events.push(factory.screened(instruction, 'REVIEW', { screenedAt }));
      if (i % 20 === 9) {
        // the analyst approves it later: posted once, like any approval
        stream.events.push(factory.screened(instruction, 'APPROVE', { screenedAt, review: { analyst: 'ana', decided_at: new Date().toISOString() } }));
        stream.approved.set(instruction.payment_id, instruction);
      } else stream.notPosted.set(instruction.payment_id, 'REVIEW');
    } else {
      const event = factory.screened(instruction, 'APPROVE', { screenedAt });
      stream.events.push(event);
      if (kind === 3) stream.events.push(event); // redelivered
      stream.approved.set(instruction.payment_id, instruction);
    }
  }
  return stream;
}

function expectedBalances(stream: Stream, merchant: string): Record<string, { clearing: bigint; merchant_payable: bigint; fee_revenue: bigint }> {
  const out: Record<string, { clearing: bigint; merchant_payable: bigint; fee_revenue: bigint }> = {};
  for (const i of stream.approved.values()) {
    if (i.payee.merchant_id !== merchant) continue;
    const amount = BigInt(i.amount.minor);
    const fee = computeFee(amount, FEES.bps, FEES.fixedMinor);
    const row = (out[i.amount.currency] ??= { clearing: 0n, merchant_payable: 0n, fee_revenue: 0n });
    row.clearing -= amount;
    row.merchant_payable += amount - fee;
    row.fee_revenue += fee;
  }
  return out;
}

async function actualBalances(ledger: LedgerRepository, merchant: string): Promise<Record<string, { clearing: bigint; merchant_payable: bigint; fee_revenue: bigint }>> {
  return Object.fromEntries((await ledger.balances(merchant)).map(({ currency, ...rest }) => [currency, rest]));
}

async function postedCount(ledger: LedgerRepository, merchants: string[]): Promise<number> {
  let n = 0;
  for (const m of merchants) for (const id of await ledger.batchIds(m)) n += (await ledger.batch(m, id))?.count ?? 0;
  return n;
}

async function publishAll(producer: EventProducer, events: PaymentScreened[]): Promise<void> {
  await Promise.all(events.map((e) => producer.publish(TOPICS.paymentsScreened, e, { key: e.merchant_id, correlationId: e.payment_id })));
}

describe('settlement service (real Kafka and Redis)', () => {
  let kafka: Kafka;
  let producer: EventProducer;
  let factory: PaymentFactory;
  const apps: NestFastifyApplication[] = [];
  const redisClients: Redis[] = [];
  const prefixes: string[] = [];

  async function ledgerAt(prefix: string): Promise<LedgerRepository> {
    const redis = createRedis({ url: REDIS_URL, keyPrefix: prefix }, 'settlement-int-spec');
    await redis.connect();
    redisClients.push(redis);
    prefixes.push(prefix);
    return new LedgerRepository(redis);
  }

  async function instance(prefix: string, extra: Record<string, string> = {}): Promise<{ app: NestFastifyApplication; url: string }> {
    const started = await startSettlement(settlementEnv({ ...kafkaClientEnv(process.env), KAFKA_BROKERS: BROKERS, REDIS_URL, REDIS_KEY_PREFIX: prefix, ...factory.keysEnv(), ...extra }));
    apps.push(started.app);
    return started;
  }

  beforeAll(async () => {
    kafka = createKafka(kafkaConnectionFromProcessEnv(process.env, 'settlement-int-spec'), { warn: () => undefined, error: (o, m) => console.error(m, o) });
    await ensureTopics(kafka);
    producer = new EventProducer(kafka, { source: 'payrail/test' });
    await producer.connect();
    factory = await PaymentFactory.create();
  });

  afterEach(async () => {
    // instances share the consumer group: one left running would take the next test's partitions
    for (const app of apps.splice(0)) await app.close().catch(() => undefined);
  });

  afterAll(async () => {
    await producer.disconnect();
    for (const [i, redis] of redisClients.entries()) {
      await deletePrefix(redis, prefixes[i] ?? 'none');
      await redis.quit();
    }
  });

  /** Where each partition of `topic` ends now: read from there, a test sees only what it caused. */
  async function endsOf(topic: string): Promise<Map<number, bigint>> {
    return new Map((await partitionRanges(kafka, topic)).map((r) => [r.partition, r.end]));
  }

  /** The messages on `topic` since `from` that `pick` recognises, once there are `count` of them. */
  async function readSince<T>(topic: string, from: Map<number, bigint>, pick: (key: string | undefined, value: string, headers: Record<string, string>) => T | undefined, count: number, what: string): Promise<T[]> {
    return eventually(async () => {
      const ranges = (await partitionRanges(kafka, topic)).map((r) => ({ ...r, start: from.get(r.partition) ?? r.start }));
      const found: T[] = [];
      await readPartitionRanges(kafka, ranges, (_topic, _partition, m) => {
        const headers = Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(Array.isArray(v) ? v[0] : v)]));
        const hit = pick(m.key?.toString(), m.value?.toString('utf8') ?? '', headers);
        if (hit !== undefined) found.push(hit);
        return 'continue';
      });
      return found.length >= count ? found : undefined;
    }, 60_000, what);
  }

  it("dead-letters a decision fraud-check did not seal (no seal, the wrong service's key, a changed field, another payment's seal) with a security alert: never posted or held", async () => {
    const prefix = uniquePrefix('settle-sealed');
    const ledger = await ledgerAt(prefix);
    await instance(prefix);
    const [dlqFrom, alertsFrom] = await Promise.all([endsOf(DEAD_LETTER_TOPICS.settlement), endsOf(TOPICS.securityAlerts.name)]);
    const run = randomBytes(3).toString('hex');
    const merchants = Array.from({ length: 5 }, (_, i) => `m-sealed-${run}-${i}`);
    const [i0, i1, i2, i3, genuine] = merchants.map((m) => factory.instruction(m, 5_000n));
    if (!i0 || !i1 || !i2 || !i3 || !genuine) throw new Error('instructions');
    const { seal: _none, ...unsealed } = factory.screened(i0, 'APPROVE');
    const forged: Array<[string, PaymentScreened]> = [
      ['missing', unsealed],
      ['kid', factory.settlementSealingDecisions.seal(factory.screened(i1, 'APPROVE'))],
      ['signature', { ...factory.screened(i2, 'DECLINE'), decision: 'APPROVE' }],
      ['signature', { ...factory.screened(i3, 'APPROVE'), seal: factory.screened(genuine, 'APPROVE').seal }],
    ];
    await publishAll(producer, [...forged.map(([, e]) => e), factory.screened(genuine, 'APPROVE')]);

    const forgedMerchants = new Set(merchants.slice(0, 4));
    const letters = await readSince(DEAD_LETTER_TOPICS.settlement, dlqFrom, (key, _v, headers) => (key && forgedMerchants.has(key) ? { key, headers } : undefined), 4, 'the forged decisions on the dead-letter topic');
    expect(new Set(letters.map((l) => l.key))).toEqual(forgedMerchants);
    for (const { key, headers } of letters) {
      expect(headers[DLQ_HEADERS.errorClass]).toBe('PermanentError');
      expect(headers[DLQ_HEADERS.attempts]).toBe('1');
      const reason = forged[merchants.indexOf(key)]?.[0];
      expect(headers[DLQ_HEADERS.errorMessage]).toBe(`${TOPICS.paymentsScreened.name}: event seal ${reason === 'missing' ? 'missing' : `does not verify (${reason})`}: dead-lettered, not acted on`);
    }
    const forgedIds = new Set([i0, i1, i2, i3].map((i) => i.payment_id));
    const alerts = await readSince(TOPICS.securityAlerts.name, alertsFrom, (_k, value) => {
      const alert: SecurityAlert = SecurityAlertSchema.parse(JSON.parse(value));
      return alert.payment_id && forgedIds.has(alert.payment_id) ? alert : undefined;
    }, 4, 'a security alert for each forged decision');
    expect(alerts.every((a) => a.service === 'settlement' && a.detail.includes('event seal'))).toBe(true);
    expect(alerts.find((a) => a.payment_id === i1.payment_id)?.alert).toBe('key_unknown');

    // the genuine decision next to them is posted; nothing of the forged ones is in the ledger
    await eventually(async () => ((await ledger.posting(genuine.payee.merchant_id, genuine.payment_id)) ? true : undefined), 60_000, 'the genuine approval posted');
    for (const i of [i0, i1, i2, i3]) {
      expect(await ledger.balances(i.payee.merchant_id)).toEqual([]);
      expect(await ledger.held(i.payee.merchant_id)).toEqual({});
    }
  });

  it('dead-letters an approval whose instruction another key signed at once, as a PermanentError, never posted', async () => {
    const prefix = uniquePrefix('settle-forged');
    const ledger = await ledgerAt(prefix);
    await instance(prefix);
    const dlq = DEAD_LETTER_TOPICS.settlement;
    const from = new Map((await partitionRanges(kafka, dlq)).map((r) => [r.partition, r.end]));
    // signed by a key Payrail never published
    const forger = await PaymentFactory.create();
    const merchant = `m-forged-${randomBytes(3).toString('hex')}`;
    // sealed by fraud-check (this test's keys): the seal holds, the instruction's signature does not
    const forged = factory.seal(forger.screened(forger.instruction(merchant, 12_345n, 'EUR'), 'APPROVE'));
    await publishAll(producer, [forged]);

    const letter = await eventually(async () => {
      const ranges = (await partitionRanges(kafka, dlq)).map((r) => ({ ...r, start: from.get(r.partition) ?? r.start }));
      let found: Record<string, string> | undefined;
      await readPartitionRanges(kafka, ranges, (_topic, _partition, m) => {
        if (m.key?.toString() !== merchant) return 'continue';
        found = Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(Array.isArray(v) ? v[0] : v)]));
        return 'stop';
      });
      return found;
    }, 60_000, 'the forged approval on the settlement dead-letter topic');
    // the consumer saw the use case's own error (not one raised while handling it), so it did not retry
    expect(letter[DLQ_HEADERS.errorClass]).toBe('PermanentError');
    expect(letter[DLQ_HEADERS.attempts]).toBe('1');
    expect(letter[DLQ_HEADERS.errorMessage]).toContain('signature invalid');
    expect(await ledger.balances(merchant)).toEqual([]);
  });

  it('two instances with a forced rebalance mid-stream post every approved payment exactly once, and serve it over the API', async () => {
    const prefix = uniquePrefix('settle-two');
    const ledger = await ledgerAt(prefix);
    const run = randomBytes(3).toString('hex');
    const merchants = Array.from({ length: 6 }, (_, i) => `m-two-${run}-${i}`);
    const stream = makeStream(factory, merchants, 300);
    const third = Math.ceil(stream.events.length / 3);

    const a = await instance(prefix);
    await publishAll(producer, stream.events.slice(0, third));
    const b = await instance(prefix); // joins: rebalance while the first third is being consumed
    await publishAll(producer, stream.events.slice(third, 2 * third));
    await a.app.close(); // leaves: rebalance again, its partitions move to b
    apps.splice(apps.indexOf(a.app), 1);
    await publishAll(producer, stream.events.slice(2 * third));

    await eventually(async () => ((await postedCount(ledger, merchants)) >= stream.approved.size ? true : undefined), 90_000, 'every approved payment posted');
    expect(await postedCount(ledger, merchants)).toBe(stream.approved.size);
    for (const [pid, i] of stream.approved) expect((await ledger.posting(i.payee.merchant_id, pid))?.amount).toBe(BigInt(i.amount.minor));
    for (const m of merchants) {
      expect(await actualBalances(ledger, m)).toEqual(expectedBalances(stream, m));
      const held = await ledger.held(m);
      for (const [pid, decision] of stream.notPosted) {
        if (held[pid] === undefined) continue;
        expect(held[pid]).toBe(decision);
        expect(await ledger.posting(m, pid)).toBeUndefined();
      }
    }
    const heldTotal = (await Promise.all(merchants.map((m) => ledger.held(m)))).reduce((n, h) => n + Object.keys(h).length, 0);
    expect(heldTotal).toBe(stream.notPosted.size);
    const invariants = await checkInvariants(ledger);
    expect(invariants.violations).toEqual([]);

    // the operators API on the surviving instance
    const m0 = merchants[0] ?? '';
    const auth = { authorization: `Bearer ${OPERATOR_TOKEN}` };
    const accounts = await fetch(`${b.url}/v1/accounts/${m0}`, { headers: auth });
    expect(accounts.status).toBe(200);
    const body = (await accounts.json()) as { balances: { currency: string; clearing: { minor: string }; sum: { minor: string } }[] };
    expect(body.balances.map((r) => [r.currency, r.clearing.minor, r.sum.minor])).toEqual(Object.entries(expectedBalances(stream, m0)).sort().map(([c, r]) => [c, r.clearing.toString(), '0']));
    const anonymous = await fetch(`${b.url}/v1/accounts/${m0}`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toContain('application/problem+json');
    expect(anonymous.headers.get('www-authenticate')).toContain('Bearer');
    const wrong = await fetch(`${b.url}/v1/settlements/batches?merchant_id=${m0}`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const list = (await (await fetch(`${b.url}/v1/settlements/batches?merchant_id=${m0}&limit=10`, { headers: auth })).json()) as { items: { batch_id: string; payment_count: number; status: string }[]; total: number };
    expect(list.items.length).toBeGreaterThan(0);
    const first = list.items[0];
    const detail = (await (await fetch(`${b.url}/v1/settlements/batches/${encodeURIComponent(first?.batch_id ?? '')}`, { headers: auth })).json()) as { payment_ids: string[]; status: string };
    expect(detail.payment_ids.length).toBe(first?.payment_count);
    const bad = await fetch(`${b.url}/v1/settlements/batches?limit=1000`, { headers: auth });
    expect(bad.status).toBe(400);
    const problem = (await bad.json()) as { errors: { pointer: string }[] };
    expect(problem.errors.map((e) => e.pointer).sort()).toEqual(['#/query/limit', '#/query/merchant_id']);
    expect((await fetch(`${b.url}/v1/settlements/batches/nope.EUR.20261129T100000Z`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${b.url}/docs/json`)).status).toBe(200);
  });

  it('closes batches by size and by cutoff, sends each report once for signing, records the signed report, and counts postings and closes on /metrics', async () => {
    const prefix = uniquePrefix('settle-batches');
    const ledger = await ledgerAt(prefix);
    const run = randomBytes(3).toString('hex');
    const merchant = `m-batch-${run}`;
    const signer = new JwsSigner(await PayrailKeyStore.fromFile(factory.publicJwksFile.replace('public.jwks.json', 'private.jwks.json')));
    const reportSeals = new EventSealVerifier(await PayrailKeyStore.fromFile(factory.settlementSealJwksFile), EVENT_SEAL_TYPES.settlementBatchReport);
    // stands in for the signing service: signs each report it receives and publishes it on the batches topic
    const reports: SettlementBatchReport[] = [];
    const consumer = kafka.consumer({ groupId: `settlement-int-spec-signer-${run}` });
    await consumer.connect();
    await consumer.subscribe({ topics: [TOPICS.settlementBatchReports.name], fromBeginning: false });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const sealed = JSON.parse(message.value?.toString('utf8') ?? '{}') as SettlementBatchReport;
        if (sealed.merchant_id !== merchant) return;
        // as signing does: only a report settlement sealed, signed without the seal
        if (!(await reportSeals.check(sealed)).ok) throw new Error(`batch report ${sealed.batch_id} not sealed by settlement`);
        const { seal: _seal, ...report } = sealed;
        reports.push(report);
        await producer.publish(TOPICS.settlementBatches, { batch_id: report.batch_id, merchant_id: merchant, kid: 'k', report_jws: signer.sign(report) }, { key: merchant, correlationId: report.batch_id, eventId: `${report.batch_id}:signed` });
      },
    });
    await new Promise((r) => setTimeout(r, 3_000)); // the signer's group has joined before reports flow
    try {
      const { app, url } = await instance(prefix, { BATCH_MAX_PAYMENTS: '4', BATCH_CLOSE_INTERVAL_S: '1', BATCH_GRACE_S: '0' });
      const oldWindow = '2026-01-01T10:15:00.000Z'; // a window long past: its batches close at the next round
      const approvals = Array.from({ length: 6 }, (_, i) => factory.screened(factory.instruction(merchant, BigInt(1_000 + i)), 'APPROVE', { screenedAt: oldWindow }));
      await publishAll(producer, approvals);
      const approvedIds = new Set(approvals.map((e) => e.payment_id));
      const signed = await eventually(async () => {
        const ids = await ledger.batchIds(merchant);
        const batches = await Promise.all(ids.map((id) => ledger.batch(merchant, id)));
        const count = batches.reduce((n, x) => n + (x?.count ?? 0), 0);
        return count === approvedIds.size && batches.every((x) => x?.status === 'signed') ? batches : undefined;
      }, 60_000, 'every batch signed');
      const bySeq = [...signed].sort((x, y) => (x?.seq ?? 0) - (y?.seq ?? 0));
      expect([bySeq[0]?.batchId, bySeq[0]?.closeReason, bySeq[0]?.count]).toEqual([`${merchant}.EUR.20260101T100000Z`, 'size', 4]);
      // the rest closed by cutoff (normally one batch; a close round may fall between two postings)
      expect(bySeq.slice(1).every((x) => x?.closeReason === 'cutoff')).toBe(true);
      // a second close round changes nothing: one report per batch
      await app.get(BatchCloser).tick();
      await new Promise((r) => setTimeout(r, 1_500));
      expect(reports.map((r) => r.batch_id).sort()).toEqual(signed.map((x) => x?.batchId).sort());
      expect(new Set(reports.flatMap((r) => r.payment_ids))).toEqual(approvedIds);
      const total = reports.reduce((s, r) => s + BigInt(r.gross.minor), 0n);
      expect(-(await ledger.balance(merchant, 'clearing', 'EUR'))).toBe(total);
      expect((await checkInvariants(ledger)).violations).toEqual([]);

      // this instance's counters (a registry of its own): six postings, one close by size, the rest by cutoff
      const metric = (name: string, labels: Record<string, string>) => scrapeSeries(`${url}/metrics`, name, labels);
      expect(await metric(DOMAIN_METRIC_NAMES.ledgerPostings, { currency: 'EUR', outcome: 'posted' })).toBe(approvedIds.size);
      expect(await metric(DOMAIN_METRIC_NAMES.batchCloses, { reason: 'size' })).toBe(1);
      expect(await metric(DOMAIN_METRIC_NAMES.batchCloses, { reason: 'cutoff' })).toBe(bySeq.length - 1);
      // a redelivered approval finds its posting: counted as a duplicate, not posted again
      await publishAll(producer, approvals.slice(0, 1));
      await eventually(async () => ((await metric(DOMAIN_METRIC_NAMES.ledgerPostings, { currency: 'EUR', outcome: 'duplicate' })) === 1 ? true : undefined), 30_000, 'the redelivery counted as a duplicate posting');
      expect(await metric(DOMAIN_METRIC_NAMES.ledgerPostings, { currency: 'EUR', outcome: 'posted' })).toBe(approvedIds.size);
    } finally {
      await consumer.disconnect();
    }
  });

  it('rebuilds a reported batch with exactly its report\'s payments, even when a settled event claims another one for it; an automatic approval of a REVIEW stays held', async () => {
    const prefix = uniquePrefix('settle-facts');
    const ledger = await ledgerAt(prefix);
    const own = await PaymentFactory.create();
    const m = `m-facts-${randomBytes(3).toString('hex')}`;
    const screenedAt = '2026-11-29T10:05:00.000Z';
    const [a1, a2, b, c, r] = [1_000n, 2_000n, 3_000n, 4_000n, 5_000n].map((minor) => own.instruction(m, minor));
    if (!a1 || !a2 || !b || !c || !r) throw new Error('instructions');
    const batch1 = `${m}.EUR.20261129T100000Z`;
    const settled = (i: PaymentInstruction, batchId: string) => {
      const fee = computeFee(BigInt(i.amount.minor), FEES.bps, FEES.fixedMinor);
      return own.sealSettled({ payment_id: i.payment_id, merchant_id: m, amount: i.amount, fee: { minor: fee.toString(), currency: 'EUR' as const }, net: { minor: (BigInt(i.amount.minor) - fee).toString(), currency: 'EUR' as const }, posted_at: '2026-11-29T10:05:01.000Z', batch_id: batchId });
    };
    const inReport = [a1, a2].map((i) => settled(i, batch1));
    const sum = (f: (x: (typeof inReport)[number]) => string) => inReport.reduce((n, x) => n + BigInt(f(x)), 0n).toString();
    const report: SettlementBatchReport = own.sealReport({
      batch_id: batch1, merchant_id: m, currency: 'EUR', opened_at: '2026-11-29T10:05:01.000Z', closed_at: '2026-11-29T10:05:01.000Z', close_reason: 'size', payment_count: 2,
      gross: { minor: sum((x) => x.amount.minor), currency: 'EUR' }, fees: { minor: sum((x) => x.fee.minor), currency: 'EUR' }, net: { minor: sum((x) => x.net.minor), currency: 'EUR' },
      payment_ids: [a1.payment_id, a2.payment_id].sort(),
    });
    // what a ledger that kept posting after a Redis loss told: b "settled" into batch 1 after its report was sent
    await publishAll(producer, [a1, a2, b, c].map((i) => own.screened(i, 'APPROVE', { screenedAt })).concat([own.screened(r, 'REVIEW', { screenedAt }), own.screened(r, 'APPROVE', { screenedAt })]));
    // forged decisions a restore must not believe: an unsealed approval of f, and a DECLINE of a1 sealed with
    // settlement's key (the wrong service)
    const f = own.instruction(m, 6_000n);
    const { seal: _none, ...unsealedApproval } = own.screened(f, 'APPROVE', { screenedAt });
    await publishAll(producer, [unsealedApproval, own.settlementSealingDecisions.seal(own.screened(a1, 'DECLINE', { screenedAt }))]);
    await Promise.all([...inReport, settled(b, batch1)].map((e) => producer.publish(TOPICS.paymentsSettled, e, { key: m, correlationId: e.payment_id })));
    await producer.publish(TOPICS.settlementBatchReports, report, { key: m, correlationId: batch1 });
    // forged facts a restore must not believe: an unsealed settled event putting c (in flight) into a batch of its
    // own, and a report of another batch listing c, sealed with fraud-check's key (the wrong service's)
    const forgedBatch = `${batch1}.7`;
    const { seal: _unsealed, ...forgedSettled } = settled(c, forgedBatch);
    await producer.publish(TOPICS.paymentsSettled, forgedSettled, { key: m, correlationId: c.payment_id });
    const forgedReport = { ...report, batch_id: forgedBatch, payment_ids: [c.payment_id], seal: own.seal(own.screened(c, 'APPROVE', { screenedAt })).seal };
    await producer.publish(TOPICS.settlementBatchReports, forgedReport, { key: m, correlationId: forgedBatch });

    const keys = await openPayrailVerifier({ file: own.publicJwksFile }, [PAYMENT_INSTRUCTION_JWS_TYPE, SETTLEMENT_BATCH_JWS_TYPE]);
    try {
      const verify = instructionVerifier(payloadVerifier(() => keys.verifier));
      const evidence = await own.evidence(payloadVerifier(() => keys.verifier));
      const policy = { cutoffS: 3600, maxPayments: 2 };
      const rebuilt = await rebuildLedger(kafka, ledger, { fees: FEES, policy, verify, evidence });
      expect(await ledger.batchPaymentIds(m, batch1)).toEqual(report.payment_ids);
      expect(await ledger.batch(m, batch1)).toMatchObject({ state: 'closed', count: 2, gross: BigInt(report.gross.minor), closeReason: 'size' });
      // b goes to the window's next batch, after the reported one was closed; c, in flight (no settled event), is
      // left to the service, which posts it when it consumes its (uncommitted) screened message
      expect(await ledger.batchPaymentIds(m, `${batch1}.2`)).toEqual([b.payment_id]);
      expect(await ledger.posting(m, c.payment_id)).toBeUndefined();
      expect(await ledger.posting(m, r.payment_id)).toBeUndefined();
      expect((await ledger.held(m))[r.payment_id]).toBe('REVIEW');
      expect(rebuilt.inFlight).toBeGreaterThanOrEqual(2); // c, and r's automatic approval (the ledger refuses it: see below)
      // the forged decisions changed nothing: f is not posted, a1 stays posted in its reported batch
      expect(await ledger.posting(m, f.payment_id)).toBeUndefined();
      expect((await ledger.held(m))[a1.payment_id]).toBeUndefined();
      expect(rebuilt.forged).toBeGreaterThanOrEqual(4);
      expect(await ledger.batch(m, forgedBatch)).toBeUndefined();
      expect(rebuilt.discrepancies.filter((d) => d.includes(m) || [a1, a2, b, c, r, f].some((i) => d.includes(i.payment_id))).sort()).toEqual([
        `payment ${b.payment_id}: settled into batch ${batch1}, whose report does not list it; posted again`,
        `payment ${f.payment_id}: screened APPROVE without a fraud-check seal that verifies (forged): ignored`,
        `payment ${a1.payment_id}: screened DECLINE without a fraud-check seal that verifies (forged): ignored`,
        `payment ${c.payment_id}: settled event without a settlement seal that verifies (forged): ignored`,
        `batch ${forgedBatch}: report without a settlement seal that verifies (forged): ignored`,
      ].sort());
      // reconcile holds the ledger to what was told: b's settled event names a batch its posting is not in
      const found = (await reconcile(kafka, ledger, { fees: FEES, policy, verify, evidence })).discrepancies.filter((d) => d.merchantId === m);
      expect(found.filter((d) => d.kind !== 'balance_mismatch').map((d) => `${d.kind}:${d.paymentId ?? ''}`).sort()).toEqual(
        [`approved_during_review:${r.payment_id}`, `forged_decision:${a1.payment_id}`, `forged_decision:${f.payment_id}`, `missing_posting:${c.payment_id}`, `settled_mismatch:${b.payment_id}`, `forged_event:${c.payment_id}`, 'forged_event:'].sort(),
      );
      // c, not posted until the service consumes it, is what the three accounts miss
      const missing = found.filter((d) => d.kind === 'balance_mismatch').map((d) => `${d.account}:${BigInt(d.expected ?? '0') - BigInt(d.actual ?? '0')}`);
      const cFee = computeFee(4_000n, FEES.bps, FEES.fixedMinor);
      expect(missing.sort()).toEqual([`clearing:-4000`, `fee_revenue:${cFee}`, `merchant_payable:${4_000n - cFee}`].sort());
    } finally {
      keys.close();
    }
  });

  it('after Redis loses its data mid-stream, the service restores the ledger from Kafka by itself before posting again: identical balances, reports unchanged, reconcile agrees', async () => {
    const prefix = uniquePrefix('settle-flush');
    const ledger = await ledgerAt(prefix);
    const run = randomBytes(3).toString('hex');
    const merchants = Array.from({ length: 4 }, (_, i) => `m-flush-${run}-${i}`);
    // keys of its own: the restore reads the whole shared bus, and the other tests' approvals must not verify here
    const own = await PaymentFactory.create();
    const stream = makeStream(own, merchants, 240);
    const { app } = await instance(prefix, { BATCH_CLOSE_INTERVAL_S: '1', BATCH_MAX_PAYMENTS: '7', ...own.keysEnv() });
    const epochBefore = await ledger.epoch();
    expect(epochBefore).toBeTruthy();
    const half = Math.floor(stream.events.length / 2);
    await publishAll(producer, stream.events.slice(0, half));
    await eventually(async () => ((await postedCount(ledger, merchants)) > 40 ? true : undefined), 60_000, 'postings before the flush');
    // batches closed by size (7 payments) are reported before the loss: what the merchants were told
    const reportedBefore = new Map<string, { count: number; gross: bigint; ids: string }>();
    await eventually(async () => {
      for (const m of merchants) {
        for (const id of await ledger.batchIds(m)) {
          const b = await ledger.batch(m, id);
          if (b && b.status !== 'open' && b.reportedAt) reportedBefore.set(id, { count: b.count, gross: b.gross, ids: (await ledger.batchPaymentIds(m, id)).join(',') });
        }
      }
      return reportedBefore.size > 0 ? true : undefined;
    }, 30_000, 'a batch reported before the flush');
    await deletePrefix(ledger.redis, prefix); // FLUSHALL, scoped to this test's keys on the shared Redis
    await publishAll(producer, stream.events.slice(half));
    // the stream is consumed when each merchant's last approval is posted (one merchant = one partition, in order)
    const lastApproved = new Map<string, string>();
    for (const e of stream.events) if (e.decision === 'APPROVE') lastApproved.set(e.merchant_id, e.payment_id);
    await eventually(async () => ((await Promise.all([...lastApproved].map(([m, pid]) => ledger.posting(m, pid)))).every(Boolean) ? true : undefined), 90_000, 'the stream consumed');
    await eventually(async () => (app.get(Ledger).state === 'live' ? true : undefined), 30_000, 'the ledger live again');
    const epochAfter = await ledger.epoch();
    expect(epochAfter).toBeTruthy();
    expect(epochAfter).not.toBe(epochBefore);
    for (const m of merchants) expect(await actualBalances(ledger, m)).toEqual(expectedBalances(stream, m));
    expect(await postedCount(ledger, merchants)).toBe(stream.approved.size);
    // every batch reported before the loss holds exactly what its report said: nothing posted into it afterwards
    for (const [id, before] of reportedBefore) {
      const m = merchants.find((x) => id.startsWith(`${x}.`)) ?? '';
      const b = await ledger.batch(m, id);
      expect({ count: b?.count, gross: b?.gross, ids: (await ledger.batchPaymentIds(m, id)).join(',') }).toEqual(before);
    }

    const keys = await openPayrailVerifier({ file: own.publicJwksFile }, [PAYMENT_INSTRUCTION_JWS_TYPE, SETTLEMENT_BATCH_JWS_TYPE]);
    try {
      const verify = instructionVerifier(payloadVerifier(() => keys.verifier));
      const evidence = await own.evidence(payloadVerifier(() => keys.verifier));
      const policy = { cutoffS: 3600, maxPayments: 7 };
      const report = await reconcile(kafka, ledger, { fees: FEES, policy, verify, evidence });
      const ours = new Set(merchants);
      expect(report.discrepancies.filter((d) => ours.has(d.merchantId))).toEqual([]);
      expect(report.invariants.violations.filter((v) => ours.has(v.merchantId))).toEqual([]);
      // running a rebuild again changes nothing
      const again = await rebuildLedger(kafka, ledger, { fees: FEES, policy, verify, evidence });
      expect(again.postingsRestored + again.postingsRecomputed).toBe(0);
      expect(again.discrepancies.filter((d) => merchants.some((m) => d.includes(m)))).toEqual([]);
      for (const m of merchants) expect(await actualBalances(ledger, m)).toEqual(expectedBalances(stream, m));
    } finally {
      keys.close();
    }
  });
});
