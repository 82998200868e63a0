// `npm run bench:ingest -- [--json FILE] [--requests N] [--warmup N] [--concurrency N] [--kafka BROKERS] [--cpu-prof DIR]`
//
// Drives ingest alone: one real ingest process (dist/apps/ingest/main.js, built here if needed) on real Kafka and
// Redis, fed with pre-signed payments (ES256 compact JWS, each with its own jti and Idempotency-Key, cards and
// accounts) over HTTP by undici with `concurrency` requests in flight. Writes {"req_per_s","p50_ms","p99_ms",...}
// to FILE and prints a summary. Kafka: --kafka (or KAFKA_BROKERS) reuses a broker, otherwise one is started and
// stopped like `npm test` does; Redis: REDIS_URL or a local one. --cpu-prof DIR: the ingest process runs with
// node's --cpu-prof (the stack's PAYRAIL_CPU_PROF_DIR, as `npm run bench -- --profile`) and writes a V8 CPU profile
// of its whole run into DIR/ingest/ when it stops (open it in Chrome DevTools or read its JSON). A benchmark, not a test: it asserts nothing about
// speed, but exits 1 if a request was not accepted (a fast wrong answer is no result).
import { createHash, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { log } from '../../deploy/local/process-utils.mjs';
import { Stack } from '../stack/stack.mjs';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    json: { type: 'string' },
    requests: { type: 'string', default: '60000' },
    warmup: { type: 'string', default: '6000' },
    concurrency: { type: 'string', default: '64' },
    kafka: { type: 'string', default: process.env.KAFKA_BROKERS },
    'cpu-prof': { type: 'string' },
  },
});
const requests = Number(values.requests);
const warmup = Number(values.warmup);
const concurrency = Number(values.concurrency);
if (!(requests > 0 && warmup >= 0 && concurrency > 0)) throw new Error('--requests, --warmup and --concurrency must be positive');

const b64u = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

function luhnComplete(partial) {
  let sum = 0;
  for (let i = 0; i < partial.length; i++) {
    let d = Number(partial[partial.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return `${partial}${(10 - (sum % 10)) % 10}`;
}

/** The merchants bench payments go to (payment i pays the merchant i % 16): what the bench upstream may pay. */
const BENCH_MERCHANTS = Array.from({ length: 16 }, (_, i) => `m-bench-${i}`);

/** An upstream: its ES256 key pair, registered in ingest's UPSTREAMS_DIR with limits far above the load. */
function benchUpstream(upstreamsDir) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const kid = createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest('base64url');
  const id = 'bench-upstream';
  mkdirSync(upstreamsDir, { recursive: true });
  const registration = { upstream_id: id, jwks: { keys: [{ ...jwk, kid, use: 'sig', alg: 'ES256' }] }, algorithms: ['ES256'], merchants: BENCH_MERCHANTS, limits: { requests_per_second: 100000, burst: 100000 } };
  writeFileSync(join(upstreamsDir, `${id}.json`), JSON.stringify(registration, null, 2));
  const header = b64u({ alg: 'ES256', kid, typ: 'payrail-payment+jws' }); // typ is required (SIGNED_PAYMENT_JWS_TYPE)
  return {
    /** What an upstream sends: compact JWS over {jti, iat, payment}. */
    signPayment(i) {
      const card = i % 10 < 7;
      const payment = {
        upstream_reference: `bench-${i}`,
        amount: { minor: String(100 + (i % 50_000)), currency: 'EUR' },
        payer: card
          ? { type: 'card', card: { number: luhnComplete(`411111${String(i).padStart(9, '0')}`), expiry_month: 1 + (i % 12), expiry_year: 2030, country: 'DE' } }
          : { type: 'account', account: { number: `DE8937040044${String(i).padStart(10, '0')}`, country: 'DE' } },
        payee: { merchant_id: BENCH_MERCHANTS[i % 16], mcc: '5814', country: 'DE' },
        context: { ip: `203.0.113.${i % 250}`, country: 'DE', device_id: `device-${i % 97}` },
      };
      const input = `${header}.${b64u({ jti: randomUUID(), iat: Math.floor(Date.now() / 1000), payment })}`;
      return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
    },
  };
}

/** CPU seconds a process has used (Linux /proc; undefined elsewhere): a figure the neighbours' load does not change much. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
  } catch {
    return undefined;
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Sends bodies[from, to) with `concurrency` in flight; returns per-request latencies (ms) and status counts. */
async function drive(pool, bodies, from, to) {
  const latencies = new Float64Array(to - from);
  const statuses = new Map();
  let next = from;
  const worker = async () => {
    for (let i = next++; i < to; i = next++) {
      const started = process.hrtime.bigint();
      const res = await pool.request({
        method: 'POST',
        path: '/v1/payments',
        headers: { 'content-type': 'application/jose', 'idempotency-key': `bench-key-${i}` },
        body: bodies[i],
      });
      await res.body.dump();
      latencies[i - from] = Number(process.hrtime.bigint() - started) / 1e6;
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { latencies: latencies.sort(), statuses, seconds };
}

async function main() {
  const stack = new Stack({ name: 'bench' });
  stack.installSignalHandlers();
  try {
    if (values.kafka) {
      const redis = await stack.startRedis(); // a shared Redis: this run's prefix, its keys removed on stop
      stack.infra = { kafkaBrokers: values.kafka, redisUrl: redis.url, redisKeyPrefix: redis.prefix, mode: 'reused' };
      log(`reusing Kafka at ${values.kafka}, Redis at ${redis.url}`);
    } else {
      await stack.startInfra();
    }
    stack.build();
    stack.devSetup();
    stack.ensureTopics();
    const upstream = benchUpstream(stack.keys.upstreamsDir);
    await stack.allocatePorts({ preferWellKnown: false });
    // the stack starts the service with --cpu-prof into DIR/<instance> (tools/stack/stack.mjs startService)
    if (values['cpu-prof']) process.env.PAYRAIL_CPU_PROF_DIR = resolve(values['cpu-prof']);
    const ingest = await stack.startService('ingest', { extraEnv: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' } });
    await stack.waitReady(ingest);

    log(`signing ${warmup + requests} payments`);
    const bodies = Array.from({ length: warmup + requests }, (_, i) => upstream.signPayment(i));
    const pool = new Pool(`http://127.0.0.1:${ingest.port}`, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
    log(`warm-up: ${warmup} requests`);
    const warm = await drive(pool, bodies, 0, warmup);
    log(`measuring: ${requests} requests, ${concurrency} in flight`);
    const loadBefore = loadavg()[0];
    const ingestCpuBefore = cpuSeconds(ingest.child.pid);
    const benchCpuBefore = process.cpuUsage();
    const run = await drive(pool, bodies, warmup, warmup + requests);
    const ingestCpuAfter = cpuSeconds(ingest.child.pid);
    const benchCpu = process.cpuUsage(benchCpuBefore);
    await pool.close();

    const accepted = run.statuses.get(202) ?? 0;
    const result = {
      req_per_s: Math.round(requests / run.seconds),
      p50_ms: Number(percentile(run.latencies, 50).toFixed(2)),
      p99_ms: Number(percentile(run.latencies, 99).toFixed(2)),
      p999_ms: Number(percentile(run.latencies, 99.9).toFixed(2)),
      max_ms: Number(run.latencies[run.latencies.length - 1].toFixed(2)),
      requests,
      accepted,
      statuses: Object.fromEntries(run.statuses),
      concurrency,
      ingest_cpu_ms_per_req: ingestCpuBefore === undefined || ingestCpuAfter === undefined ? null : Number((((ingestCpuAfter - ingestCpuBefore) * 1000) / requests).toFixed(3)),
      client_cpu_ms_per_req: Number(((benchCpu.user + benchCpu.system) / 1000 / requests).toFixed(3)),
      duration_s: Number(run.seconds.toFixed(2)),
      warmup_req_per_s: Math.round(warmup / Math.max(warm.seconds, 1e-9)),
      node: process.version,
      cpus: cpus().length,
      loadavg_1m: [Number(loadBefore.toFixed(2)), Number(loadavg()[0].toFixed(2))],
      at: new Date().toISOString(),
    };
    const summary = [
      `ingest bench: ${requests} signed payments (Idempotency-Key each), ${concurrency} in flight, node ${process.version}, ${cpus().length} CPUs, load ${result.loadavg_1m.join(' -> ')}`,
      `  ${result.req_per_s} req/s   p50 ${result.p50_ms} ms   p99 ${result.p99_ms} ms   p99.9 ${result.p999_ms} ms   max ${result.max_ms} ms`,
      `  CPU per request: ingest ${result.ingest_cpu_ms_per_req} ms, load generator ${result.client_cpu_ms_per_req} ms`,
      `  statuses ${JSON.stringify(result.statuses)}   goal: >= 3000 req/s with p99 < 50 ms -> ${result.req_per_s >= 3000 && result.p99_ms < 50 ? 'met' : 'not met'}`,
    ];
    process.stdout.write(`${summary.join('\n')}\n`);
    if (values.json) {
      writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
      process.stdout.write(`wrote ${values.json}\n`);
    }
    if (accepted !== requests) {
      log(`${requests - accepted} requests were not accepted; see ${ingest.logFile}:\n${readFileSync(ingest.logFile, 'utf8').split('\n').slice(-20).join('\n')}`);
      process.exitCode = 1;
    }
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  log(`bench failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
