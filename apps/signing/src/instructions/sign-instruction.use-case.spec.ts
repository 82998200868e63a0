import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVENT_SEAL_TYPES, PaymentAccepted, PaymentInstructionSchema, PaymentSignedSchema, SecurityAlertSchema, SettlementBatchReport, SignedSettlementBatchSchema, TOPICS, headersToEnvelope } from '@payrail/contracts';
import type { RawHeaders } from '@payrail/contracts';
import { EventSealer, JwsVerifier, PayrailKeyStore, canonicalJson, writeSealKeys } from '@payrail/crypto';
import { EventProducer, Kafka, PermanentError, SEAL_INVALID } from '@payrail/messaging';
import type { MessagingRuntime } from '@payrail/messaging-nest';
import { acceptedPayment } from '../testing/accepted-payments';
import { settlementBatchReport } from '../testing/settlement-reports';
import { es256Key, writeKeyFile } from '../testing/key-files';
import { SigningKeyRing } from '../keys/signing-key-ring';
import { SignReportUseCase } from '../reports/sign-report.use-case';
import { SignInstructionUseCase } from './sign-instruction.use-case';
import { HandOffSeals } from '../seals/hand-off-seals';

/** ingest's and settlement's sealing keys as signing is configured with them, and sealers as those services seal. */
async function handOffSeals(dir: string): Promise<{ seals: HandOffSeals; asIngest: EventSealer; asSettlement: EventSealer; settlementSealingAccepted: EventSealer }> {
  const ingest = await writeSealKeys(join(dir, 'ingest-seal'));
  const settlement = await writeSealKeys(join(dir, 'settlement-seal'));
  return {
    seals: await HandOffSeals.open({ ingestJwks: ingest.publicFile, settlementJwks: settlement.publicFile }),
    asIngest: await ingest.sealer(EVENT_SEAL_TYPES.paymentAccepted),
    asSettlement: await settlement.sealer(EVENT_SEAL_TYPES.settlementBatchReport),
    // another service's key, sealing the right kind of event
    settlementSealingAccepted: await settlement.sealer(EVENT_SEAL_TYPES.paymentAccepted),
  };
}

/** The producer's real encoding (envelope headers, schema check, JSON), recorded instead of sent. */
function recordingRuntime(): { runtime: MessagingRuntime; sent: Array<{ topic: string; key: string; value: Record<string, unknown>; headers: RawHeaders }> } {
  const encoder = new EventProducer({ producer: () => ({}) } as unknown as Kafka, { source: 'payrail/signing' });
  const sent: Array<{ topic: string; key: string; value: Record<string, unknown>; headers: RawHeaders }> = [];
  const producer = {
    publish: async (...args: Parameters<EventProducer['publish']>) => {
      const m = encoder.encode(...args);
      sent.push({ topic: args[0].name, key: String(m.key), value: JSON.parse(String(m.value)) as Record<string, unknown>, headers: m.headers as RawHeaders });
    },
  };
  return { runtime: { producer } as unknown as MessagingRuntime, sent };
}

function segment(jws: string, i: number): string {
  return Buffer.from(jws.split('.')[i] ?? '', 'base64url').toString('utf8');
}

describe('signing a payment instruction', () => {
  let dir: string;
  let ring: SigningKeyRing;
  let verifier: JwsVerifier;
  let keys: Awaited<ReturnType<typeof handOffSeals>>;
  let seal: (accepted: PaymentAccepted) => PaymentAccepted;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'payrail-sign-'));
    writeKeyFile(join(dir, 'keys.json'), [es256Key('payrail-sig-2026-11')]);
    ring = await SigningKeyRing.open({ keysFile: join(dir, 'keys.json'), generateDevKeys: false });
    verifier = new JwsVerifier(await PayrailKeyStore.fromJwks(ring.publishedJwks().body), { algorithms: ['ES256'], typ: 'payrail-instruction+jws' });
    keys = await handOffSeals(dir);
    seal = (accepted) => keys.asIngest.seal(accepted);
  });
  afterAll(() => {
    ring.close();
    keys.seals.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const forgeries: Array<[string, (accepted: PaymentAccepted) => PaymentAccepted, RegExp]> = [
    ['no seal', (a) => a, /seal missing/],
    ["a seal made with settlement's key", (a) => keys.settlementSealingAccepted.seal(a), /does not verify \(kid\)/],
    ['a field changed after sealing (the amount)', (a) => ({ ...keys.asIngest.seal(a), amount: { minor: '999999', currency: 'EUR' } }), /does not verify \(signature\)/],
    ["another payment's seal", (a) => ({ ...a, seal: keys.asIngest.seal(acceptedPayment(99)).seal }), /does not verify \(signature\)/],
  ];

  it.each(forgeries)('refuses an accepted payment with %s: nothing signed, a security alert, a dead-letter reason', async (_what, forge, detail) => {
    const { runtime, sent } = recordingRuntime();
    const accepted = acceptedPayment(7);
    const err: unknown = await new SignInstructionUseCase(ring, keys.seals, runtime).execute(forge(accepted), {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as PermanentError).reason).toBe(SEAL_INVALID);
    expect((err as Error).message).toMatch(detail);
    expect(sent.map((m) => m.topic)).toEqual([TOPICS.securityAlerts.name]);
    const alert = SecurityAlertSchema.parse(sent[0]?.value);
    expect(alert).toMatchObject({ service: 'signing', payment_id: accepted.payment_id });
    expect(alert.detail).toMatch(detail);
  });

  it('publishes the canonical instruction (payment, signing time, upstream verification) signed with kid, keyed by payer', async () => {
    const { runtime, sent } = recordingRuntime();
    const accepted = acceptedPayment(1);
    const result = await new SignInstructionUseCase(ring, keys.seals, runtime).execute(seal(accepted), { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    expect(result).toEqual({ status: 'SIGNED', paymentId: accepted.payment_id, kid: 'payrail-sig-2026-11' });

    expect(sent).toHaveLength(1);
    const [message] = sent;
    expect(message?.topic).toBe(TOPICS.paymentsSigned.name);
    expect(message?.key).toBe(accepted.payer.fingerprint); // the contract's key: ordering per payer
    const envelope = headersToEnvelope(message?.headers ?? {});
    expect(envelope.ok && envelope.envelope).toMatchObject({ id: `${accepted.payment_id}:signed`, subject: accepted.payment_id, correlationid: accepted.payment_id, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });

    const signed = PaymentSignedSchema.parse(message?.value);
    expect(JSON.parse(segment(signed.instruction_jws, 0))).toEqual({ alg: 'ES256', kid: signed.kid, typ: 'payrail-instruction+jws' });
    const verified = await verifier.verify(signed.instruction_jws);
    expect(verified.kid).toBe('payrail-sig-2026-11');
    const instruction = PaymentInstructionSchema.parse(verified.payload);
    const { signed_at, ...payment } = instruction;
    // the accepted payment without ingest's seal: the instruction carries Payrail's signature instead
    expect(payment).toEqual(accepted);
    expect(instruction).not.toHaveProperty('seal');
    expect(instruction.upstream_verification).toEqual(accepted.upstream_verification);
    expect(Date.now() - Date.parse(signed_at)).toBeLessThan(5_000);
    // the signed bytes are the RFC 8785 form: any consumer re-canonicalising the payment gets the same bytes
    expect(segment(signed.instruction_jws, 1)).toBe(canonicalJson(verified.payload));
  });

  it('signs a batch at once: every seal checked, the forged one dead-lettered alone, the others signed and published in offset order', async () => {
    const { runtime, sent } = recordingRuntime();
    const batch = [acceptedPayment(1), acceptedPayment(2), acceptedPayment(3), acceptedPayment(4)];
    const items = batch.map((a, i) => ({ accepted: i === 2 ? { ...seal(a), amount: { minor: '1', currency: 'EUR' as const } } : seal(a), traceparent: undefined }));
    const results = await new SignInstructionUseCase(ring, keys.seals, runtime).executeBatch(items);

    expect(results.map((r) => ('error' in r ? r.error.constructor.name : r.status))).toEqual(['SIGNED', 'SIGNED', 'PermanentError', 'SIGNED']);
    const signed = sent.filter((m) => m.topic === TOPICS.paymentsSigned.name);
    expect(signed.map((m) => m.value['payment_id'])).toEqual([batch[0], batch[1], batch[3]].map((a) => a?.payment_id));
    for (const m of signed) {
      const instruction = PaymentInstructionSchema.parse((await verifier.verify(String(m.value['instruction_jws']))).payload);
      expect(instruction.payment_id).toBe(m.value['payment_id']);
    }
    expect(sent.filter((m) => m.topic === TOPICS.securityAlerts.name).map((m) => m.value['payment_id'])).toEqual([batch[2]?.payment_id]);
  });

  it('signs a redelivered payment again under the same event id and payment, differing only in signing time and signature', async () => {
    const { runtime, sent } = recordingRuntime();
    const useCase = new SignInstructionUseCase(ring, keys.seals, runtime);
    const accepted = seal(acceptedPayment(2));
    await useCase.execute(accepted, {});
    await new Promise((r) => setTimeout(r, 5));
    await useCase.execute(accepted, {});
    const ids = sent.map((m) => (headersToEnvelope(m.headers) as { envelope: { id: string } }).envelope.id);
    expect(ids).toEqual([`${accepted.payment_id}:signed`, `${accepted.payment_id}:signed`]);
    const payloads = await Promise.all(sent.map(async (m) => PaymentInstructionSchema.parse((await verifier.verify(PaymentSignedSchema.parse(m.value).instruction_jws)).payload)));
    const [first, second] = payloads.map(({ signed_at: _s, ...payment }) => payment);
    expect(second).toEqual(first);
    expect(sent[0]?.value['instruction_jws']).not.toBe(sent[1]?.value['instruction_jws']);
  });
});

describe('signing a settlement batch report', () => {
  it('publishes the report signed as a settlement batch, keyed by merchant, with a deterministic event id', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'payrail-sign-report-'));
    writeKeyFile(join(dir, 'keys.json'), [es256Key('payrail-sig-2026-11')]);
    const ring = await SigningKeyRing.open({ keysFile: join(dir, 'keys.json'), generateDevKeys: false });
    const keys = await handOffSeals(dir);
    try {
      const { runtime, sent } = recordingRuntime();
      const report = settlementBatchReport();
      await expect(new SignReportUseCase(ring, keys.seals, runtime).execute(keys.asSettlement.seal(report))).resolves.toEqual({ status: 'SIGNED', batchId: report.batch_id, kid: 'payrail-sig-2026-11' });
      const [message] = sent;
      expect(message?.topic).toBe(TOPICS.settlementBatches.name);
      expect(message?.key).toBe(report.merchant_id);
      expect(headersToEnvelope(message?.headers ?? {})).toMatchObject({ ok: true, envelope: { id: `${report.batch_id}:signed` } });
      const signed = SignedSettlementBatchSchema.parse(message?.value);
      const verifier = new JwsVerifier(await PayrailKeyStore.fromJwks(ring.publishedJwks().body), { algorithms: ['ES256'], typ: 'payrail-settlement-batch+jws' });
      expect((await verifier.verify(signed.report_jws)).payload).toEqual(report);
      // an instruction verifier that requires its own type refuses a report
      const instructions = new JwsVerifier(await PayrailKeyStore.fromJwks(ring.publishedJwks().body), { algorithms: ['ES256'], typ: 'payrail-instruction+jws' });
      await expect(instructions.verify(signed.report_jws)).rejects.toThrow();
    } finally {
      keys.seals.close();
      ring.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('refusing a settlement batch report settlement did not seal', () => {
  let dir: string;
  let ring: SigningKeyRing;
  let keys: Awaited<ReturnType<typeof handOffSeals>>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'payrail-sign-report-forged-'));
    writeKeyFile(join(dir, 'keys.json'), [es256Key('payrail-sig-2026-11')]);
    ring = await SigningKeyRing.open({ keysFile: join(dir, 'keys.json'), generateDevKeys: false });
    keys = await handOffSeals(dir);
  });
  afterAll(() => {
    keys.seals.close();
    ring.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const forgeries: Array<[string, (report: SettlementBatchReport) => SettlementBatchReport, RegExp]> = [
    ['no seal', (r) => r, /seal missing/],
    ["ingest's key", (r) => keys.asIngest.seal(r), /does not verify \(typ\)/],
    ['a larger net after sealing', (r) => ({ ...keys.asSettlement.seal(r), net: { minor: '999999', currency: 'EUR' } }), /does not verify \(signature\)/],
    ["another batch's seal", (r) => ({ ...r, seal: keys.asSettlement.seal(settlementBatchReport(r.merchant_id)).seal }), /does not verify \(signature\)/],
  ];

  it.each(forgeries)('with %s: not signed, a security alert, a dead-letter reason', async (_what, forge, detail) => {
    const { runtime, sent } = recordingRuntime();
    const report = settlementBatchReport();
    const err: unknown = await new SignReportUseCase(ring, keys.seals, runtime).execute(forge(report)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as PermanentError).reason).toBe(SEAL_INVALID);
    expect(sent.map((m) => m.topic)).toEqual([TOPICS.securityAlerts.name]);
    expect(SecurityAlertSchema.parse(sent[0]?.value).detail).toMatch(detail);
    expect(sent[0]?.key).toBe(report.batch_id);
  });
});
