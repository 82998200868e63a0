// Benchmark of fraud-check's screening at a fixed offered load. A load generator (a child process, so its CPU and
// heap are not the service's) publishes signed payments on the signed topic at --rate per second, open loop (on
// schedule, whatever the service does); a real fraud-check instance (the service's module, transport and consumer
// group, in this process) screens them with the default rule set against real Kafka and Redis, and the latency of
// its screening handler is recorded for every payment: verify the signature, the velocity scripts and blocklist
// lookups, evaluate, store the decision, publish it and wait for the broker's ack. Screening is batch-at-a-time
// (a fetched partition batch per handler call): a payment's handler latency is the duration of the call that
// screened it (the per-payment path, for what is still screened one by one, is timed per payment).
//
// Usage: npm run bench:fraud -- [--json FILE] [--rate 2000] [--seconds 20] [--warmup 3] [--cards 20000] [--e2e] [--setup 20]
// (--setup: seconds allowed to sign the load, start the service and join the group before the load starts; more
// on a busy machine)
// Infrastructure: KAFKA_BROKERS and REDIS_URL when both are set, otherwise a Kafka broker and Redis started like
// `npm start` does (tools/stack) and stopped at the end. Writes {"per_s","p50_ms","p99_ms",...} and prints a summary.
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { dirname, join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { v7 as uuidv7 } from 'uuid';
import { CurrencyCode, PaymentInstruction, PaymentInstructionSchema, TOPICS } from '@payrail/contracts';
import { JwsSigner, PayrailKeyStore, generateDevKeys, writeSealKeys } from '@payrail/crypto';
import { EventProducer, createKafka, decode, ensureTopics, kafkaClientEnv, kafkaConnectionFromProcessEnv } from '@payrail/messaging';
import { MessagingRuntime, connectConsumerGroups } from '@payrail/messaging-nest';
import { FraudCheckAppModule } from '../../apps/fraud-check/src/app.module';
import { loadFraudCheckConfig } from '../../apps/fraud-check/src/config';
import { ScreenPaymentUseCase } from '../../apps/fraud-check/src/screening/screen-payment.use-case';
import { ScreenBatchUseCase } from '../../apps/fraud-check/src/screening/screen-batch.use-case';
import { ScreenedPublisher } from '../../apps/fraud-check/src/screening/screened.publisher';
import { benchKeys } from './lib/run-keys';

interface Options {
  json?: string;
  rate: number;
  seconds: number;
  warmup: number;
  cards: number;
  e2e: boolean;
  setup: number;
}

function args(argv: string[]): Options {
  const o: Options = { rate: 2000, seconds: 20, warmup: 3, cards: 20_000, e2e: false, setup: 20 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${a} needs a positive number`);
      return v;
    };
    if (a === '--json') o.json = argv[++i];
    else if (a === '--rate') o.rate = num();
    else if (a === '--seconds') o.seconds = num();
    else if (a === '--warmup') o.warmup = num();
    else if (a === '--cards') o.cards = num();
    else if (a === '--e2e') o.e2e = true;
    else if (a === '--setup') o.setup = num();
    else if (a === '--') continue;
    else throw new Error(`unknown argument ${String(a)}`);
  }
  if (argv.includes('--json') && !o.json) throw new Error('--json needs a file');
  return o;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

const round = (x: number) => Math.round(x * 100) / 100;

/** A plausible stream: cards (some reused), accounts, IPs and devices with repeats, a few currencies and merchants. */
function payments(n: number, cards: number, startMs: number, intervalMs: number): PaymentInstruction[] {
  const merchants = [
    { merchant_id: 'm-coffee-berlin', mcc: '5814', country: 'DE', currency: 'EUR' },
    { merchant_id: 'm-books-paris', mcc: '5942', country: 'FR', currency: 'EUR' },
    { merchant_id: 'm-travel-london', mcc: '4722', country: 'GB', currency: 'GBP' },
    { merchant_id: 'm-games-tokyo', mcc: '5816', country: 'JP', currency: 'JPY' },
  ] as const;
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const out: PaymentInstruction[] = [];
  for (let i = 0; i < n; i++) {
    const m = merchants[i % merchants.length] ?? merchants[0];
    const at = new Date(startMs + i * intervalMs).toISOString();
    const card = random() < 0.8;
    const payer = Math.floor(random() * cards);
    const minor = String(Math.floor(100 + random() * 20_000) * (m.currency === 'JPY' ? 100 : 1));
    out.push({
      payment_id: uuidv7(),
      upstream_id: 'psp-bench',
      upstream_reference: `bench-${i}`,
      accepted_at: at,
      signed_at: at,
      amount: { minor, currency: m.currency as CurrencyCode },
      payer: card
        ? { type: 'card', fingerprint: `bench-card-${payer}`.padEnd(24, '_'), masked: '4111********1111', bin: '4111', country: m.country, expiry: '2029-01', protected_jwe: 'eyJhbGciOiJFQ0RILUVTK0EyNTZLVyJ9.a.b.c.d' }
        : { type: 'account', fingerprint: `bench-account-${payer}`.padEnd(24, '_'), masked: '******3000', country: 'DE', protected_jwe: 'eyJhbGciOiJFQ0RILUVTK0EyNTZLVyJ9.a.b.c.d' },
      payee: { merchant_id: m.merchant_id, mcc: m.mcc, country: m.country },
      context: { ip: `10.${Math.floor(i / 65536) % 256}.${Math.floor(random() * 20)}.${Math.floor(random() * 250)}`, country: m.country, device_id: `device-${Math.floor(random() * 5000)}` },
      upstream_verification: { kid: 'bench', alg: 'ES256', jti: randomUUID(), iat: Math.floor(startMs / 1000) },
    });
  }
  return out;
}

// ---- the load generator (child process) --------------------------------------------------------------------

interface GeneratorTask {
  brokers: string;
  privateJwksFile: string;
  rate: number;
  total: number;
  cards: number;
  startMs: number;
}

type GeneratorMessage = { type: 'ready'; ids: string[] } | { type: 'done'; sentAt: number[] };

async function generator(task: GeneratorTask): Promise<void> {
  const send = (m: GeneratorMessage) => new Promise<void>((r) => process.send?.(m, () => r()));
  const kafka = createKafka({ ...kafkaConnectionFromProcessEnv({ ...process.env, KAFKA_BROKERS: task.brokers }, 'payrail-bench-load') }, { warn: () => undefined, error: () => undefined });
  const signer = new JwsSigner(await PayrailKeyStore.fromJwks(JSON.parse(readFileSync(task.privateJwksFile, 'utf8')), { source: 'bench keys' }));
  const producer = new EventProducer(kafka, { source: 'payrail/bench-signing', lingerMs: 2 });
  await producer.connect();
  const stream = payments(task.total, task.cards, task.startMs, 1000 / task.rate);
  // every instruction must be one fraud-check accepts (a payer the schema refuses is retried, then dead-lettered:
  // no decision, and three verifications of CPU counted against the decisions); signed and encoded up front so
  // publishing costs little during the run
  for (const p of stream) PaymentInstructionSchema.parse(p);
  const messages = stream.map((p) =>
    producer.encode(TOPICS.paymentsSigned, { payment_id: p.payment_id, kid: signer.kid, instruction_jws: signer.sign(p) }, { key: p.payer.fingerprint, correlationId: p.payment_id, eventId: `${p.payment_id}:signed` }),
  );
  await send({ type: 'ready', ids: stream.map((p) => p.payment_id) });
  await new Promise((r) => setTimeout(r, Math.max(0, task.startMs - Date.now())));
  const sentAt: number[] = new Array(task.total);
  const tickMs = 10;
  const perTick = (task.rate * tickMs) / 1000;
  const began = Date.now();
  let sent = 0;
  for (let tick = 1; sent < task.total; tick++) {
    const due = Math.min(task.total, Math.round(perTick * tick));
    const now = Date.now();
    for (; sent < due; sent++) {
      sentAt[sent] = now;
      const m = messages[sent];
      if (m) void producer.publishRaw(TOPICS.paymentsSigned.name, m);
    }
    const wait = began + tick * tickMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await producer.disconnect();
  await send({ type: 'done', sentAt });
}

// ---- the benchmark -----------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = args(process.argv.slice(2));
  const root = resolve(__dirname, '..', '..');
  let stopInfra: () => Promise<void> = async () => undefined;
  let brokers = process.env['KAFKA_BROKERS'];
  let redisUrl = process.env['REDIS_URL'];
  let runPrefix = process.env['PAYRAIL_RUN_KEY_PREFIX'];
  if (!brokers || !redisUrl) {
    const { Stack } = (await import('../stack/stack.mjs' as string)) as { Stack: new (o: { name: string }) => { installSignalHandlers(): void; startInfra(): Promise<{ kafkaBrokers: string; redisUrl: string; redisKeyPrefix: string }>; infraEnv(): Record<string, string>; stop(): Promise<void> } };
    const stack = new Stack({ name: 'bench-fraud' });
    stack.installSignalHandlers();
    process.stderr.write('starting Kafka and Redis (tools/stack)...\n');
    const infra = await stack.startInfra();
    brokers = infra.kafkaBrokers;
    redisUrl = infra.redisUrl;
    runPrefix = infra.redisKeyPrefix; // removed by stack.stop()
    stopInfra = () => stack.stop();
    // the bench's own clients and its in-process fraud-check connect as the run's admin (KAFKA_SASL_*)
    Object.assign(process.env, stack.infraEnv());
  }
  const redisKeys = await benchKeys('bench-fraud', redisUrl, runPrefix);
  try {
    const kafka = createKafka({ ...kafkaConnectionFromProcessEnv(process.env, 'payrail-bench'), brokers: brokers.split(',') }, { warn: () => undefined, error: () => undefined });
    await ensureTopics(kafka);

    const dir = mkdtempSync(join(tmpdir(), 'payrail-fraud-bench-'));
    const keys = await generateDevKeys({ alg: 'ES256', withEncryptionKey: false });
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify(keys.publicJwks));
    writeFileSync(join(dir, 'private.jwks.json'), JSON.stringify(keys.privateJwks), { mode: 0o600 });
    const rulesFile = join(root, 'apps/fraud-check/rules/ruleset.json');
    const config = loadFraudCheckConfig({
      ...kafkaClientEnv(process.env),
      KAFKA_BROKERS: brokers,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: redisKeys.prefix,
      SIGNING_JWKS_FILE: join(dir, 'jwks.json'),
      RULES_FILE: rulesFile,
      EVENT_SEAL_KEYS_FILE: (await writeSealKeys(join(dir, 'fraud-check-seal'))).privateFile,
      LOG_LEVEL: 'silent',
    });

    const total = Math.round(o.rate * (o.warmup + o.seconds));
    const startMs = Date.now() + o.setup * 1000 + total / 10; // time to sign the load, start the service and join the group
    process.stderr.write(`load generator: signing ${total} payment instructions...\n`);
    const load = fork(__filename, ['--generator'], { execArgv: process.execArgv, env: { ...process.env, FRAUD_BENCH_TASK: JSON.stringify({ brokers, privateJwksFile: join(dir, 'private.jwks.json'), rate: o.rate, total, cards: o.cards, startMs } satisfies GeneratorTask) } });
    const fromLoad = (type: GeneratorMessage['type']) =>
      new Promise<GeneratorMessage>((resolveMessage, reject) => {
        load.on('message', (m: GeneratorMessage) => m.type === type && resolveMessage(m));
        load.once('exit', (code) => code !== 0 && reject(new Error(`load generator exited with ${code}`)));
      });
    const ready = fromLoad('ready');
    const done = fromLoad('done');

    const app = await NestFactory.create<NestFastifyApplication>(FraudCheckAppModule.forRoot(config), new FastifyAdapter(), { logger: false });
    connectConsumerGroups(app, 'fraudCheck');
    await app.listen(0, '127.0.0.1');
    await app.startAllMicroservices();

    // handler latency: the use case the screening handler calls, timed around each call; and where the time goes
    // a payment counts as decided when a call returned a result for it that is not an error (an error is retried,
    // then dead-lettered: counted in `failed`, and its payment stays undecided unless a retry decides it)
    const handled = new Map<string, { ms: number; doneAt: number }>();
    let failed = 0;
    const stages = { batchSize: [] as number[], publish: [] as number[] };
    const timed = <A extends unknown[], R>(target: object, name: string, record: (ms: number, args: A, result: R | undefined) => void) => {
      const t = target as Record<string, (...a: A) => Promise<R>>;
      const original = t[name]?.bind(target);
      if (!original) throw new Error(`no ${name} to time`);
      t[name] = async (...a: A): Promise<R> => {
        const started = process.hrtime.bigint();
        let result: R | undefined;
        try {
          result = await original(...a);
          return result;
        } finally {
          record(Number(process.hrtime.bigint() - started) / 1e6, a, result);
        }
      };
    };
    timed<[{ payment_id: string }], unknown>(app.get(ScreenPaymentUseCase), 'execute', (ms, [signed], result) => {
      if (result === undefined) failed++;
      else handled.set(signed.payment_id, { ms, doneAt: Date.now() });
    });
    // (a build of the service without batch screening, to measure before it: timed per payment only)
    const batchUseCase = (() => {
      try {
        return app.get(ScreenBatchUseCase);
      } catch {
        return undefined;
      }
    })();
    if (batchUseCase)
      timed<[{ signed: { payment_id: string } }[]], readonly object[]>(batchUseCase, 'execute', (ms, [items], results) => {
        const doneAt = Date.now();
        stages.batchSize.push(items.length);
        items.forEach((item, i) => {
          const r = results?.[i];
          if (r === undefined || 'error' in r) failed++;
          else handled.set(item.signed.payment_id, { ms, doneAt });
        });
      });
    timed(app.get(ScreenedPublisher), 'publish', (ms) => stages.publish.push(ms));
    const received = new Map<string, number>();
    const reader = o.e2e ? kafka.consumer({ groupId: `payrail-bench-reader-${randomUUID()}`, maxWaitTimeInMs: 20 }) : undefined;
    if (reader) {
      await reader.connect();
      await reader.subscribe({ topic: TOPICS.paymentsScreened.name, fromBeginning: false });
      await reader.run({ eachMessage: async ({ message }) => void received.set((decode(TOPICS.paymentsScreened, message).data as { payment_id: string }).payment_id, Date.now()) });
    }
    const port = (app.getHttpServer().address() as { port: number }).port;
    for (let deadline = Date.now() + 60_000; (await fetch(`http://127.0.0.1:${port}/health/ready`)).status !== 200; ) {
      if (Date.now() > deadline) throw new Error('fraud-check not ready');
      await new Promise((r) => setTimeout(r, 200));
    }
    const ids = ((await ready) as { ids: string[] }).ids;
    if (Date.now() > startMs) throw new Error('set-up took longer than planned: use fewer --seconds or a lower --rate');
    process.stderr.write(`offering ${o.rate} payments/s for ${o.warmup + o.seconds} s (the first ${o.warmup} s are warm-up)...\n`);

    // how long this process waited for the CPU (on a shared machine the latencies include it); CPU per decision
    await new Promise((r) => setTimeout(r, Math.max(0, startMs - Date.now())));
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const redisCpu = async () => {
      const info = await app.get(MessagingRuntime).redis.info('cpu');
      return ['used_cpu_sys', 'used_cpu_user'].reduce((sum, k) => sum + Number(new RegExp(`${k}:([0-9.]+)`).exec(info)?.[1] ?? 0), 0);
    };
    const cpuBefore = process.cpuUsage();
    const redisBefore = await redisCpu();
    const sentAt = ((await done) as { sentAt: number[] }).sentAt;
    const offeredSeconds = ((sentAt[sentAt.length - 1] ?? startMs) - (sentAt[0] ?? startMs)) / 1000;
    const deadline = Date.now() + 120_000;
    while (ids.some((id) => !handled.has(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    loopDelay.disable();
    const cpu = process.cpuUsage(cpuBefore);
    const redisCpuSeconds = (await redisCpu()) - redisBefore;

    const warmupCount = Math.round(o.rate * o.warmup);
    const measuredIds = ids.slice(warmupCount);
    const done_ = measuredIds.map((id) => handled.get(id)).filter((x): x is { ms: number; doneAt: number } => x !== undefined);
    const latencies = done_.map((d) => d.ms).sort((a, b) => a - b);
    const firstSent = sentAt[warmupCount] ?? startMs;
    const lastDone = Math.max(...done_.map((d) => d.doneAt));
    const e2e = measuredIds
      .flatMap((id, i) => {
        const at = received.get(id);
        return at === undefined ? [] : [at - (sentAt[warmupCount + i] ?? at)];
      })
      .sort((a, b) => a - b);
    const stage = (xs: number[]) => {
      const sorted = xs.slice(Math.round(xs.length * (o.warmup / (o.warmup + o.seconds)))).sort((a, b) => a - b);
      return { p50: round(quantile(sorted, 0.5)), p99: round(quantile(sorted, 0.99)) };
    };
    const decidedAll = ids.filter((id) => handled.has(id)).length;
    const result = {
      per_s: Math.round(done_.length / ((lastDone - firstSent) / 1000)),
      p50_ms: round(quantile(latencies, 0.5)),
      p99_ms: round(quantile(latencies, 0.99)),
      p999_ms: round(quantile(latencies, 0.999)),
      max_ms: round(latencies[latencies.length - 1] ?? NaN),
      offered_per_s: o.rate,
      achieved_offer_per_s: Math.round((total - 1) / offeredSeconds),
      measured_payments: measuredIds.length,
      decided: done_.length,
      lost: total - decidedAll,
      failed_attempts: failed,
      seconds: o.seconds,
      stages: { batch_size: stage(stages.batchSize), publish_ack: stage(stages.publish) },
      ...(o.e2e ? { e2e_p50_ms: round(quantile(e2e, 0.5)), e2e_p99_ms: round(quantile(e2e, 0.99)) } : {}),
      cpu_us_per_decision: Math.round((cpu.user + cpu.system) / decidedAll),
      redis_cpu_us_per_decision: Math.round((redisCpuSeconds * 1e6) / decidedAll),
      event_loop_delay_p99_ms: round(loopDelay.percentile(99) / 1e6),
      load_average_1m: round(loadavg()[0] ?? NaN),
      ruleset: (JSON.parse(readFileSync(rulesFile, 'utf8')) as { version: string }).version,
      node: process.version,
      cpus: cpus().length,
      infra: process.env['KAFKA_BROKERS'] && process.env['REDIS_URL'] ? 'given' : 'tools/stack',
    };
    if (o.json) {
      mkdirSync(dirname(resolve(o.json)), { recursive: true });
      writeFileSync(o.json, `${JSON.stringify(result, null, 2)}\n`);
    }
    process.stdout.write(
      `fraud-check at ${o.rate}/s offered (${result.achieved_offer_per_s}/s sent) for ${o.seconds} s after ${o.warmup} s warm-up; ${result.cpus} CPUs, ${result.node}, load average ${result.load_average_1m}, event loop delay p99 ${result.event_loop_delay_p99_ms} ms\n` +
        `  decisions/s ${result.per_s}   handler latency p50 ${result.p50_ms} ms  p99 ${result.p99_ms} ms  p99.9 ${result.p999_ms} ms  max ${result.max_ms} ms   (goal p99 <= 10 ms)\n` +
        `  payments per handler call (batch) p50 ${result.stages.batch_size.p50} p99 ${result.stages.batch_size.p99}; publish (broker ack) p50 ${result.stages.publish_ack.p50} ms p99 ${result.stages.publish_ack.p99} ms\n` +
        (o.e2e ? `  published -> screened received: p50 ${result.e2e_p50_ms} ms  p99 ${result.e2e_p99_ms} ms\n` : '') +
        `  CPU per decision: ${result.cpu_us_per_decision} us in the service's process, ${result.redis_cpu_us_per_decision} us in Redis (all of Redis: exact only on a Redis of its own)\n` +
        `  decided ${result.decided}/${result.measured_payments} measured, lost ${result.lost}, failed attempts ${result.failed_attempts}${o.json ? `; written to ${o.json}` : ''}\n`,
    );
    await reader?.disconnect();
    await app.close();
  } finally {
    await redisKeys.release();
    await stopInfra();
  }
}

const task = process.argv.includes('--generator') ? process.env['FRAUD_BENCH_TASK'] : undefined;
(task ? generator(JSON.parse(task) as GeneratorTask) : main()).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`fraud-bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
