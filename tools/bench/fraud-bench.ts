// Benchmark of fraud-check's screening at a fixed offered load: signed payments are published on the signed topic
// at --rate per second (open loop: on schedule, whatever the service does), a real fraud-check instance (the
// service's module, transport and consumer group, in this process) screens them with the default rule set
// against real Kafka and Redis, and the handler latency of every payment is recorded (verify the signature,
// velocity scripts, blocklists, evaluate, store the decision, publish it and wait for the broker's ack).
//
// Usage: npm run bench:fraud -- [--json FILE] [--rate 2000] [--seconds 20] [--warmup 3] [--cards 20000] [--e2e]
// Infrastructure: KAFKA_BROKERS and REDIS_URL when both are set, otherwise a Kafka broker and Redis started like
// `npm start` does (tools/stack) and stopped at the end. Writes {"per_s","p50_ms","p99_ms",...} and prints a summary.
import 'reflect-metadata';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { v7 as uuidv7 } from 'uuid';
import { CurrencyCode, PaymentInstruction, TOPICS } from '@payrail/contracts';
import { JwsSigner, PayrailKeyStore, generateDevKeys } from '@payrail/crypto';
import { EventProducer, createKafka, decode, ensureTopics } from '@payrail/messaging';
import { connectConsumerGroups } from '@payrail/messaging-nest';
import { FraudCheckAppModule } from '../../apps/fraud-check/src/app.module';
import { loadFraudCheckConfig } from '../../apps/fraud-check/src/config';
import { ScreenPaymentUseCase } from '../../apps/fraud-check/src/screening/screen-payment.use-case';

interface Options {
  json?: string;
  rate: number;
  seconds: number;
  warmup: number;
  cards: number;
  e2e: boolean;
}

function args(argv: string[]): Options {
  const o: Options = { rate: 2000, seconds: 20, warmup: 3, cards: 20_000, e2e: false };
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
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
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
        ? { type: 'card', fingerprint: `bench-card-${payer}`.padEnd(24, '_'), masked: '411111******1111', bin: '411111', country: m.country, expiry: '2029-01', protected_jwe: 'eyJhbGciOiJFQ0RILUVTK0EyNTZLVyJ9.a.b.c.d' }
        : { type: 'account', fingerprint: `bench-account-${payer}`.padEnd(24, '_'), masked: '******3000', country: 'DE', protected_jwe: 'eyJhbGciOiJFQ0RILUVTK0EyNTZLVyJ9.a.b.c.d' },
      payee: { merchant_id: m.merchant_id, mcc: m.mcc, country: m.country },
      context: { ip: `10.${Math.floor(i / 65536) % 256}.${Math.floor(random() * 20)}.${Math.floor(random() * 250)}`, country: m.country, device_id: `device-${Math.floor(random() * 5000)}` },
      upstream_verification: { kid: 'bench', alg: 'ES256', jti: randomUUID(), iat: Math.floor(startMs / 1000) },
    });
  }
  return out;
}

async function main(): Promise<void> {
  const o = args(process.argv.slice(2));
  const root = resolve(__dirname, '..', '..');
  let stopInfra: () => Promise<void> = async () => undefined;
  let brokers = process.env['KAFKA_BROKERS'];
  let redisUrl = process.env['REDIS_URL'];
  if (!brokers || !redisUrl) {
    const { Stack } = (await import('../stack/stack.mjs' as string)) as { Stack: new (o: { name: string }) => { installSignalHandlers(): void; startInfra(): Promise<{ kafkaBrokers: string; redisUrl: string }>; stop(): Promise<void> } };
    const stack = new Stack({ name: 'bench-fraud' });
    stack.installSignalHandlers();
    process.stderr.write('starting Kafka and Redis (tools/stack)...\n');
    const infra = await stack.startInfra();
    brokers = infra.kafkaBrokers;
    redisUrl = infra.redisUrl;
    stopInfra = () => stack.stop();
  }
  try {
    const kafka = createKafka({ brokers: brokers.split(','), clientId: 'payrail-bench', ssl: false }, { warn: () => undefined, error: () => undefined });
    await ensureTopics(kafka);

    const dir = mkdtempSync(join(tmpdir(), 'payrail-fraud-bench-'));
    const keys = await generateDevKeys({ alg: 'ES256', withEncryptionKey: false });
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify(keys.publicJwks));
    const signer = new JwsSigner(await PayrailKeyStore.fromJwks(keys.privateJwks, { source: 'bench keys' }));
    const rulesFile = join(root, 'apps/fraud-check/rules/ruleset.json');
    const config = loadFraudCheckConfig({
      KAFKA_BROKERS: brokers,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: `payrail-bench:${randomUUID().slice(0, 8)}:`,
      SIGNING_JWKS_FILE: join(dir, 'jwks.json'),
      RULES_FILE: rulesFile,
      LOG_LEVEL: 'silent',
    });

    // the load, signed and encoded up front so publishing costs little during the run
    const total = Math.round(o.rate * (o.warmup + o.seconds));
    const start = Date.now() + 15_000;
    const stream = payments(total, o.cards, start, 1000 / o.rate);
    process.stderr.write(`signing ${total} payment instructions...\n`);
    const producer = new EventProducer(kafka, { source: 'payrail/bench-signing', lingerMs: 2 });
    await producer.connect();
    const messages = stream.map((p) =>
      producer.encode(TOPICS.paymentsSigned, { payment_id: p.payment_id, kid: signer.kid, instruction_jws: signer.sign(p) }, { key: p.payer.fingerprint, correlationId: p.payment_id, eventId: `${p.payment_id}:signed` }),
    );

    const app = await NestFactory.create<NestFastifyApplication>(FraudCheckAppModule.forRoot(config), new FastifyAdapter(), { logger: false });
    connectConsumerGroups(app, 'fraudCheck');
    await app.listen(0, '127.0.0.1');
    await app.startAllMicroservices();

    // handler latency: the use case the screening handler calls, timed around each call
    const useCase = app.get(ScreenPaymentUseCase);
    const execute = useCase.execute.bind(useCase);
    const handled = new Map<string, { ms: number; doneAt: number }>();
    useCase.execute = async (signed, trace) => {
      const t = process.hrtime.bigint();
      const result = await execute(signed, trace);
      handled.set(signed.payment_id, { ms: Number(process.hrtime.bigint() - t) / 1e6, doneAt: Date.now() });
      return result;
    };
    const received = new Map<string, number>();
    const reader = o.e2e ? kafka.consumer({ groupId: `payrail-bench-reader-${randomUUID()}`, maxWaitTimeInMs: 20 }) : undefined;
    if (reader) {
      await reader.connect();
      await reader.subscribe({ topic: TOPICS.paymentsScreened.name, fromBeginning: false });
      await reader.run({ eachMessage: async ({ message }) => void received.set((decode(TOPICS.paymentsScreened, message).data as { payment_id: string }).payment_id, Date.now()) });
    }

    // let the consumer join its group before the clock starts
    const warm = async () => {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const res = await fetch(`http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}/health/ready`);
        if (res.status === 200) return;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error('fraud-check not ready');
    };
    await warm();
    await new Promise((r) => setTimeout(r, Math.max(0, start - Date.now())));

    process.stderr.write(`offering ${o.rate} payments/s for ${o.warmup + o.seconds} s (first ${o.warmup} s are warm-up)...\n`);
    const sentAt: number[] = new Array(total);
    const tickMs = 10;
    const perTick = (o.rate * tickMs) / 1000;
    const began = Date.now();
    let sent = 0;
    for (let tick = 1; sent < total; tick++) {
      const due = Math.min(total, Math.round(perTick * tick));
      const now = Date.now();
      for (; sent < due; sent++) {
        sentAt[sent] = now;
        const m = messages[sent];
        if (m) void producer.publishRaw(TOPICS.paymentsSigned.name, m);
      }
      const wait = began + tick * tickMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const offeredSeconds = (Date.now() - began) / 1000;
    const deadline = Date.now() + 120_000;
    while (handled.size < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));

    const warmupCount = Math.round(o.rate * o.warmup);
    const measured = stream.slice(warmupCount).map((p) => handled.get(p.payment_id));
    const done = measured.filter((x): x is { ms: number; doneAt: number } => x !== undefined);
    const latencies = done.map((d) => d.ms).sort((a, b) => a - b);
    const firstSent = sentAt[warmupCount] ?? began;
    const lastDone = Math.max(...done.map((d) => d.doneAt));
    const e2e = stream.slice(warmupCount).flatMap((p, i) => {
      const at = received.get(p.payment_id);
      return at === undefined ? [] : [at - (sentAt[warmupCount + i] ?? at)];
    }).sort((a, b) => a - b);
    const result = {
      per_s: Math.round(done.length / ((lastDone - firstSent) / 1000)),
      p50_ms: round(quantile(latencies, 0.5)),
      p99_ms: round(quantile(latencies, 0.99)),
      p999_ms: round(quantile(latencies, 0.999)),
      max_ms: round(latencies[latencies.length - 1] ?? NaN),
      offered_per_s: o.rate,
      achieved_offer_per_s: Math.round(total / offeredSeconds),
      measured_payments: measured.length,
      decided: done.length,
      lost: total - handled.size,
      seconds: o.seconds,
      ...(o.e2e ? { e2e_p50_ms: round(quantile(e2e, 0.5)), e2e_p99_ms: round(quantile(e2e, 0.99)) } : {}),
      ruleset: JSON.parse(readFileSync(rulesFile, 'utf8')).version as string,
      node: process.version,
      cpus: cpus().length,
      infra: process.env['KAFKA_BROKERS'] && process.env['REDIS_URL'] ? 'given' : 'tools/stack',
    };
    if (o.json) {
      mkdirSync(dirname(resolve(o.json)), { recursive: true });
      writeFileSync(o.json, `${JSON.stringify(result, null, 2)}\n`);
    }
    process.stdout.write(
      `fraud-check at ${o.rate}/s offered (${result.achieved_offer_per_s}/s sent) for ${o.seconds} s after ${o.warmup} s warm-up, ${result.cpus} CPUs, ${result.node}\n` +
        `  decisions/s ${result.per_s}   handler latency p50 ${result.p50_ms} ms  p99 ${result.p99_ms} ms  p99.9 ${result.p999_ms} ms  max ${result.max_ms} ms   (goal p99 <= 10 ms)\n` +
        (o.e2e ? `  published -> screened received: p50 ${result.e2e_p50_ms} ms  p99 ${result.e2e_p99_ms} ms\n` : '') +
        `  decided ${result.decided}/${result.measured_payments} measured, lost ${result.lost}${o.json ? `; written to ${o.json}` : ''}\n`,
    );
    await reader?.disconnect();
    await producer.disconnect();
    await app.close();
  } finally {
    await stopInfra();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`fraud-bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
