// The signing service and fraud-check as separate processes (the built apps) on the real broker and Redis:
// payments flow accepted -> signing -> fraud-check while Payrail's signing key is rotated twice with the runbook's
// commands (docs/runbooks/key-rotation.md: `payrail signing-keys add | activate | retire` + SIGHUP), fraud-check
// verifying through the published JWKS (the remote JWKS client). Also: a redelivered accepted payment, a settlement
// batch report, and a scan of every log line and Kafka message for private key material.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONSUMER_GROUPS, DEAD_LETTER_TOPICS, PaymentAccepted, PaymentScreenedSchema, PaymentSignedSchema, SecurityAlertSchema, SignedSettlementBatchSchema, TOPICS, headersToEnvelope, DLQ_HEADERS, EVENT_SEAL_TYPES } from '@payrail/contracts';
import { JwsVerifier, PayrailKeyStore, canonicalJson, EventSealer, writeSealKeys } from '@payrail/crypto';
import { DOMAIN_METRIC_NAMES, EventProducer, createKafka, createRedis, kafkaConnectionFromProcessEnv, ensureTopics, scrapeSeries } from '@payrail/messaging';
import { acceptedPayment } from './testing/accepted-payments';
import { settlementBatchReport } from './testing/settlement-reports';
import { Jwk, privateValues } from './testing/key-files';
import { ServiceProcess, builtEntry, repoRoot } from './testing/service-process';
import { RecordedMessage, TopicRecorder, moveGroupToEnd } from './testing/topic-recorder';

const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',');
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const quiet = { warn: () => undefined, error: () => undefined };
const kafka = createKafka(kafkaConnectionFromProcessEnv(process.env, 'payrail-int-signing'), quiet);

/** JWKS_MAX_AGE_S given to signing in this test, and fraud-check's remote JWKS client's minimum refresh interval. */
const JWKS_MAX_AGE_S = 1;
const VERIFIER_MIN_REFRESH_S = 30;
/** The runbook's wait between publishing a key and activating it: every verifier can have fetched it by then. */
const PUBLISH_TO_ACTIVATE_MS = (JWKS_MAX_AGE_S + VERIFIER_MIN_REFRESH_S + 2) * 1000;
const RATE_PER_S = 50;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

const parse = <T>(schema: { parse(v: unknown): T }, m: RecordedMessage): T => schema.parse(JSON.parse(m.value));
const eventId = (m: RecordedMessage): string | undefined => {
  const e = headersToEnvelope(m.headers);
  return e.ok ? e.envelope.id : undefined;
};

describe('signing and fraud-check on the real broker while Payrail rotates its signing key twice', () => {
  const work = mkdtempSync(join(tmpdir(), 'payrail-signing-flow-'));
  const keysFile = join(work, 'signing', 'private.jwks.json');
  const redisPrefix = `${process.env['PAYRAIL_RUN_KEY_PREFIX'] ?? 'payrail-test:'}signing-${randomUUID().slice(0, 8)}:`;
  const producer = new EventProducer(kafka, { source: 'payrail/ingest', lingerMs: 5 });
  const published = new Map<string, number>(); // payment id -> when it was published
  const everyKey: Jwk[] = [];
  let recorder: TopicRecorder;
  let signing: ServiceProcess;
  let fraudCheck: ServiceProcess;
  const jwksResponses: string[] = [];
  // ingest's and settlement's sealing keys (signing verifies their seals), and another service's key: fraud-check's
  let asIngest: EventSealer;
  let asSettlement: EventSealer;
  let fraudCheckSealingAccepted: EventSealer;

  /** A rotation step exactly as the runbook gives it: the CLI edits the key file, SIGHUP makes signing re-read it. */
  function signingKeys(action: 'add' | 'activate' | 'retire', kid: string): void {
    const res = spawnSync(process.execPath, [builtEntry('payrail-cli'), 'signing-keys', action, '--file', keysFile, '--kid', kid], { cwd: repoRoot, encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`payrail signing-keys ${action} ${kid} failed: ${res.stderr}`);
    const keys = (JSON.parse(readFileSync(keysFile, 'utf8')) as { keys: Jwk[] }).keys;
    for (const k of keys) if (!everyKey.some((e) => e['kid'] === k['kid'])) everyKey.push(k);
    signing?.signal('SIGHUP');
  }

  async function publishedKids(): Promise<string[]> {
    const res = await fetch(`${signing.url}/.well-known/jwks.json`);
    const body = await res.text();
    jwksResponses.push(JSON.stringify(Object.fromEntries(res.headers)), body);
    return (JSON.parse(body) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
  }

  async function untilPublished(kids: string[]): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (JSON.stringify(await publishedKids()) !== JSON.stringify(kids)) {
      if (Date.now() > deadline) throw new Error(`JWKS never listed exactly ${kids.join(', ')} (lists ${(await publishedKids()).join(', ')})`);
      await sleep(100);
    }
  }

  /** What the recorded messages say about each payment, read incrementally (the recorder only appends). */
  const view = {
    read: 0,
    signed: new Map<string, RecordedMessage[]>(),
    screened: new Map<string, RecordedMessage[]>(),
    decisions: new Map<string, Set<string>>(),
    kids: new Set<string>(),
  };
  function refresh(): typeof view {
    for (; view.read < recorder.messages.length; view.read++) {
      const m = recorder.messages[view.read];
      if (m?.topic === TOPICS.paymentsSigned.name) {
        const signed = parse(PaymentSignedSchema, m);
        view.signed.set(signed.payment_id, [...(view.signed.get(signed.payment_id) ?? []), m]);
        view.kids.add(signed.kid);
      } else if (m?.topic === TOPICS.paymentsScreened.name) {
        const screened = parse(PaymentScreenedSchema, m);
        view.screened.set(screened.payment_id, [...(view.screened.get(screened.payment_id) ?? []), m]);
        // the decision itself; a re-announcement carries the instruction it answered, whose signature differs, and so
        // fraud-check's seal over it differs too
        const { instruction_jws: _instruction, seal: _seal, ...decision } = screened;
        view.decisions.set(screened.payment_id, (view.decisions.get(screened.payment_id) ?? new Set<string>()).add(canonicalJson(decision)));
      }
    }
    return view;
  }
  /** Payments published before `before` that have no decision yet. */
  const undecided = (before: number) => {
    const { decisions } = refresh();
    return [...published].filter(([id, at]) => at < before && !decisions.has(id)).map(([id]) => id);
  };
  const signedWith = (kid: string) => () => refresh().kids.has(kid);

  /**
   * One rotation, the runbook's steps: add the new key (verify-only) and wait until signing publishes it, give every
   * verifier time to be able to fetch it, switch, and retire the old key once the payments signed before the switch
   * (the in-flight ones) are decided.
   */
  async function rotate(oldKid: string, newKid: string): Promise<void> {
    signingKeys('add', newKid);
    await untilPublished([oldKid, newKid]);
    const publishedAt = Date.now();
    await sleep(PUBLISH_TO_ACTIVATE_MS - (Date.now() - publishedAt));
    signingKeys('activate', newKid);
    await recorder.until(signedWith(newKid), 15_000, `a ${newKid} signature`);
    const activeAt = Date.now();
    await recorder.until(() => undecided(activeAt).length === 0, 30_000, `the payments signed with ${oldKid} to be decided`);
    signingKeys('retire', oldKid);
    await untilPublished([newKid]);
  }

  function publishAccepted(p: PaymentAccepted): Promise<void> {
    published.set(p.payment_id, published.get(p.payment_id) ?? Date.now());
    return producer.publish(TOPICS.paymentsAccepted, asIngest.seal(p), { key: p.payer.fingerprint, correlationId: p.payment_id, eventId: `${p.payment_id}:accepted`, subject: p.payment_id });
  }

  beforeAll(async () => {
    builtEntry('signing');
    builtEntry('fraud-check');
    builtEntry('payrail-cli');
    await ensureTopics(kafka);
    // the services start at the end of their topics: what earlier runs left on a shared broker is not ours
    await moveGroupToEnd(kafka, CONSUMER_GROUPS.signing, [TOPICS.paymentsAccepted.name]);
    await moveGroupToEnd(kafka, CONSUMER_GROUPS.signingReports, [TOPICS.settlementBatchReports.name]);
    await moveGroupToEnd(kafka, CONSUMER_GROUPS.fraudCheck, [TOPICS.paymentsSigned.name]);
    recorder = await TopicRecorder.start(kafka, [
      TOPICS.paymentsSigned.name,
      TOPICS.paymentsScreened.name,
      TOPICS.securityAlerts.name,
      TOPICS.settlementBatches.name,
      DEAD_LETTER_TOPICS.signing,
      DEAD_LETTER_TOPICS['fraud-check'],
    ]);
    await producer.connect();

    const [ingestSeal, settlementSeal, fraudCheckSeal] = await Promise.all(['ingest', 'settlement', 'fraud-check'].map((name) => writeSealKeys(join(work, 'seals', name))));
    if (!ingestSeal || !settlementSeal || !fraudCheckSeal) throw new Error('sealing keys');
    asIngest = await ingestSeal.sealer(EVENT_SEAL_TYPES.paymentAccepted);
    asSettlement = await settlementSeal.sealer(EVENT_SEAL_TYPES.settlementBatchReport);
    fraudCheckSealingAccepted = await fraudCheckSeal.sealer(EVENT_SEAL_TYPES.paymentAccepted);

    signingKeys('add', 'payrail-sig-k1'); // the first key of a new file is active
    signing = await ServiceProcess.start('signing', {
      KAFKA_BROKERS: brokers.join(','),
      SIGNING_KEYS_FILE: keysFile,
      JWKS_MAX_AGE_S: String(JWKS_MAX_AGE_S),
      INGEST_SEAL_JWKS_FILE: ingestSeal.publicFile,
      SETTLEMENT_SEAL_JWKS_FILE: settlementSeal.publicFile,
    });
    await signing.waitReady();
    fraudCheck = await ServiceProcess.start('fraud-check', {
      KAFKA_BROKERS: brokers.join(','),
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: redisPrefix,
      SIGNING_JWKS_URL: `${signing.url}/.well-known/jwks.json`,
      RULES_FILE: join(repoRoot, 'apps/fraud-check/rules/ruleset.json'),
      EVENT_SEAL_KEYS_FILE: fraudCheckSeal.privateFile,
    });
    await fraudCheck.waitReady();
  }, 120_000);

  afterAll(async () => {
    await Promise.all([signing?.stop(), fraudCheck?.stop()]);
    await recorder?.stop();
    await producer.disconnect();
    // services this test did not start must never see its payments (signed with keys nobody else knows)
    await moveGroupToEnd(kafka, CONSUMER_GROUPS.settlement, [TOPICS.paymentsScreened.name]).catch(() => undefined);
    await moveGroupToEnd(kafka, CONSUMER_GROUPS.ingestStatus, [TOPICS.paymentsSigned.name, TOPICS.paymentsScreened.name, TOPICS.paymentsSettled.name]).catch(() => undefined);
    const redis = createRedis({ url: redisUrl, keyPrefix: '' }, 'payrail-int-signing-cleanup');
    await redis.connect();
    for (let cursor = '0'; ; ) {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${redisPrefix}*`, 'COUNT', 1000);
      if (found.length > 0) await redis.del(...found);
      if (next === '0') break;
      cursor = next;
    }
    await redis.quit();
    rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('decides every payment exactly once with no failed verification while keys k1 -> k2 -> k3 rotate under load', async () => {
    let i = 0;
    const sending: Promise<void>[] = [];
    const flow = setInterval(() => {
      for (let n = 0; n < RATE_PER_S / 10; n++) sending.push(publishAccepted(acceptedPayment(i++)));
    }, 100);
    try {
      await recorder.until(() => refresh().decisions.size > 0, 30_000, 'the first decision');

      await rotate('payrail-sig-k1', 'payrail-sig-k2');
      await rotate('payrail-sig-k2', 'payrail-sig-k3');
      await sleep(2_000);
    } finally {
      clearInterval(flow);
      await Promise.all(sending);
    }
    await recorder.until(() => undecided(Date.now()).length === 0, 60_000, 'every payment to be decided');

    // 0 payments lost: every accepted payment has exactly one decision
    const decided = refresh().decisions;
    const ours = [...published.keys()];
    expect(ours.filter((id) => decided.get(id)?.size !== 1)).toEqual([]);

    // 0 failed verifications: no signature_invalid decision, no security alert, nothing dead-lettered
    const screened = recorder.on(TOPICS.paymentsScreened.name).map((m) => parse(PaymentScreenedSchema, m)).filter((s) => published.has(s.payment_id));
    expect(screened.filter((s) => s.reasons.some((r) => r.rule === 'signature_invalid'))).toEqual([]);
    expect(screened.map((s) => s.decision).filter((d) => d !== 'APPROVE')).toEqual([]);
    expect(recorder.on(TOPICS.securityAlerts.name).map((m) => parse(SecurityAlertSchema, m)).filter((a) => published.has(a.payment_id ?? ''))).toEqual([]);
    expect(recorder.on(DEAD_LETTER_TOPICS.signing).length + recorder.on(DEAD_LETTER_TOPICS['fraud-check']).length).toBe(0);

    // the flow really crossed both rotations (over a minute of payments), each instruction keyed by its payer
    expect(ours.length).toBeGreaterThan(RATE_PER_S * 60);
    const signed = ours.flatMap((id) => view.signed.get(id) ?? []);
    expect(signed).toHaveLength(ours.length); // no redelivery happened in this flow: one instruction per payment
    const kidsInOrder = [...new Set(signed.sort((a, b) => a.timestamp - b.timestamp).map((m) => parse(PaymentSignedSchema, m).kid))];
    expect(kidsInOrder).toEqual(['payrail-sig-k1', 'payrail-sig-k2', 'payrail-sig-k3']);
    const sample = signed[0];
    expect(sample && JSON.parse(Buffer.from(parse(PaymentSignedSchema, sample).instruction_jws.split('.')[1] ?? '', 'base64url').toString('utf8'))).toMatchObject({ payer: { fingerprint: sample?.key } });

    // the mechanism: signing re-read its key file on each step, and said so
    expect(signing.logs.match(/signing keys reloaded/g)?.length ?? 0).toBeGreaterThanOrEqual(6);
    expect(signing.logs).not.toMatch(/reload refused/);
    // and counted each change on /metrics: two keys added, two activated, two retired; k3 active, k1 and k2 retired
    const metric = (name: string, labels: Record<string, string>) => scrapeSeries(`${signing.url}/metrics`, name, labels);
    for (const event of ['added', 'activated', 'retired']) expect([event, await metric(DOMAIN_METRIC_NAMES.keyRotationEvents, { event })]).toEqual([event, 2]);
    expect(await metric(DOMAIN_METRIC_NAMES.signingKeys, { state: 'active' })).toBe(1);
    expect(await metric(DOMAIN_METRIC_NAMES.signingKeys, { state: 'verify-only' })).toBe(0);
    expect(await metric(DOMAIN_METRIC_NAMES.signingKeys, { state: 'retired' })).toBe(2);
  }, 300_000);

  it('answers a redelivered accepted payment with two signed instructions and one decision', async () => {
    const payments = Array.from({ length: 10 }, (_, n) => acceptedPayment(1_000_000 + n));
    // the same event, byte for byte, delivered twice (a producer retry upstream, or a redelivery after a crash)
    await Promise.all(payments.map((p) => publishAccepted(p)));
    await Promise.all(payments.map((p) => publishAccepted(p)));
    const ids = payments.map((p) => p.payment_id);
    await recorder.until(() => ids.every((id) => refresh().signed.get(id)?.length === 2), 30_000, 'both signatures of each redelivered payment');
    await recorder.until(() => ids.every((id) => refresh().screened.get(id)?.length === 2), 30_000, 'fraud-check to answer both');

    for (const id of ids) {
      expect(view.signed.get(id)?.map(eventId)).toEqual([`${id}:signed`, `${id}:signed`]);
      expect(view.decisions.get(id)?.size).toBe(1); // the second instruction got the decision recorded for the first
      expect(view.screened.get(id)?.map(eventId)).toEqual([`${id}:screened:auto`, `${id}:screened:auto`]);
    }
    const redis = createRedis({ url: redisUrl, keyPrefix: redisPrefix }, 'payrail-int-signing-check');
    await redis.connect();
    try {
      for (const id of ids) expect(JSON.parse((await redis.get(`fraud:decision:{${id}}`)) ?? '{}')).toMatchObject({ payment_id: id, decision: 'APPROVE' });
    } finally {
      await redis.quit();
    }
  }, 90_000);

  it('signs a settlement batch report with the active key, verifiable from the published JWKS', async () => {
    const report = settlementBatchReport();
    await producer.publish(TOPICS.settlementBatchReports, asSettlement.seal(report), { key: report.merchant_id, correlationId: report.batch_id, eventId: `${report.batch_id}:report` });
    await recorder.until((ms) => ms.some((m) => m.topic === TOPICS.settlementBatches.name && m.value.includes(report.batch_id)), 30_000, 'the signed batch');
    const batch = recorder.on(TOPICS.settlementBatches.name).map((m) => ({ m, v: parse(SignedSettlementBatchSchema, m) })).find((b) => b.v.batch_id === report.batch_id);
    expect(batch?.m.key).toBe(report.merchant_id);
    expect(batch?.v.kid).toBe('payrail-sig-k3');
    const jwks = await (await fetch(`${signing.url}/.well-known/jwks.json`)).text();
    const verifier = new JwsVerifier(await PayrailKeyStore.fromJwks(jwks), { algorithms: ['ES256'], typ: 'payrail-settlement-batch+jws' });
    expect((await verifier.verify(batch?.v.report_jws ?? '')).payload).toEqual(report);
  }, 60_000);

  it("signs nothing ingest or settlement did not seal: forged accepted payments and reports are dead-lettered with a security alert", async () => {
    const [unsealed, wrongService, tampered] = [acceptedPayment(2_000_001), acceptedPayment(2_000_002), acceptedPayment(2_000_003)];
    const forgedReport = settlementBatchReport();
    const accepted = (p: PaymentAccepted) => producer.publish(TOPICS.paymentsAccepted, p, { key: p.payer.fingerprint, correlationId: p.payment_id, eventId: `${p.payment_id}:accepted`, subject: p.payment_id });
    await Promise.all([
      accepted(unsealed),
      accepted(fraudCheckSealingAccepted.seal(wrongService)),
      accepted({ ...asIngest.seal(tampered), amount: { minor: '1', currency: 'EUR' } }),
      // a report whose totals changed after settlement sealed it
      producer.publish(TOPICS.settlementBatchReports, { ...asSettlement.seal(forgedReport), net: { minor: '99999999', currency: 'EUR' } }, { key: forgedReport.merchant_id, correlationId: forgedReport.batch_id }),
    ]);
    const subjects = [unsealed.payment_id, wrongService.payment_id, tampered.payment_id, forgedReport.batch_id];
    const dead = () => recorder.on(DEAD_LETTER_TOPICS.signing).filter((m) => subjects.some((id) => m.value.includes(id)));
    // alerts are keyed by what they are about: the payment, or the batch
    const alerts = () => recorder.on(TOPICS.securityAlerts.name).filter((m) => subjects.includes(m.key)).map((m) => ({ key: m.key, alert: parse(SecurityAlertSchema, m) }));
    await recorder.until(() => dead().length >= 4 && alerts().length >= 4, 30_000, 'the forgeries dead-lettered and alerted');
    for (const m of dead()) {
      expect(String(m.headers[DLQ_HEADERS.errorClass])).toBe('PermanentError');
      expect(String(m.headers[DLQ_HEADERS.errorMessage])).toMatch(/event seal (missing|does not verify \((kid|signature)\))/);
    }
    expect(alerts().map((a) => a.key).sort()).toEqual([...subjects].sort());
    expect(alerts().every((a) => a.alert.service === 'signing' && a.alert.detail.includes('event seal'))).toBe(true);
    // nothing signed for any of them
    await sleep(1_000);
    expect(recorder.on(TOPICS.paymentsSigned.name).filter((m) => subjects.some((id) => m.value.includes(id)))).toEqual([]);
    expect(recorder.on(TOPICS.settlementBatches.name).filter((m) => m.value.includes(forgedReport.batch_id))).toEqual([]);
  }, 60_000);

  it('serves the JWKS with cache headers and revalidates it with its ETag', async () => {
    const res = await fetch(`${signing.url}/.well-known/jwks.json`);
    expect(res.headers.get('cache-control')).toBe(`public, max-age=${JWKS_MAX_AGE_S}, must-revalidate`);
    const etag = res.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    jwksResponses.push(await res.text());
    expect((await fetch(`${signing.url}/.well-known/jwks.json`, { headers: { 'if-none-match': etag } })).status).toBe(304);
  });

  it('never lets a private key reach a log line, a Kafka message or an HTTP response', async () => {
    const secrets = privateValues(everyKey);
    expect(secrets).toHaveLength(3); // k1, k2, k3
    const health = await Promise.all([signing, fraudCheck].flatMap((s) => ['/health/ready', '/health/live'].map(async (p) => (await fetch(`${s.url}${p}`)).text())));
    const haystacks: Array<[string, string]> = [
      ['signing output', signing.logs],
      ['fraud-check output', fraudCheck.logs],
      ['JWKS responses', jwksResponses.join('\n')],
      ['health responses', health.join('\n')],
      ...recorder.messages.map((m): [string, string] => [`${m.topic} message`, `${m.key}\n${m.value}\n${JSON.stringify(m.headers)}`]),
    ];
    expect(recorder.messages.length).toBeGreaterThan(RATE_PER_S * 60);
    expect(signing.logs).toContain('signing keys loaded');
    const leaks = haystacks.filter(([, text]) => secrets.some((s) => text.includes(s))).map(([where]) => where);
    expect(leaks).toEqual([]);
  });
});
