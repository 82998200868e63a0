// `payrail dlq` end to end against the real broker and Redis (KAFKA_BROKERS, REDIS_URL): a payment a real
// BatchConsumer dead-lettered is listed, inspected and replayed from the command line, once. Sealed dead letters of
// the inbound topic are replayed only with the data-protection key, as the upstream's encrypted bytes, never in clear.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InboundPayment, TOPICS, TopicContract } from '@payrail/contracts';
import { JweEncrypter, PayrailKeyStore, writeDevKeys } from '@payrail/crypto';
import { BatchConsumer, ConsumedEvent, EventProducer, PermanentError, createKafka, createRedis, ensureTopics, kafkaClientEnv, kafkaConnectionFromProcessEnv } from '@payrail/messaging';
import { InboundPaymentEncrypter } from '@payrail/upstream-sdk';
import { runDlq } from './dlq.command';

const brokers = process.env['KAFKA_BROKERS'] ?? '';
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const kafka = createKafka(kafkaConnectionFromProcessEnv(process.env, 'payrail-int-test-cli'));
const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function cli(args: string[], env: Record<string, string | undefined>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runDlq(args, { out: (t) => out.push(t), err: (t) => err.push(t) }, env);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('payrail dlq against a real broker and Redis', () => {
  const suffix = randomUUID().slice(0, 8);
  const topic: TopicContract = { ...TOPICS.paymentsSigned, name: `test.cli.signed.${suffix}` };
  const dlq = `test.cli.dlq.${suffix}`;
  const prefix = `${process.env['PAYRAIL_RUN_KEY_PREFIX'] ?? 'payrail-test:'}cli-dlq-${suffix}:`;
  const env = { ...kafkaClientEnv(process.env), KAFKA_BROKERS: brokers, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix };
  const producer = new EventProducer(kafka, { source: 'payrail/test', lingerMs: 2 });
  const merchantKnown = new Set<string>();
  const settled: ConsumedEvent[] = [];
  let consumer: BatchConsumer | undefined;

  beforeAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: topic.name, numPartitions: 3, replicationFactor: 1 }, { topic: dlq, numPartitions: 3, replicationFactor: 1 }] });
    await admin.disconnect();
    await producer.connect();
    consumer = new BatchConsumer(kafka, {
      groupId: `test-cli-${suffix}`,
      routes: [
        {
          topic,
          handler: async (event) => {
            const { payment_id } = event.data as { payment_id: string };
            if (!merchantKnown.has(payment_id)) throw new PermanentError(`merchant of payment ${payment_id} is not onboarded`);
            settled.push(event);
          },
        },
      ],
      deadLetterTopic: dlq,
      producer,
      logger,
    });
    await consumer.start();
  });

  afterAll(async () => {
    await consumer?.stop();
    await producer.disconnect();
    const redis = createRedis({ url: redisUrl, keyPrefix: '' }, 'cli-test-cleanup');
    await redis.connect();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('lists, inspects and replays a dead letter once, and explains what it needs', async () => {
    const paymentId = randomUUID();
    await producer.publish(topic, { payment_id: paymentId, kid: 'k-1', instruction_jws: 'a.b.c' }, { key: 'merchant-9', correlationId: paymentId });

    let listed: { ref: string; original: { topic: string }; error_class: string; attempts: number; replay: unknown }[] = [];
    const deadline = Date.now() + 30_000;
    while (listed.length === 0 && Date.now() < deadline) {
      const res = await cli(['list', '--topic', dlq, '--json'], env);
      expect(res.code).toBe(0);
      listed = JSON.parse(res.out);
      if (listed.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(listed).toEqual([expect.objectContaining({ original: expect.objectContaining({ topic: topic.name }), error_class: 'PermanentError', attempts: 1, replay: null })]);
    const ref = listed[0]?.ref ?? '';

    const table = await cli(['list', '--topic', dlq, '--reason', 'not onboarded'], env);
    expect(table.out.split('\n')[1]).toMatch(new RegExp(`^${ref.replace(/[.]/g, '\\.')}\\s.*PermanentError\\s+1\\s+no\\s+merchant of payment`));
    expect(table.err).toBe(`1 dead letter in ${dlq}`);

    const inspected = await cli(['inspect', ref, '--json'], env);
    expect(inspected.code).toBe(0);
    const detail = JSON.parse(inspected.out);
    expect(detail.headers.payrail_dlq_error_message).toBe(`merchant of payment ${paymentId} is not onboarded`);
    expect(detail.value).toEqual({ encoding: 'json', value: { payment_id: paymentId, kid: 'k-1', instruction_jws: 'a.b.c' } });

    expect((await cli(['replay', '--topic', dlq, '--dry-run'], env)).out).toContain('dry run, nothing published: 1 would-replay');
    await expect(cli(['replay', ref], { ...env, REDIS_URL: undefined })).rejects.toThrow('REDIS_URL: is required to replay');
    expect((await cli(['replay'], env)).code).toBe(2);

    merchantKnown.add(paymentId); // the merchant is onboarded: replay
    const replayed = await cli(['replay', ref], env);
    expect(replayed.code).toBe(0);
    expect(replayed.out).toMatch(new RegExp(`${ref.replace(/[.]/g, '\\.')}\\s+replayed\\s+${topic.name.replace(/[.]/g, '\\.')}/\\d+/\\d+`));
    const again = await cli(['replay', ref, '--json'], env);
    expect(JSON.parse(again.out).outcomes).toEqual([expect.objectContaining({ ref, status: 'already-replayed' })]);

    const until = Date.now() + 30_000;
    while (settled.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500)); // room for a second copy to show up, if there were one
    expect(settled.map((e) => (e.data as { payment_id: string }).payment_id)).toEqual([paymentId]);

    const missing = await cli(['replay', `${dlq}/0/999999`], env);
    expect(missing.code).toBe(1);
    expect(missing.out).toContain('not-found');
  });

  it('replays a sealed inbound dead letter only with the data-protection key, as the encrypted original, and never a plain JWS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'payrail-cli-dlq-'));
    const sealedDlq = `test.cli.sealed-dlq.${suffix}`;
    const seen: { key: string | undefined; data: InboundPayment }[] = [];
    let inbound: BatchConsumer | undefined;
    try {
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic: sealedDlq, numPartitions: 1, replicationFactor: 1 }] });
      await admin.disconnect();
      await ensureTopics(kafka);
      // ingest's way of sealing: a JWE to the data-protection key with pdlq in its protected header
      const protection = await writeDevKeys(join(dir, 'protection'), { withSigningKey: false });
      const sealer = new JweEncrypter(await PayrailKeyStore.fromFile(protection.publicPath));
      inbound = new BatchConsumer(kafka, {
        groupId: `test-cli-inbound-${suffix}`,
        routes: [
          {
            topic: TOPICS.paymentsInbound,
            handler: async (event) => {
              if (!event.key?.startsWith(`${suffix}-`)) return; // other tests' messages
              seen.push({ key: event.key, data: event.data as InboundPayment });
              throw new PermanentError('not this time');
            },
          },
        ],
        deadLetterTopic: sealedDlq,
        producer,
        logger,
        protectDeadLetterValue: async (value) => Buffer.from(await sealer.encrypt(value, { extraProtected: { pdlq: 1 } })),
      });
      await inbound.start();

      const inboundKeys = await writeDevKeys(join(dir, 'inbound'), { withSigningKey: false });
      const encrypted = await (await InboundPaymentEncrypter.fromFile(inboundKeys.publicPath)).message('eyJhbGciOiJFUzI1NiJ9.eyJwYXltZW50Ijp7fX0.c2ln', `${suffix}-order`);
      const plainPayload = Buffer.from(JSON.stringify({ payment: { payer: { card: { number: '4111111111111111' } } } })).toString('base64url');
      await producer.publish(TOPICS.paymentsInbound, encrypted, { key: `${suffix}-encrypted`, correlationId: `${suffix}-encrypted` });
      await producer.publish(TOPICS.paymentsInbound, { jws: `eyJhbGciOiJFUzI1NiJ9.${plainPayload}.c2ln` }, { key: `${suffix}-plain`, correlationId: `${suffix}-plain` });

      let listed: { ref: string; key: string; value_protection: string | null }[] = [];
      const deadline = Date.now() + 60_000;
      while (listed.length < 2 && Date.now() < deadline) {
        listed = JSON.parse((await cli(['list', '--topic', sealedDlq, '--json'], env)).out);
        if (listed.length < 2) await new Promise((r) => setTimeout(r, 200));
      }
      expect(listed.map((l) => l.value_protection)).toEqual(['jwe', 'jwe']);
      const refOf = (key: string): string => listed.find((l) => l.key === key)?.ref ?? '';
      const [encryptedRef, plainRef] = [refOf(`${suffix}-encrypted`), refOf(`${suffix}-plain`)];

      // without the key: not replayable, and says how
      const withoutKey = JSON.parse((await cli(['replay', encryptedRef, '--json'], env)).out);
      expect(withoutKey.outcomes).toEqual([expect.objectContaining({ status: 'not-replayable', detail: expect.stringContaining('--dlq-key') })]);
      // --dlq-key is for replay alone
      expect((await cli(['inspect', encryptedRef, '--dlq-key', protection.privatePath], env)).code).toBe(2);
      // the wrong key opens nothing
      const other = await writeDevKeys(join(dir, 'other'), { withSigningKey: false });
      const wrongKey = JSON.parse((await cli(['replay', encryptedRef, '--json', '--dlq-key', other.privatePath], env)).out);
      expect(wrongKey.outcomes).toEqual([expect.objectContaining({ status: 'not-replayable', detail: expect.stringContaining('does not open') })]);

      const replayed = await cli(['replay', encryptedRef, plainRef, '--json', '--dlq-key', protection.privatePath], env);
      expect(replayed.code).toBe(1); // one refused
      const outcomes = JSON.parse(replayed.out).outcomes as { ref: string; status: string; detail?: string }[];
      expect(outcomes.find((o) => o.ref === encryptedRef)?.status).toBe('replayed');
      expect(outcomes.find((o) => o.ref === plainRef)).toEqual(expect.objectContaining({ status: 'not-replayable', detail: expect.stringMatching(/^inbound_not_encrypted: /) }));

      // the copy on the inbound topic is the upstream's JWE, byte for byte; the plain JWS never came back
      const until = Date.now() + 60_000;
      while (seen.filter((s) => s.key === `${suffix}-encrypted`).length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 500));
      expect(seen.filter((s) => s.key === `${suffix}-encrypted`).map((s) => s.data)).toEqual([encrypted, encrypted]);
      expect(seen.filter((s) => s.key === `${suffix}-plain`)).toHaveLength(1);
      // and the replayed copy failed again: sealed again, never in clear
      const again = JSON.parse((await cli(['list', '--topic', sealedDlq, '--json'], env)).out) as { value_protection: string | null }[];
      expect(again.every((l) => l.value_protection === 'jwe')).toBe(true);
    } finally {
      await inbound?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
