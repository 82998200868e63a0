// Chaos test: while payments flow, SIGKILL service instances (every service in turn, a random instance of it)
// and restart them, restart the Kafka broker once and Redis once (empty, as after a crash: it keeps nothing on
// disk). After the Redis loss, upstreams retry requests that were accepted before it (same bytes, same
// Idempotency-Key) and must get the same payment; settlement restores its ledger from Kafka by itself, and a
// `payrail settlement rebuild` must then find nothing that differs from Kafka's facts (batch reports included).
// It fails on anything lost or settled twice, an unbalanced or unreconciled ledger, any rebuild discrepancy, any
// unexpected answer to an upstream, or an upstream request that became two payments or was settled twice.
//
//   npm run test:chaos -- --json FILE [--payments 20000] [--rate 300] [--kill-every-s 6] [--min-kills 8]
//                         [--retries-after-loss 400] [--short]
// Kills go on after the stream ends (the backlog drains through them) until --min-kills were done (short: 4, long:
// 8, so every service twice) and every service was killed at least once.
//
// Runs its own stack (like `npm start`) with two instances of fraud-check and of settlement and a private Redis.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { TOPICS } from '@payrail/contracts';
import { Pipeline, Submitter, drain, observe, prepare, sleep } from './lib/load';
import type { ServiceEntry, Stack as StackType } from '../stack/stack.mjs';
import { repoRoot } from './lib/repo';

interface Options {
  json: string;
  payments: number;
  rate: number;
  killEveryS: number;
  minKills: number;
  retriesAfterLoss: number;
}

function options(): Options {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      json: { type: 'string' },
      payments: { type: 'string' },
      rate: { type: 'string' },
      'kill-every-s': { type: 'string' },
      'retries-after-loss': { type: 'string' },
      'min-kills': { type: 'string' },
      short: { type: 'boolean', default: false },
    },
  });
  const short = values.short ?? false;
  const o: Options = {
    json: resolve(values.json ?? 'bench/results/chaos.json'),
    payments: Number(values.payments ?? (short ? 3_000 : 20_000)),
    rate: Number(values.rate ?? (short ? 150 : 300)),
    killEveryS: Number(values['kill-every-s'] ?? (short ? 5 : 6)),
    retriesAfterLoss: Number(values['retries-after-loss'] ?? (short ? 100 : 400)),
    minKills: Number(values['min-kills'] ?? (short ? 4 : 8)),
  };
  for (const [k, v] of Object.entries(o)) if (typeof v === 'number' && !(v > 0)) throw new Error(`--${k} must be a positive number`);
  return o;
}

const log = (line: string) => process.stderr.write(`[chaos] ${line}\n`);

/** Payments submitted at a steady rate by `rate`-paced workers that retry like an upstream (same request, same key). */
async function submitAll(submitter: Submitter, queue: Awaited<ReturnType<typeof prepare>>, rate: number, progress: (sent: number) => void): Promise<void> {
  const start = Date.now();
  let sent = 0;
  const pending = new Set<Promise<void>>();
  // a duplicate or a replay goes out once its original has its answer: a copy of a token that overtakes the
  // original (possible only while the original is being retried) would make the original a replay
  const originals = new Map<string, Promise<void>>();
  while (sent < queue.length) {
    const due = Math.min(queue.length, Math.floor(((Date.now() - start) / 1000) * rate));
    while (sent < due && pending.size < 2_000) {
      const p = queue[sent++];
      if (!p) continue;
      const original = p.kind === 'new' ? undefined : originals.get(p.jws);
      const promise = (original ? original.then(() => submitter.submit(p)) : submitter.submit(p)).finally(() => pending.delete(promise));
      if (p.kind === 'new') originals.set(p.jws, promise);
      pending.add(promise);
    }
    progress(sent);
    await sleep(5);
  }
  await Promise.all(pending);
}

interface KafkaStates {
  /** settled: settled events (a redelivery re-publishes the same one); settlements: distinct facts (batch, fee, net, time). */
  payments: Map<string, { decisions: Set<string>; settled: number; settlements: Set<string> }>;
  /** Per upstream request as Kafka saw it (upstream id + its unique upstream_reference): the payment ids accepted. */
  paymentIdsByReference: Map<string, Set<string>>;
}

/** Every payment's final states as Kafka holds them (accepted, screened decisions and settled events), read from the start. */
async function finalStatesFromKafka(client: { brokers: string[]; sasl?: SASLOptions }): Promise<KafkaStates> {
  const kafka = new Kafka({ clientId: 'payrail-chaos-audit', ...client, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const topics = [TOPICS.paymentsAccepted.name, TOPICS.paymentsScreened.name, TOPICS.paymentsSettled.name];
  const remaining = new Map<string, number>();
  for (const topic of topics) {
    for (const p of await admin.fetchTopicOffsets(topic)) {
      const left = Number(p.high) - Number(p.low);
      if (left > 0) remaining.set(`${topic}:${p.partition}`, Number(p.high));
    }
  }
  await admin.disconnect();
  const states = new Map<string, { decisions: Set<string>; settled: number; settlements: Set<string> }>();
  const paymentIdsByReference = new Map<string, Set<string>>();
  if (remaining.size === 0) return { payments: states, paymentIdsByReference };
  const consumer = kafka.consumer({ groupId: `payrail-chaos-audit-${Date.now()}`, maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => (done = r));
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        if (!m.value) continue;
        const data = JSON.parse(m.value.toString('utf8')) as { payment_id?: string; decision?: string; upstream_id?: string; upstream_reference?: string; batch_id?: string; fee?: { minor?: string }; net?: { minor?: string }; posted_at?: string };
        if (!data.payment_id) continue;
        if (batch.topic === TOPICS.paymentsAccepted.name) {
          const reference = `${data.upstream_id ?? '?'}/${data.upstream_reference ?? '?'}`;
          const ids = paymentIdsByReference.get(reference) ?? new Set<string>();
          ids.add(data.payment_id);
          paymentIdsByReference.set(reference, ids);
          continue;
        }
        const s = states.get(data.payment_id) ?? { decisions: new Set<string>(), settled: 0, settlements: new Set<string>() };
        if (batch.topic === TOPICS.paymentsSettled.name) {
          s.settled++;
          s.settlements.add(`${data.batch_id ?? '?'} ${data.fee?.minor ?? '?'} ${data.net?.minor ?? '?'} ${data.posted_at ?? '?'}`);
        }
        else if (data.decision) s.decisions.add(data.decision);
        states.set(data.payment_id, s);
      }
      const key = `${batch.topic}:${batch.partition}`;
      const high = remaining.get(key);
      if (high !== undefined && Number(batch.lastOffset()) + 1 >= high) remaining.delete(key);
      if (remaining.size === 0) done();
    },
  });
  await Promise.race([finished, sleep(120_000)]);
  await consumer.disconnect();
  return { payments: states, paymentIdsByReference };
}

interface InvariantReport {
  ok: boolean;
  currencySums: Record<string, string>;
  violations: { invariant: string; paymentId?: string; detail: string }[];
}

interface LedgerReport {
  ok: boolean;
  discrepancies?: { kind: string; paymentId?: string; detail: string }[];
  invariants?: InvariantReport;
}

/** Runs `payrail settlement <command>` against this stack (exit 1 means it found problems: its JSON says which). */
function settlementCommand(stack: StackType, command: 'check' | 'reconcile' | 'rebuild'): LedgerReport {
  // as the settlement principal: the ledger's restore and reconcile read what settlement may read, nothing more
  const env = { ...process.env, ...stack.infraEnv(), ...stack.kafkaEnv('payrail-settlement'), ...stack.sealEnv('payrail-cli'), SIGNING_JWKS_URL: `http://127.0.0.1:${stack.ports['signing']}/.well-known/jwks.json` };
  const res = spawnSync('node', ['dist/apps/payrail-cli/main.js', 'settlement', command], { cwd: repoRoot, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (res.status !== 0 && res.status !== 1) throw new Error(`payrail settlement ${command} failed (exit ${res.status}): ${res.stderr}`);
  if (res.stderr) log(res.stderr.trim().split('\n').slice(0, 20).join('\n'));
  return JSON.parse(res.stdout) as LedgerReport;
}

async function main(): Promise<void> {
  const o = options();
  const { Stack } = (await import('../stack/stack.mjs')) as { Stack: typeof StackType };
  const stack = new Stack({ name: 'chaos', privateRedis: true });
  stack.installSignalHandlers();
  const events: string[] = [];
  const note = (line: string) => {
    events.push(`${new Date().toISOString()} ${line}`);
    log(line);
  };
  try {
    await stack.up({ preferWellKnown: false });
    for (const name of ['fraud-check', 'settlement']) await stack.addInstance(name, `${name}-2`);
    const ingestPort = stack.ports['ingest'];
    if (!ingestPort) throw new Error('ingest has no port');
    log(`pre-signing ${o.payments} payments`);
    const queue = await prepare(stack.keys.upstreamKeysDir, `http://127.0.0.1:${ingestPort}`, o.payments, 7);
    const pipeline = new Pipeline(Date.now());
    const stopObserving = await observe(stack.kafkaClientConfig(), pipeline);
    const submitter = new Submitter(ingestPort, pipeline, 20);

    let kills = 0;
    const killed = new Set<string>();
    // every service in turn (a shuffled order), a random instance of it: each is killed at least once
    const turns = shuffled(['ingest', 'signing', 'fraud-check', 'settlement']);
    let retriedAfterLoss = 0;
    let kafkaRestarted = false;
    let redisRestarted = false;
    let rebuild: LedgerReport | undefined;
    let sent = 0;
    let submitting = true;
    const chaos = (async () => {
      let nextKill = Date.now() + o.killEveryS * 1000;
      // the broker and Redis restarts happen once each, also when the stream ended before their turn came
      while (submitting || !kafkaRestarted || !redisRestarted || killed.size < turns.length || kills < o.minKills) {
        await sleep(200);
        if (!kafkaRestarted && (sent >= o.payments * 0.3 || !submitting)) {
          kafkaRestarted = true;
          note('restarting the Kafka broker');
          await stack.restartKafka();
          note('Kafka broker back');
        } else if (!redisRestarted && (sent >= o.payments * 0.6 || !submitting)) {
          redisRestarted = true;
          note('restarting Redis (empty)');
          await stack.restartRedis();
          // upstreams retry requests accepted before the loss, same bytes and key: the same payment, every time
          const before = shuffled(queue.filter((p) => p.kind === 'new' && submitter.paymentIdsByRequest.has(p.idempotencyKey))).slice(0, o.retriesAfterLoss);
          note(`Redis back (empty); retrying ${before.length} requests accepted before the loss`);
          await Promise.all(before.map((p) => submitter.submit(p)));
          retriedAfterLoss = before.length;
          rebuild = settlementCommand(stack, 'rebuild');
          note(`ledger rebuilt from Kafka on demand after the service's own restore (${rebuild.discrepancies?.length ?? 0} discrepancies)`);
        } else if (Date.now() >= nextKill) {
          const service = turns[kills % turns.length];
          const victims = [...stack.services.values()].filter((s) => s.name === service);
          const victim: ServiceEntry | undefined = victims[Math.floor(Math.random() * victims.length)];
          if (!victim) continue;
          note(`SIGKILL ${victim.instance}`);
          await stack.stopService(victim.instance, 'SIGKILL');
          kills++;
          killed.add(victim.name);
          await sleep(500 + Math.random() * 1500);
          await stack.restartInstance(victim);
          note(`${victim.instance} restarted`);
          nextKill = Date.now() + o.killEveryS * 1000;
        }
      }
    })();
    await submitAll(submitter, queue, o.rate, (n) => (sent = n));
    submitting = false;
    await chaos;
    note(`submitted ${sent}; accepted ${pipeline.responses.accepted}; waiting for every accepted payment to be final`);
    const pendingAfterDrain = await drain(pipeline, 180_000);
    submitter.close();
    await stopObserving();

    const kafka = await finalStatesFromKafka(stack.kafkaClientConfig());
    const kafkaStates = kafka.payments;
    let lost = 0;
    let doubleSettledEvents = 0;
    let conflicting = 0;
    // one upstream request, at most one payment: as the upstream was answered, and as Kafka accepted it
    let paymentsPerRequestMax = 0;
    for (const ids of submitter.paymentIdsByRequest.values()) paymentsPerRequestMax = Math.max(paymentsPerRequestMax, ids.size);
    let settlementsPerRequestMax = 0;
    const splitRequests: string[] = [];
    for (const [reference, ids] of kafka.paymentIdsByReference) {
      paymentsPerRequestMax = Math.max(paymentsPerRequestMax, ids.size);
      if (ids.size > 1) splitRequests.push(`${reference}: ${[...ids].join(', ')}`);
      let settlements = 0;
      for (const id of ids) settlements += kafkaStates.get(id)?.settlements.size ?? 0;
      settlementsPerRequestMax = Math.max(settlementsPerRequestMax, settlements);
    }
    for (const id of pipeline.outcomes.keys()) {
      const s = kafkaStates.get(id);
      if (!s || (s.settled === 0 && !s.decisions.has('DECLINE') && !s.decisions.has('REVIEW'))) {
        lost++;
        continue;
      }
      if (s.settled > 1) doubleSettledEvents++;
      if (s.settled > 0 && s.decisions.has('DECLINE')) conflicting++;
    }
    const reconcile = settlementCommand(stack, 'reconcile');
    const invariants = reconcile.invariants;
    const result = {
      payments: o.payments,
      accepted: pipeline.responses.accepted,
      kills,
      services_killed: [...killed].sort(),
      kafka_restarts: kafkaRestarted ? 1 : 0,
      redis_restarts: redisRestarted ? 1 : 0,
      lost,
      pending_after_drain: pendingAfterDrain,
      double_settled: invariants ? invariants.violations.filter((v) => v.invariant === 'posted_twice').length : Number.NaN,
      settled_events_repeated: doubleSettledEvents,
      conflicting_final_states: conflicting,
      ledger_balanced: invariants !== undefined && Object.values(invariants.currencySums).every((sum) => sum === '0') && !invariants.violations.some((v) => v.invariant === 'balance_sum'),
      reconciliation_clean: reconcile.ok,
      upstream_retries: submitter.retries,
      retried_after_redis_loss: retriedAfterLoss,
      payments_per_upstream_request_max: paymentsPerRequestMax,
      settlements_per_upstream_request_max: settlementsPerRequestMax,
      split_requests: splitRequests.slice(0, 50),
      responses: pipeline.responses,
      unexpected_responses: pipeline.unexpected,
      currency_sums: invariants?.currencySums,
      discrepancies: reconcile.discrepancies?.slice(0, 50),
      invariant_violations: invariants?.violations.slice(0, 50),
      rebuild_discrepancies: rebuild?.discrepancies?.slice(0, 50) ?? ['no rebuild ran'],
      events,
    };
    mkdirSync(dirname(o.json), { recursive: true });
    writeFileSync(o.json, `${JSON.stringify(result, null, 2)}\n`);
    const failures = [
      !kafkaRestarted && 'the broker was not restarted',
      !redisRestarted && 'Redis was not restarted',
      killed.size < turns.length && `not every service was killed (${[...killed].join(', ')})`,
      kills < o.minKills && `${kills} kills, fewer than ${o.minKills}`,
      lost > 0 && `${lost} payments lost`,
      result.double_settled !== 0 && `double settled ${result.double_settled}`,
      conflicting > 0 && `${conflicting} payments settled and declined`,
      !result.ledger_balanced && 'ledger not balanced',
      !result.reconciliation_clean && 'reconciliation not clean',
      result.rebuild_discrepancies.length > 0 && `${rebuild?.discrepancies?.length ?? 'no'} rebuild discrepancies`,
      Object.keys(pipeline.unexpected).length > 0 && `unexpected responses ${JSON.stringify(pipeline.unexpected)}`,
      paymentsPerRequestMax > 1 && `an upstream request became ${paymentsPerRequestMax} payments`,
      settlementsPerRequestMax > 1 && `an upstream request was settled ${settlementsPerRequestMax} times`,
      retriedAfterLoss === 0 && 'no request was retried after the Redis loss',
    ].filter((f): f is string => typeof f === 'string');
    process.stdout.write(
      `payrail chaos: ${result.accepted}/${o.payments} accepted, ${kills} kills (${result.services_killed.join(', ')}), ${result.kafka_restarts} broker and ${result.redis_restarts} Redis restarts, ${retriedAfterLoss} retries after the loss; lost ${lost}, double settled ${result.double_settled}, ` +
        `conflicting ${conflicting}, ledger balanced ${result.ledger_balanced}, reconciliation clean ${result.reconciliation_clean}, rebuild discrepancies ${rebuild?.discrepancies?.length ?? 'n/a'}, ` +
        `unexpected responses ${JSON.stringify(pipeline.unexpected)}, payments per upstream request max ${paymentsPerRequestMax}\n  wrote ${o.json}\n` +
        (failures.length > 0 ? `  FAILED: ${failures.join('; ')}\n` : ''),
    );
    const ok = failures.length === 0;
    process.exitCode = ok ? 0 : 1;
  } finally {
    await stack.stop();
  }
}

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    process.stderr.write(`chaos failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
