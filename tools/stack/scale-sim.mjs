// Scale-out simulation on one machine with a real broker: while a steady stream of payments flows, fraud-check and
// settlement grow from 1 to 3 processes and back to 1, and instances are killed with SIGKILL. It then checks that
// nothing was lost or settled twice and measures how long consumer-group rebalances held messages up.
//
//   npm run sim:scale -- [--json FILE] [--short]      (starts its own stack; see tools/stack/cli.mjs)
//   npm test -- --layer scale                           (the short form, on the stack `npm test` started)
//
// How it measures:
//   lost            accepted by ingest but never final (the upstream's own status polling), plus signed payments
//                   never screened and approved payments never settled (read back from the topics)
//   double_settled  payments posted to the ledger more than once: two settled events with different postings, or
//                   a settlement batch whose posting count exceeds its distinct payments (Redis ledger)
//   duplicate_settled_events  the same settled event (same ce_id) published again after a redelivery: harmless,
//                   consumers de-duplicate, reported for information
//   pause           per stage, the time a message waited between its input and output topic (Kafka timestamps);
//                   the longest wait after each scale event is the pause that event's rebalance caused
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { freePort, log, sleep } from '../../deploy/local/process-utils.mjs';
import { repoRoot } from './stack.mjs';

const TOPIC = {
  signed: 'payrail.payments.signed.v1',
  screened: 'payrail.payments.screened.v1',
  settled: 'payrail.payments.settled.v1',
};

/** at: seconds after the stream starts. start = a new process joins; term = SIGTERM (graceful); kill = SIGKILL. */
// Events at the same second run together. A SIGKILL'd member keeps its partitions until its session times out
// (30 s, libs/messaging BatchConsumer), and any rebalance meanwhile waits for it too: kills come last or far apart
// so that each event's pause is measured in its own window.
export const SCHEDULES = {
  short: {
    rate: 25,
    durationS: 42,
    events: [
      { at: 6, action: 'start', instance: 'fraud-check-2' },
      { at: 6, action: 'start', instance: 'settlement-2' },
      { at: 15, action: 'start', instance: 'fraud-check-3' },
      { at: 15, action: 'start', instance: 'settlement-3' },
      { at: 25, action: 'term', instance: 'fraud-check-3' },
      { at: 25, action: 'term', instance: 'settlement-3' },
      { at: 34, action: 'term', instance: 'fraud-check-2' },
      { at: 34, action: 'kill', instance: 'settlement-2' },
    ],
  },
  long: {
    rate: 30,
    durationS: 160,
    events: [
      { at: 10, action: 'start', instance: 'fraud-check-2' },
      { at: 10, action: 'start', instance: 'settlement-2' },
      { at: 25, action: 'start', instance: 'fraud-check-3' },
      { at: 25, action: 'start', instance: 'settlement-3' },
      { at: 40, action: 'kill', instance: 'settlement-2' },
      { at: 85, action: 'kill', instance: 'fraud-check-2' },
      { at: 130, action: 'term', instance: 'fraud-check-3' },
      { at: 145, action: 'term', instance: 'settlement-3' },
    ],
  },
};

const serviceOf = (instance) => instance.replace(/-\d+$/, '');

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Reads the three topics from the first offset on, keeping what was produced since `sinceMs`. */
async function startObserver(client, sinceMs) {
  const { Kafka, logLevel } = await import('kafkajs');
  const kafka = new Kafka({ clientId: 'payrail-scale-sim', ...client, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `payrail-scale-sim-${randomBytes(4).toString('hex')}`, sessionTimeout: 30_000 });
  const seen = { signed: [], screened: [], settled: [] };
  const byTopic = Object.fromEntries(Object.entries(TOPIC).map(([k, v]) => [v, k]));
  await consumer.connect();
  await consumer.subscribe({ topics: Object.values(TOPIC), fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const ts = Number(message.timestamp);
      if (ts < sinceMs || !message.value) return;
      const value = JSON.parse(message.value.toString('utf8'));
      const eventId = message.headers?.ce_id?.toString();
      seen[byTopic[topic]].push({ ts, partition, eventId, paymentId: value.payment_id, decision: value.decision, merchantId: value.merchant_id, batchId: value.batch_id, postedAt: value.posted_at });
    },
  });
  return { seen, stop: () => consumer.disconnect() };
}

/** Per payment, the first time it appeared on a topic. */
function firstSeen(list) {
  const m = new Map();
  for (const e of list) if (!m.has(e.paymentId) || m.get(e.paymentId).ts > e.ts) m.set(e.paymentId, e);
  return m;
}

/** Stage latencies (input topic -> output topic) with the input's timestamp. */
function stageLatencies(inputs, outputs, filter = () => true) {
  const out = firstSeen(outputs);
  const rows = [];
  for (const [paymentId, input] of firstSeen(inputs)) {
    if (!filter(input)) continue;
    const o = out.get(paymentId);
    if (o) rows.push({ inputTs: input.ts, latencyMs: Math.max(0, o.ts - input.ts) });
  }
  return rows;
}

function summarizeLatencies(rows) {
  const sorted = rows.map((r) => r.latencyMs).sort((a, b) => a - b);
  return { count: sorted.length, p50_ms: percentile(sorted, 50), p99_ms: percentile(sorted, 99), max_ms: sorted.at(-1) ?? 0 };
}

/** Checks the Redis ledger: every batch's posting count equals its distinct payments (a double posting would not). */
async function ledgerCheck(redisUrl, keyPrefix, settled) {
  const { default: Redis } = await import('ioredis');
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  try {
    const batches = new Map();
    for (const e of settled) batches.set(`${e.merchantId}|${e.batchId}`, { merchantId: e.merchantId, batchId: e.batchId });
    let overcounted = 0;
    let missing = 0;
    const distinct = new Map();
    for (const e of settled) distinct.set(e.paymentId, e);
    for (const { merchantId, batchId } of batches.values()) {
      const base = `${keyPrefix}ledger:{${merchantId}}:batch:${batchId}`;
      const [count, members] = await Promise.all([redis.hget(base, 'count'), redis.scard(`${base}:payments`)]);
      if (Number(count) > members) overcounted++;
    }
    for (const e of distinct.values()) {
      const posted = await redis.sismember(`${keyPrefix}ledger:{${e.merchantId}}:batch:${e.batchId}:payments`, e.paymentId);
      if (posted !== 1) missing++;
    }
    return { batches_checked: batches.size, batches_overcounted: overcounted, settled_not_in_ledger: missing };
  } finally {
    redis.disconnect();
  }
}

/** `npm run sim:scale`: its own stack (build, Kafka, Redis, keys, topics, the four services), the long schedule. */
export async function runScaleCommand({ json, short }) {
  const { Stack } = await import('./stack.mjs');
  const stack = new Stack({ name: 'sim-scale' });
  stack.installSignalHandlers();
  try {
    stack.build();
    await stack.startInfra();
    stack.devSetup();
    stack.ensureTopics();
    await stack.allocatePorts({ preferWellKnown: false });
    await stack.startServices();
    const report = await runScaleSimulation(stack, { schedule: short ? SCHEDULES.short : SCHEDULES.long, json });
    return report.ok ? 0 : 1;
  } finally {
    await stack.stop();
  }
}

/**
 * Runs the simulation on a stack whose infrastructure and four services are running (tools/stack/stack.mjs).
 * Returns the report; `report.ok` is true when nothing was lost or settled twice.
 */
export async function runScaleSimulation(stack, { schedule = SCHEDULES.short, json } = {}) {
  const runDir = join(stack.runDir, 'scale-sim');
  mkdirSync(runDir, { recursive: true });
  const t0 = Date.now();
  const observer = await startObserver(stack.kafkaClientConfig(), t0);
  const streamOut = join(runDir, `stream-${t0}.json`);
  const upstreams = readdirSync(stack.keys.upstreamKeysDir).sort();
  log(`scale-sim: stream of ${schedule.rate} payments/s for ${schedule.durationS} s; ${schedule.events.length} scale events`);
  const stream = spawn(
    'node',
    ['-r', '@swc-node/register', 'tools/stack/payment-stream.ts', '--ingest', `http://127.0.0.1:${stack.ports.ingest}`, '--keys', stack.keys.upstreamKeysDir, '--upstreams', upstreams.join(','), '--rate', String(schedule.rate), '--duration', String(schedule.durationS), '--out', streamOut],
    { cwd: repoRoot, env: { ...process.env, SWC_NODE_PROJECT: join(repoRoot, 'tsconfig.base.json') }, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const streamDone = new Promise((resolve) => stream.once('exit', (code) => resolve(code ?? 1)));
  const streamStart = Date.now();

  const events = [];
  const running = (service) => [...stack.services.keys()].filter((i) => serviceOf(i) === service).length;
  const perform = async (event) => {
    const at = Date.now();
    const service = serviceOf(event.instance);
    if (event.action === 'start') {
      const entry = await stack.startService(service, { instance: event.instance, extraEnv: { HTTP_PORT: String(await freePort()) } });
      await stack.waitReady(entry);
      events.push({ ...event, t_s: (at - streamStart) / 1000, ready_after_ms: Date.now() - at, at });
    } else {
      await stack.stopService(event.instance, event.action === 'kill' ? 'SIGKILL' : 'SIGTERM');
      events.push({ ...event, t_s: (at - streamStart) / 1000, stopped_after_ms: Date.now() - at, at });
    }
    log(`scale-sim: t=${((at - streamStart) / 1000).toFixed(1)} s ${event.action} ${event.instance} done -> fraud-check x${running('fraud-check')}, settlement x${running('settlement')}`);
  };
  // each group of events waits for its time and for MIN_GAP_MS after the previous group finished (a slow start
  // on a loaded machine must not bunch the next events into the same rebalance window)
  const MIN_GAP_MS = 8000;
  let previousDone = 0;
  for (const at of [...new Set(schedule.events.map((e) => e.at))].sort((a, b) => a - b)) {
    const wait = Math.max(streamStart + at * 1000, previousDone + MIN_GAP_MS) - Date.now();
    if (wait > 0) await sleep(wait);
    await Promise.all(schedule.events.filter((e) => e.at === at).map(perform));
    previousDone = Date.now();
  }
  events.sort((a, b) => a.at - b.at);
  const streamCode = await streamDone;
  if (streamCode !== 0) throw new Error(`payment stream failed (exit ${streamCode})`);
  const upstream = JSON.parse(readFileSync(streamOut, 'utf8'));

  // the observer must have read every output before counting: wait until settled events stop arriving
  const approved = () => new Set(observer.seen.screened.filter((e) => e.decision === 'APPROVE').map((e) => e.paymentId));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const settledIds = new Set(observer.seen.settled.map((e) => e.paymentId));
    if ([...approved()].every((id) => settledIds.has(id)) && upstream.settled <= settledIds.size) break;
    await sleep(500);
  }
  await sleep(1000);
  await observer.stop();

  const { signed, screened, settled } = observer.seen;
  const screenedIds = new Set(screened.map((e) => e.paymentId));
  const settledIds = new Set(settled.map((e) => e.paymentId));
  const lostAtFraudCheck = [...new Set(signed.map((e) => e.paymentId))].filter((id) => !screenedIds.has(id));
  const lostAtSettlement = [...approved()].filter((id) => !settledIds.has(id));
  const postings = new Map();
  for (const e of settled) {
    const set = postings.get(e.paymentId) ?? new Set();
    set.add(`${e.batchId}|${e.postedAt}`);
    postings.set(e.paymentId, set);
  }
  const doubleSettledEvents = [...postings.values()].filter((s) => s.size > 1).length;
  const eventIds = settled.map((e) => e.eventId);
  const duplicateSettledEvents = eventIds.length - new Set(eventIds).size;
  const ledger = await ledgerCheck(stack.infra.redisUrl, stack.infra.redisKeyPrefix, settled);

  const fraudRows = stageLatencies(signed, screened);
  const settleRows = stageLatencies(screened, settled, (e) => e.decision === 'APPROVE');
  const firstEventAt = events[0]?.at ?? Date.now();
  const window = (rows, from, to) => rows.filter((r) => r.inputTs >= from && r.inputTs < to);
  const perEvent = events.map((e, i) => {
    const next = events.slice(i + 1).find((n) => n.at > e.at + 2000)?.at;
    const to = next === undefined ? Date.now() : next - 3000;
    const service = serviceOf(e.instance);
    const rows = service === 'fraud-check' ? fraudRows : settleRows;
    const w = summarizeLatencies(window(rows, e.at - 1000, to));
    return { t_s: Math.round(e.t_s * 10) / 10, action: e.action, instance: e.instance, max_wait_ms: w.max_ms, p99_ms: w.p99_ms };
  });
  const rebalancePause = (actions) => Math.max(0, ...perEvent.filter((e) => actions.includes(e.action)).map((e) => e.max_wait_ms));

  const report = {
    schedule: { rate_per_s: schedule.rate, duration_s: schedule.durationS, events: events.map(({ at: _at, ...e }) => e) },
    upstream: { submitted: upstream.submitted, accepted: upstream.accepted, rejected: upstream.rejected, settled: upstream.settled, declined: upstream.declined, in_review: upstream.in_review, lost: upstream.lost, submit_per_s: upstream.submit_per_s },
    lost: upstream.lost + lostAtFraudCheck.length + lostAtSettlement.length,
    lost_detail: { not_final_at_ingest: upstream.lost, signed_never_screened: lostAtFraudCheck.length, approved_never_settled: lostAtSettlement.length },
    double_settled: doubleSettledEvents + ledger.batches_overcounted,
    duplicate_settled_events: duplicateSettledEvents,
    ledger,
    latency: {
      steady: { fraud_check: summarizeLatencies(window(fraudRows, 0, firstEventAt)), settlement: summarizeLatencies(window(settleRows, 0, firstEventAt)) },
      whole_run: { fraud_check: summarizeLatencies(fraudRows), settlement: summarizeLatencies(settleRows) },
    },
    pause_after_event: perEvent,
    longest_rebalance_pause_ms: {
      graceful_join_or_leave: rebalancePause(['start', 'term']),
      sigkill: rebalancePause(['kill']),
    },
  };
  // a submission that failed or timed out has an unknown outcome: the run proves nothing about it, so it fails
  report.ok = report.lost === 0 && report.double_settled === 0 && report.ledger.settled_not_in_ledger === 0 && upstream.accepted > 0 && upstream.rejected === 0;
  if (json) {
    mkdirSync(dirname(json), { recursive: true });
    writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  }
  printSummary(report);
  return report;
}

function printSummary(r) {
  log(`scale-sim: ${r.upstream.accepted} payments accepted (${r.upstream.submit_per_s}/s): ${r.upstream.settled} settled, ${r.upstream.declined} declined, ${r.upstream.in_review} in review`);
  log(`scale-sim: lost ${r.lost}, double-settled ${r.double_settled}, re-published settled events ${r.duplicate_settled_events}, ledger batches checked ${r.ledger.batches_checked}`);
  log(`scale-sim: steady stage wait p99 fraud-check ${r.latency.steady.fraud_check.p99_ms} ms, settlement ${r.latency.steady.settlement.p99_ms} ms`);
  for (const e of r.pause_after_event) log(`scale-sim:   t=${e.t_s} s ${e.action} ${e.instance}: longest wait ${e.max_wait_ms} ms`);
  log(`scale-sim: longest rebalance pause: graceful ${r.longest_rebalance_pause_ms.graceful_join_or_leave} ms, after SIGKILL ${r.longest_rebalance_pause_ms.sigkill} ms`);
  log(`scale-sim: ${r.ok ? 'OK' : 'FAILED'}`);
}
