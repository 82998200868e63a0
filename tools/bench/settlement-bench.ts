// Benchmark of the settlement stage alone: consume screened -> verify Payrail's signature -> post (Lua script) ->
// produce settled. N approved payments for M merchants are signed and published to the screened topic first; then
// a settlement instance (wired like main.ts, in this process) starts, and the rate is the settled topic's growth
// between its first and its last posting (start-up and group join excluded). Several runs, each with a fresh
// Redis key prefix (its keys removed after the run); the JSON has the median as per_s and every run. On a shared
// machine the rate follows the load; `cpu_ms_per_posting` (this process's CPU over the same window, i.e. the
// in-process settlement plus the bench's offset polling, per posting) follows the code.
// Usage: npm run bench:settlement -- [--json FILE] [--payments N] [--merchants M] [--runs R]
// Infrastructure: KAFKA_BROKERS and REDIS_URL when set, else started like npm start (tools/stack Stack).
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { TOPICS } from '@payrail/contracts';
import { EventProducer, Kafka, createKafka, ensureTopics, kafkaConnectionFromProcessEnv } from '@payrail/messaging';
import { PaymentFactory, settlementEnv, startSettlement } from '../../apps/settlement/test/fixtures';
import { BenchKeys, benchKeys, localRedis } from './lib/run-keys';

interface Args {
  json?: string;
  payments: number;
  merchants: number;
  runs: number;
}

function args(argv: string[]): Args {
  const out: Args = { payments: 20_000, merchants: 200, runs: 3 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') out.json = argv[++i];
    else if (a === '--payments') out.payments = Number(argv[++i]);
    else if (a === '--merchants') out.merchants = Number(argv[++i]);
    else if (a === '--runs') out.runs = Number(argv[++i]);
    else if (a === '--') continue;
    else throw new Error(`unknown argument ${String(a)}`);
  }
  if (argv.includes('--json') && !out.json) throw new Error('--json needs a file');
  if (!(out.payments >= 100) || !(out.merchants >= 1) || !(out.runs >= 1)) throw new Error('--payments >= 100, --merchants >= 1, --runs >= 1');
  return out;
}

async function settledHigh(kafka: Kafka): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(TOPICS.paymentsSettled.name)).reduce((n, o) => n + Number(o.high), 0);
  } finally {
    await admin.disconnect();
  }
}

interface Infra {
  brokers: string;
  redisUrl: string;
  /** Where this bench's keys go (each run under `${keys.prefix}run-N:`). */
  keys: BenchKeys;
  stop: () => Promise<void>;
}

async function infra(): Promise<Infra> {
  const given = process.env['KAFKA_BROKERS'] && process.env['REDIS_URL'] ? { brokers: process.env['KAFKA_BROKERS'], redisUrl: process.env['REDIS_URL'] } : undefined;
  if (given) {
    const keys = await benchKeys('bench-settlement', given.redisUrl);
    return { ...given, keys, stop: () => keys.release() };
  }
  const { Stack } = (await import('../stack/stack.mjs' as string)) as { Stack: new (o: { name: string }) => { installSignalHandlers(): void; startInfra(): Promise<{ kafkaBrokers: string; redisUrl: string; redisKeyPrefix: string }>; infraEnv(): Record<string, string>; stop(): Promise<void> } };
  const stack = new Stack({ name: 'bench-settlement' });
  stack.installSignalHandlers();
  const started = await stack.startInfra();
  // the bench's clients and its in-process settlement connect as the run's admin (KAFKA_SASL_*)
  Object.assign(process.env, stack.infraEnv());
  // under the stack's prefix: stack.stop() removes what is left
  const keys = await benchKeys('bench-settlement', started.redisUrl, started.redisKeyPrefix);
  return { brokers: started.kafkaBrokers, redisUrl: started.redisUrl, keys, stop: () => stack.stop() };
}

async function oneRun(kafka: Kafka, producer: EventProducer, factory: PaymentFactory, env: Infra, a: Args, run: number): Promise<{ per_s: number; postings: number; seconds: number; cpu_ms_per_posting: number }> {
  const merchants = Array.from({ length: a.merchants }, (_, i) => `m-bench-${run}-${i}`);
  const events = Array.from({ length: a.payments }, (_, i) => factory.screened(factory.instruction(merchants[i % merchants.length] ?? 'm', BigInt(100 + (i % 90_000))), 'APPROVE'));
  for (let i = 0; i < events.length; i += 2_000) {
    await Promise.all(events.slice(i, i + 2_000).map((e) => producer.publish(TOPICS.paymentsScreened, e, { key: e.merchant_id, correlationId: e.payment_id })));
  }
  const prefix = `${env.keys.prefix}run-${run}:`;
  const before = await settledHigh(kafka);
  const { app } = await startSettlement(settlementEnv({ KAFKA_BROKERS: env.brokers, REDIS_URL: env.redisUrl, REDIS_KEY_PREFIX: prefix, ...factory.keysEnv(), LOG_LEVEL: 'error', INVARIANT_CHECK_INTERVAL_S: '0' }));
  let t0 = 0;
  let n0 = 0;
  let cpu0 = process.cpuUsage();
  let last = before;
  const deadline = Date.now() + 600_000;
  while (last - before < a.payments && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    last = await settledHigh(kafka);
    if (t0 === 0 && last > before) {
      t0 = Date.now();
      n0 = last - before;
      cpu0 = process.cpuUsage();
    }
  }
  const seconds = (Date.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await app.close();
  await (await localRedis()).deleteKeysUnderPrefix(env.redisUrl, prefix); // the next run starts on an empty ledger
  const postings = last - before - n0;
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return { per_s: Math.round(postings / seconds), postings: last - before, seconds: Math.round(seconds * 100) / 100, cpu_ms_per_posting: Math.round((cpuMs / Math.max(1, postings)) * 1000) / 1000 };
}

async function main(): Promise<void> {
  const a = args(process.argv.slice(2));
  const env = await infra();
  try {
    const kafka = createKafka({ ...kafkaConnectionFromProcessEnv(process.env, 'settlement-bench'), brokers: env.brokers.split(',') }, { warn: () => undefined, error: () => undefined });
    await ensureTopics(kafka);
    const producer = new EventProducer(kafka, { source: 'payrail/bench', maxBatchMessages: 1_000 });
    await producer.connect();
    const factory = await PaymentFactory.create();
    const runs = [];
    for (let r = 0; r < a.runs; r++) {
      const result = await oneRun(kafka, producer, factory, env, a, r);
      runs.push(result);
      process.stdout.write(`run ${r + 1}/${a.runs}: ${result.per_s} postings/s (${result.postings} postings, ${result.seconds} s, ${result.cpu_ms_per_posting} ms CPU per posting)\n`);
    }
    await producer.disconnect();
    const sorted = runs.map((x) => x.per_s).sort((x, y) => x - y);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    const cpuSorted = runs.map((x) => x.cpu_ms_per_posting).sort((x, y) => x - y);
    const summary = { per_s: median, cpu_ms_per_posting: cpuSorted[Math.floor(cpuSorted.length / 2)] ?? 0, runs, payments: a.payments, merchants: a.merchants, cpus: cpus().length, node: process.version };
    process.stdout.write(`settlement stage: median ${median} postings/s over ${a.runs} runs (min ${sorted[0]}, max ${sorted[sorted.length - 1]}); ${a.payments} payments, ${a.merchants} merchants, ${cpus().length} CPUs, Node ${process.version}\n`);
    if (a.json) writeFileSync(a.json, `${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    await env.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
