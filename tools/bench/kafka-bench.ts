// Benchmark of Payrail's messaging layer against raw kafkajs moving the same events, on the same broker, in one run.
// Usage: npm run bench:kafka -- [--json FILE] [--messages N] [--rounds N] [--keys N] [--partitions N] [--breakdown]
//                               [--only raw|layer]
// npm runs tools/bench/kafka-bench.mjs, which starts a broker and Redis the way `npm start` does unless KAFKA_BROKERS
// and REDIS_URL are both set, then this file with them:
//   KAFKA_BROKERS=... REDIS_URL=... SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/bench/kafka-bench.ts
//
// Each round moves N payment-screened events (~1 KB JSON, keyed by merchant, 12 partitions like the real topic)
// from a producer to a consumer group, end to end: the clock starts when the first event is handed to the producer
// and stops when the consumer has handled the last one. The sides take turns within a round, in an order that
// rotates from round to round (drift hits all alike); the median round counts.
//   raw:   the least kafkajs code moving the same JSON: sendBatch of 1,000 messages (idempotent, acks=all like ours),
//          eachBatch consumer that JSON.parses each value. No headers, no validation, no de-duplication.
//   layer: what a service does: EventProducer.publish per event (schema check, CloudEvents headers, linger batching);
//          BatchConsumer with a batch route (envelope and schema validation, retries/DLQ machinery; the stages'
//          consumers are batch routes) whose batch handler applies each event's effect once with the
//          idempotent-consumer helper (IdempotentEffect): the event's processed marker is checked and recorded and
//          the effect (INCRBY) applied in one step; the helper sends the calls of one event-loop turn (here: the
//          batch) as one script call.
// --breakdown adds three diagnostic sides, to show where the layer's time goes: raw+headers (raw carrying the same
// nine CloudEvents headers, i.e. what the binary-mode envelope costs in kafkajs alone), layer-no-redis, and
// layer-per-message (the same effect from a per-message handler: per-key ordering, one handler call per event).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import type { Kafka, Message } from 'kafkajs';
import { PaymentScreened, TOPICS, TopicContract } from '@payrail/contracts';
import { BatchConsumer, ConsumedEvent, EventProducer, EventResult, HandlerOutcome, IdempotentConsumer, MessagingMetrics, Redis, createKafka, createRedis, kafkaConnectionFromProcessEnv, noopMetrics } from '@payrail/messaging';
import { benchKeys } from './lib/run-keys';

type Side = 'raw' | 'layer' | 'raw+headers' | 'layer-no-redis' | 'layer-per-message';
const SIDES: readonly Side[] = ['raw', 'layer', 'raw+headers', 'layer-no-redis', 'layer-per-message'];

interface Options {
  json?: string;
  messages: number;
  rounds: number;
  keys: number;
  partitions: number;
  sides: Side[];
}

function args(argv: string[]): Options {
  const out: Options = { messages: 50_000, rounds: 5, keys: 500, partitions: 12, sides: ['raw', 'layer'] };
  const positive = (name: string, text: string | undefined): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} needs a whole number >= 1`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') out.json = argv[++i];
    else if (a === '--messages') out.messages = positive('messages', argv[++i]);
    else if (a === '--rounds') out.rounds = positive('rounds', argv[++i]);
    else if (a === '--keys') out.keys = positive('keys', argv[++i]);
    else if (a === '--partitions') out.partitions = positive('partitions', argv[++i]);
    else if (a === '--breakdown') out.sides = [...SIDES];
    else if (a === '--only') {
      const v = SIDES.find((side) => side === argv[i + 1]);
      i++;
      if (!v) throw new Error(`--only ${SIDES.join('|')}`);
      out.sides = [v];
    } else if (a === '--') continue;
    else throw new Error(`unknown argument ${String(a)}`);
  }
  if (argv.includes('--json') && !out.json) throw new Error('--json needs a file');
  return out;
}

const log = (message: string): void => {
  process.stderr.write(`[bench] ${message}\n`);
};

// ---------------------------------------------------------------------------------------------------------------
// the events

const b64url = (bytes: Buffer): string => bytes.toString('base64url');

/** A payment-screened event of realistic size: the instruction JWS (ES256 over ~450 bytes) makes most of it. */
function screenedEvent(i: number, keys: number): PaymentScreened {
  const merchant = `m-${String(i % keys).padStart(5, '0')}`;
  const paymentId = randomUUID();
  const instruction = {
    payment_id: paymentId,
    amount: { minor: String(1_000 + (i % 90_000)), currency: 'EUR' as const },
    payer: { fingerprint: b64url(randomBytes(32)), masked: '411111******1111', country: 'DE' },
    payee: { merchant_id: merchant, country: 'FR' },
    upstream: { id: 'psp-alpha', reference: `order-${i}` },
    accepted_at: '2025-03-01T09:15:02.114Z',
    protected: b64url(randomBytes(40)),
  };
  const jws = `${b64url(Buffer.from('{"alg":"ES256","kid":"payrail-signing-2025-03"}'))}.${b64url(Buffer.from(JSON.stringify(instruction)))}.${b64url(randomBytes(64))}`;
  return {
    payment_id: paymentId,
    merchant_id: merchant,
    amount: instruction.amount,
    decision: 'APPROVE',
    score: i % 100,
    reasons: [{ rule: 'velocity.payer.1h', score: 12, observed: { count: 3, window: '1h' } }],
    ruleset_version: '2025.03.1',
    screened_at: '2025-03-01T09:15:02.388Z',
    instruction_jws: jws,
  };
}

/** The nine headers EventProducer.encode puts on every event (CloudEvents binary mode), for raw+headers. */
function envelopeHeaders(event: PaymentScreened): Record<string, string> {
  return {
    ce_specversion: '1.0',
    ce_id: randomUUID(),
    ce_type: TOPICS.paymentsScreened.eventType,
    ce_source: 'payrail/bench',
    ce_time: new Date().toISOString(),
    ce_dataschema: `urn:payrail:schema:${TOPICS.paymentsScreened.name}`,
    ce_schemaversion: '1',
    ce_correlationid: event.payment_id,
    'content-type': 'application/json',
  };
}

// The effect a settlement-like consumer applies once per event, through the messaging layer's idempotent-consumer
// helper: marker check, effect (INCRBY of the amount into the merchant's sum) and marker in one step, keys under the
// merchant's hash tag; the helper sends the calls of one event-loop turn as one script call.
const SETTLE_LUA = "return redis.call('INCRBY', KEYS[1], ARGV[1])";

// ---------------------------------------------------------------------------------------------------------------
// one side, one round

interface RoundResult {
  per_s: number;
  elapsed_ms: number;
  produce_ms: number;
  /** From the last acknowledgement to the last event handled. */
  drain_ms: number;
  consumed: number;
  /** CPU time of this process (producer, consumer, Redis client) per event: steadier than rates on a busy machine. */
  cpu_us_per_event: number;
  duplicates?: number;
  /** Layer: produce requests EventProducer sent, events per request, and the mean wait for their acknowledgement. */
  produce_requests?: number;
  events_per_request?: number;
  ack_ms_avg?: number;
}

async function createTopic(kafka: Kafka, name: string, partitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: name, numPartitions: partitions, replicationFactor: 1 }] });
  } finally {
    await admin.disconnect();
  }
}

function deadline<T>(what: string, promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function counter(total: number): { add: (n: number) => void; count: () => number; all: Promise<void> } {
  let n = 0;
  let done: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (done = resolve));
  return {
    add: (k) => {
      n += k;
      if (n >= total) done();
    },
    count: () => n,
    all,
  };
}

function result(total: number, consumed: number, started: number, produced: number, finished: number, cpu: NodeJS.CpuUsage): RoundResult {
  const elapsed = finished - started;
  return {
    per_s: Math.round(total / (elapsed / 1_000)),
    elapsed_ms: Math.round(elapsed),
    produce_ms: Math.round(produced - started),
    drain_ms: Math.round(finished - produced),
    consumed,
    cpu_us_per_event: Number(((cpu.user + cpu.system) / total).toFixed(1)),
  };
}

async function rawRound(kafka: Kafka, topic: string, events: readonly PaymentScreened[], partitions: number, withHeaders: boolean): Promise<RoundResult> {
  const total = events.length;
  const consumed = counter(total);
  const consumer = kafka.consumer({ groupId: `bench-raw-${randomUUID()}`, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: partitions,
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) if (message.value) JSON.parse(message.value.toString('utf8'));
      consumed.add(batch.messages.length);
    },
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();

  const cpu = process.cpuUsage();
  const started = performance.now();
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < total; i += 1_000) {
    const messages: Message[] = events.slice(i, i + 1_000).map((e) => ({ key: e.merchant_id, value: JSON.stringify(e), headers: withHeaders ? envelopeHeaders(e) : undefined }));
    sends.push(producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages }] }));
  }
  await Promise.all(sends);
  const produced = performance.now();
  await deadline('raw consume', consumed.all, 300_000);
  const finished = performance.now();
  const used = process.cpuUsage(cpu);
  await Promise.all([producer.disconnect(), consumer.disconnect()]);
  return result(total, consumed.count(), started, produced, finished, used);
}

async function layerRound(kafka: Kafka, redis: Redis | undefined, topicName: string, events: readonly PaymentScreened[], perMessage: boolean): Promise<RoundResult> {
  const topic: TopicContract = { ...TOPICS.paymentsScreened, name: topicName };
  const total = events.length;
  const consumed = counter(total);
  let duplicates = 0;
  const settle = redis ? new IdempotentConsumer(redis, { consumer: 'bench', markerTtlSeconds: 3_600 }).defineEffect({ numberOfKeys: 1, lua: SETTLE_LUA }) : undefined;
  const handler = async (event: ConsumedEvent): Promise<HandlerOutcome> => {
    if (settle) {
      const screened = event.data as PaymentScreened;
      const merchant = screened.merchant_id;
      const { outcome } = await settle.applyOnce({ eventId: event.envelope.id, scope: merchant, keys: [`settled:{${merchant}}:${topicName}`], args: [screened.amount.minor] });
      if (outcome === 'DUPLICATE') {
        duplicates++;
        return 'duplicate';
      }
    }
    consumed.add(1);
    return 'ok';
  };
  // the whole batch's effects in one event-loop turn: one script call for them
  const batchHandler = async (batch: readonly ConsumedEvent[]): Promise<EventResult[]> => Promise.all(batch.map(handler));
  const requests = { count: 0, events: 0, ackMs: 0 };
  const metrics: MessagingMetrics = {
    ...noopMetrics,
    produced: (...args: Parameters<MessagingMetrics['produced']>) => {
      // the hook's numeric arguments are the request's message count and its ack time, whatever else it carries
      const [messages = 0, ackMs = 0] = (args as unknown[]).filter((a): a is number => typeof a === 'number');
      requests.count++;
      requests.events += messages;
      requests.ackMs += ackMs;
    },
  };
  const producer = new EventProducer(kafka, { source: 'payrail/bench', metrics });
  const logger = { info: () => undefined, warn: (o: object, m: string) => log(`${m} ${JSON.stringify(o)}`), error: (o: object, m: string) => log(`${m} ${JSON.stringify(o)}`) };
  const consumer = new BatchConsumer(kafka, { groupId: `bench-layer-${randomUUID()}`, routes: [perMessage ? { topic, handler } : { topic, batchHandler }], deadLetterTopic: `${topicName}.dlq`, producer, logger });
  await producer.connect();
  await consumer.start();

  Object.assign(requests, { count: 0, events: 0, ackMs: 0 });
  const cpu = process.cpuUsage();
  const started = performance.now();
  // services publish one event at a time from many concurrent handlers; keep a bounded number outstanding
  const window = 10_000;
  let outstanding = 0;
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  const settled = (): void => {
    outstanding--;
    if (wake && outstanding <= window / 2) {
      wake();
      wake = undefined;
    }
  };
  for (const event of events) {
    outstanding++;
    producer.publish(topic, event, { key: event.merchant_id, correlationId: event.payment_id }).then(settled, (err: Error) => {
      failure = err;
      settled();
    });
    if (outstanding >= window) await new Promise<void>((resolve) => (wake = resolve));
  }
  await producer.flush();
  if (failure) throw failure;
  const produced = performance.now();
  await deadline('layer consume', consumed.all, 300_000);
  const finished = performance.now();
  const used = process.cpuUsage(cpu);
  await consumer.stop();
  await producer.disconnect();
  return {
    ...result(total, consumed.count(), started, produced, finished, used),
    duplicates,
    produce_requests: requests.count,
    events_per_request: Math.round(requests.events / Math.max(1, requests.count)),
    ack_ms_avg: Number((requests.ackMs / Math.max(1, requests.count)).toFixed(1)),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = args(process.argv.slice(2));
  const brokers = process.env['KAFKA_BROKERS'];
  const redisUrl = process.env['REDIS_URL'];
  if (!brokers || !redisUrl) throw new Error('KAFKA_BROKERS and REDIS_URL must be set (npm run bench:kafka starts a broker and Redis when they are not)');
  const infra = process.env['PAYRAIL_BENCH_INFRA'] ?? 'given by KAFKA_BROKERS/REDIS_URL';
  const runId = randomBytes(4).toString('hex');
  const kafka = createKafka(kafkaConnectionFromProcessEnv(process.env, 'payrail-bench'), { warn: () => undefined, error: (o, m) => log(`${m} ${JSON.stringify(o)}`) });
  // its keys: under the prefix of the run that started it (PAYRAIL_RUN_KEY_PREFIX), or of its own, removed at the end
  const benchPrefix = await benchKeys('bench-kafka', redisUrl);
  const redis = createRedis({ url: redisUrl, keyPrefix: benchPrefix.prefix }, 'payrail-bench');
  await redis.connect();
  const topics: string[] = [];
  const newTopic = async (side: Side, round: number): Promise<string> => {
    const name = `bench.${side.replace('+', '-')}.${runId}.${round}`;
    await createTopic(kafka, name, opts.partitions);
    topics.push(name);
    return name;
  };
  const runSide = async (side: Side, round: number, events: readonly PaymentScreened[]): Promise<RoundResult> => {
    const topic = await newTopic(side, round);
    if (side === 'raw' || side === 'raw+headers') return rawRound(kafka, topic, events, opts.partitions, side === 'raw+headers');
    return layerRound(kafka, side === 'layer-no-redis' ? undefined : redis, topic, events, side === 'layer-per-message');
  };
  try {
    log(`${opts.messages} events x ${opts.rounds} rounds, sides ${opts.sides.join(', ')}, ${opts.partitions} partitions, ${opts.keys} keys, brokers ${brokers} (${infra})`);
    const sample = Array.from({ length: 2_000 }, (_, i) => screenedEvent(i, opts.keys));
    const valueBytes = Math.round(sample.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)), 0) / sample.length);
    // warm-up (JIT, connections, first group joins), not counted
    for (const side of opts.sides) await runSide(side, 0, sample);
    const perRound: ({ round: number } & Partial<Record<Side, RoundResult>>)[] = [];
    for (let round = 1; round <= opts.rounds; round++) {
      const events = Array.from({ length: opts.messages }, (_, i) => screenedEvent(i, opts.keys));
      const entry: { round: number } & Partial<Record<Side, RoundResult>> = { round };
      const shift = (round - 1) % opts.sides.length;
      for (const side of [...opts.sides.slice(shift), ...opts.sides.slice(0, shift)]) {
        const r = await runSide(side, round, events);
        entry[side] = r;
        log(`round ${round} ${side}: ${r.per_s} events/s, ${r.cpu_us_per_event} us CPU/event (${JSON.stringify(r)})`);
      }
      perRound.push(entry);
    }
    const summary = (side: Side) => {
      const rs = perRound.flatMap((r) => (r[side] ? [r[side]] : [])) as RoundResult[];
      if (rs.length === 0) return undefined;
      return {
        per_s: Math.round(median(rs.map((r) => r.per_s))),
        cpu_us_per_event: Number(median(rs.map((r) => r.cpu_us_per_event)).toFixed(1)),
        produce_ms: Math.round(median(rs.map((r) => r.produce_ms))),
        drain_ms: Math.round(median(rs.map((r) => r.drain_ms))),
        rounds_per_s: rs.map((r) => r.per_s),
      };
    };
    const sides = Object.fromEntries(opts.sides.map((s) => [s, summary(s)]));
    const raw = sides['raw'];
    const layer = sides['layer'];
    const ratio = raw && layer && raw.per_s > 0 ? Number((layer.per_s / raw.per_s).toFixed(3)) : null;
    const cpuRatio = raw && layer && layer.cpu_us_per_event > 0 ? Number((raw.cpu_us_per_event / layer.cpu_us_per_event).toFixed(3)) : null;
    const doc = {
      raw_per_s: raw?.per_s ?? null,
      layer_per_s: layer?.per_s ?? null,
      ratio,
      target_ratio: 0.7,
      cpu_ratio: cpuRatio,
      sides,
      messages_per_round: opts.messages,
      rounds: opts.rounds,
      partitions: opts.partitions,
      keys: opts.keys,
      value_bytes_avg: valueBytes,
      per_round: perRound,
      setup: {
        raw: 'kafkajs producer (idempotent, acks=all) sendBatch of 1000; eachBatch consumer, JSON.parse per value; no headers',
        layer: 'EventProducer.publish per event (zod check, 9 CloudEvents headers, linger batching); BatchConsumer batch route (envelope + zod validation, the partition batch to one handler call); IdempotentEffect.applyOnce per event (processed marker + INCRBY effect in one step, the batch\'s calls in one script call)',
        'raw+headers': 'raw plus the same 9 CloudEvents headers per message (what binary mode costs in kafkajs)',
        'layer-no-redis': 'layer without the Redis effect',
        'layer-per-message': 'layer with a per-message handler (per-key ordering, one handler call per event) instead of the batch route',
        cpu_ratio: 'raw CPU per event / layer CPU per event, for this process: what the ratio would be if the run were CPU-bound',
      },
      meta: { node: process.version, cpus: cpus().length, loadavg_1m_at_end: Number((loadavg()[0] ?? 0).toFixed(2)), brokers, infra, at: new Date().toISOString() },
    };
    const pad = (s: string, n: number): string => s.padEnd(n);
    const lpad = (s: string, n: number): string => s.padStart(n);
    const lines = [
      `payrail kafka bench: node ${process.version}, ${cpus().length} CPU(s), load ${doc.meta.loadavg_1m_at_end}, ${opts.messages} events/round of ~${valueBytes} B, ${opts.partitions} partitions, ${opts.rounds} rounds (median)`,
      `${pad('side', 15)} ${lpad('events/s', 9)} ${lpad('per round', 26)} ${lpad('produce ms', 10)} ${lpad('drain ms', 9)} ${lpad('CPU us/evt', 10)}`,
      ...opts.sides.map((side) => {
        const s = sides[side];
        return s ? `${pad(side, 15)} ${lpad(String(s.per_s), 9)} ${lpad(s.rounds_per_s.join(' / '), 26)} ${lpad(String(s.produce_ms), 10)} ${lpad(String(s.drain_ms), 9)} ${lpad(s.cpu_us_per_event.toFixed(1), 10)}` : '';
      }),
      `ratio layer/raw: ${ratio ?? 'n/a'} (target >= 0.7${ratio === null ? '' : ratio >= 0.7 ? ', met' : ', MISSED'}); CPU per event raw/layer: ${cpuRatio ?? 'n/a'}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (opts.json) {
      mkdirSync(dirname(opts.json), { recursive: true });
      writeFileSync(opts.json, `${JSON.stringify(doc, null, 2)}\n`);
      process.stdout.write(`wrote ${opts.json}\n`);
    }
  } finally {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics }).catch((err: Error) => log(`could not delete the bench topics: ${err.message}`));
    await admin.disconnect();
    await redis.quit();
    await benchPrefix.release();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
