// Against the real broker and Redis: what every service gets from MessagingModule. GET /metrics shows the messaging
// counters moving as real messages flow (consumed, duplicates, retries, dead letters, produced, lag, latencies);
// a consumer that crashed for good turns /health/live and /health/ready to 503, and with the default
// exit-on-crash it takes its process down (exit 70) instead of leaving a zombie that looks alive.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { PaymentSettled, TOPICS, TopicContract } from '@payrail/contracts';
import type { ConsumedEvent, Kafka } from '@payrail/messaging';
import { MessagingRuntime } from './messaging.runtime';
import { startTestService } from '../test/messaging-test-app';

const repoRoot = resolve(__dirname, '../../../..');

async function withAdmin<T>(kafka: Kafka, work: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The value of one series in a Prometheus text exposition (labels compared as a set). */
function sample(exposition: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',');
  for (const line of exposition.split('\n')) {
    const match = /^([a-z_:]+)\{(.*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const got = (match[2] ?? '').match(/[a-z_]+="[^"]*"/g)?.sort().join(',');
    if (got === wanted) return Number(match[3]);
  }
  return undefined;
}

/** A member of `groupId` with a partition assignor no Payrail consumer speaks: the next one to join crashes. */
async function occupyGroup(kafka: Kafka, groupId: string, topic: string) {
  const member = kafka.consumer({
    groupId,
    maxWaitTimeInMs: 100, // its disconnect waits for the fetch in flight
    partitionAssigners: [
      () => ({
        name: 'SomeOtherTeamsAssigner',
        version: 1,
        assign: async ({ members }) => members.map((m) => ({ memberId: m.memberId, memberAssignment: Buffer.alloc(0) })),
        protocol: () => ({ name: 'SomeOtherTeamsAssigner', metadata: Buffer.alloc(0) }),
      }),
    ],
  });
  await member.connect();
  await member.subscribe({ topics: [topic] });
  await member.run({ eachMessage: async () => undefined });
  return member;
}

function settled(merchant: string): PaymentSettled {
  return {
    payment_id: randomUUID(),
    merchant_id: merchant,
    amount: { minor: '1000', currency: 'EUR' },
    fee: { minor: '25', currency: 'EUR' },
    net: { minor: '975', currency: 'EUR' },
    posted_at: new Date().toISOString(),
    batch_id: `${merchant}.EUR.20260101T000000Z`,
  };
}

describe('MessagingModule against a real broker and Redis', () => {
  const suffix = randomUUID().slice(0, 8);
  const topic: TopicContract = { ...TOPICS.paymentsSettled, name: `test.runtime.settled.${suffix}` };
  const dlq = `test.runtime.dlq.${suffix}`;
  let app: NestFastifyApplication;
  let runtime: MessagingRuntime;
  let url: string;

  beforeAll(async () => {
    app = await startTestService({ service: 'runtime-test', keyPrefix: `${process.env['PAYRAIL_RUN_KEY_PREFIX'] ?? 'payrail-test:'}runtime-${suffix}:`, exitOnConsumerCrash: false });
    runtime = app.get(MessagingRuntime);
    url = await app.getUrl();
    await withAdmin(runtime.kafka, (admin) =>
      admin.createTopics({ waitForLeaders: true, topics: [{ topic: topic.name, numPartitions: 2 }, { topic: dlq, numPartitions: 1 }] }),
    );
  });

  afterAll(async () => {
    await app.close();
    const kafka = runtime.kafka;
    await withAdmin(kafka, (admin) => admin.deleteTopics({ topics: [topic.name, dlq] }));
  });

  it('GET /metrics shows consumed, duplicate, retried, dead-lettered and produced messages and the lag after real traffic', async () => {
    const merchant = `merchant-${suffix}`;
    const good = Array.from({ length: 20 }, () => settled(merchant));
    const [redelivered, failing] = [settled(merchant), settled(merchant)];
    const handled = new Set<string>();
    const handler = async (event: ConsumedEvent) => {
      const payment = event.data as PaymentSettled;
      if (payment.payment_id === failing.payment_id) throw new Error('ledger unavailable');
      handled.add(payment.payment_id);
      return payment.payment_id === redelivered.payment_id ? ('duplicate' as const) : ('ok' as const);
    };
    const consumer = runtime.createConsumer({ groupId: `test-runtime-${suffix}`, routes: [{ topic, handler }], deadLetterTopic: dlq, backoffMs: [20] });
    await consumer.start();
    for (const p of [...good.slice(0, 10), redelivered, failing, ...good.slice(10)]) {
      await runtime.producer.publish(topic, p, { key: p.merchant_id, correlationId: p.payment_id });
    }
    // a schema-invalid message (net as a decimal) with a valid envelope
    const valid = runtime.producer.encode(topic, settled(merchant), { key: merchant, correlationId: 'c' });
    await runtime.producer.publishRaw(topic.name, { ...valid, value: JSON.stringify({ ...settled(merchant), net: { minor: '9.75', currency: 'EUR' } }) });
    await waitUntil(() => handled.size === 21, 30_000, 'the handled messages');

    let exposition = '';
    const expected = (text: string) =>
      sample(text, 'payrail_dead_letters_total', { service: 'runtime-test', topic: topic.name, reason: 'SchemaInvalidError' }) === 1 &&
      sample(text, 'payrail_messages_produced_total', { service: 'runtime-test', topic: dlq, outcome: 'ok' }) === 2;
    const deadline = Date.now() + 15_000;
    let response: Response | undefined;
    while (!expected(exposition) && Date.now() < deadline) {
      response = await fetch(`${url}/metrics`);
      exposition = await response.text();
      if (!expected(exposition)) await new Promise((r) => setTimeout(r, 100));
    }
    expect(response?.status).toBe(200);
    expect(response?.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const service = 'runtime-test';
    const t = topic.name;
    expect(sample(exposition, 'payrail_messages_consumed_total', { service, topic: t, outcome: 'ok' })).toBe(20);
    expect(sample(exposition, 'payrail_messages_consumed_total', { service, topic: t, outcome: 'duplicate' })).toBe(1);
    expect(sample(exposition, 'payrail_messages_consumed_total', { service, topic: t, outcome: 'dead_lettered' })).toBe(2);
    expect(sample(exposition, 'payrail_consumer_retries_total', { service, topic: t })).toBe(2);
    expect(sample(exposition, 'payrail_dead_letters_total', { service, topic: t, reason: 'Error' })).toBe(1);
    expect(sample(exposition, 'payrail_dead_letters_total', { service, topic: t, reason: 'SchemaInvalidError' })).toBe(1);
    expect(sample(exposition, 'payrail_messages_produced_total', { service, topic: t, outcome: 'ok' })).toBe(23);
    expect(sample(exposition, 'payrail_messages_produced_total', { service, topic: dlq, outcome: 'ok' })).toBe(2);
    expect(sample(exposition, 'payrail_handler_duration_seconds_count', { service, topic: t, outcome: 'ok' })).toBe(20);
    expect(sample(exposition, 'payrail_produce_ack_duration_seconds_count', { service, topic: t, outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    // one key: everything went to one partition, and the consumer is caught up there
    const lags = [0, 1].map((partition) => sample(exposition, 'payrail_consumer_lag', { service, topic: t, partition: String(partition) })).filter((v) => v !== undefined);
    expect(lags).toEqual([0]);
    expect(exposition).toContain('process_resident_memory_bytes{service="runtime-test"}');

    // a healthy consumer: live and ready
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    expect((await fetch(`${url}/health/ready`)).status).toBe(200);
  });

  it('a consumer that crashed for good turns /health/live and /health/ready to 503 with the reason', async () => {
    const groupId = `test-crash-${suffix}`;
    const other = await occupyGroup(runtime.kafka, groupId, topic.name);
    try {
      const consumer = runtime.createConsumer({ groupId, routes: [{ topic, handler: async () => undefined }], deadLetterTopic: dlq });
      await consumer.start();
      await waitUntil(() => consumer.state === 'crashed', 30_000, 'the consumer to crash');
      const live = await fetch(`${url}/health/live`);
      const ready = await fetch(`${url}/health/ready`);
      const body = (await live.json()) as { status: string; consumers: { state: string; reason?: string }[] };
      expect([live.status, ready.status]).toEqual([503, 503]);
      expect(body.status).toBe('down');
      expect(body.consumers).toContainEqual({ state: 'crashed', partitions: 0, reason: expect.stringMatching(/protocols are incompatible/) });
    } finally {
      await other.disconnect();
    }
  });

  it('with the default exit-on-crash, the crashed consumer takes its process down (exit 70): no zombie', async () => {
    const groupId = `test-zombie-${suffix}`;
    const other = await occupyGroup(runtime.kafka, groupId, topic.name);
    try {
      const child = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, '../test/messaging-test-app.ts')], {
        cwd: repoRoot,
        env: { ...process.env, SWC_NODE_PROJECT: join(repoRoot, 'tsconfig.base.json'), TEST_GROUP: groupId, TEST_TOPIC: topic.name },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
      const exit = await new Promise<{ code: number | null; signal: string | null }>((resolveExit) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          resolveExit({ code, signal });
        });
      });
      expect({ exit, output: exit.code === 70 ? 'ok' : output }).toEqual({ exit: { code: 70, signal: null }, output: 'ok' });
      expect(output).toContain('"event":"listening"');
    } finally {
      await other.disconnect();
    }
  });
});
