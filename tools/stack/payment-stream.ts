// A steady stream of demo payments for the scale-out simulation: submits at a fixed rate for a fixed time from the
// demo upstreams (the upstream SDK, as an upstream would), then follows every accepted payment to a final state.
// Run by tools/stack/scale-sim.mjs:
//   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/stack/payment-stream.ts \
//     --ingest URL --keys DIR --upstreams a,b --rate 30 --duration 40 --out FILE [--final-timeout 180] [--seed 11]
// Writes {submitted, accepted, rejected, settled, declined, in_review, lost, lost_ids, submit_per_s} to --out.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { UpstreamClient, demoPayment, prng } from '@payrail/upstream-sdk';

const { values } = parseArgs({
  options: {
    ingest: { type: 'string' },
    keys: { type: 'string' },
    upstreams: { type: 'string' },
    rate: { type: 'string', default: '30' },
    duration: { type: 'string', default: '40' },
    out: { type: 'string' },
    'final-timeout': { type: 'string', default: '180' },
    seed: { type: 'string', default: '11' },
  },
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<number> {
  const { ingest, keys, upstreams, out } = values;
  if (!ingest || !keys || !upstreams || !out) throw new Error('--ingest, --keys, --upstreams and --out are required');
  const rate = Number(values.rate);
  const durationMs = Number(values.duration) * 1000;
  const clients = await Promise.all(upstreams.split(',').map((id) => UpstreamClient.open(id, join(keys, id, 'private.jwks.json'), ingest)));
  const random = prng(Number(values.seed));
  const accepted: { client: UpstreamClient; paymentId: string }[] = [];
  const rejections: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();
  const started = Date.now();
  let submitted = 0;
  // one submission every 1/rate s on a fixed schedule, with at most MAX_IN_FLIGHT outstanding: a steady offered
  // load that slows down (and shows it in submit_per_s) instead of piling up timeouts when ingest cannot keep up
  const MAX_IN_FLIGHT = 16;
  while (Date.now() - started < durationMs) {
    const due = started + (submitted * 1000) / rate;
    if (due > Date.now()) await sleep(due - Date.now());
    while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
    const i = submitted++;
    const client = clients[i % clients.length] as UpstreamClient;
    const { payment } = demoPayment(i, random);
    const p = client
      .submit(client.signPayment({ ...payment, upstream_reference: `sim-${randomUUID()}` }), randomUUID())
      .then((res) => {
        if (res.status === 202 && typeof res.body['payment_id'] === 'string') accepted.push({ client, paymentId: res.body['payment_id'] });
        else rejections[String(res.body['type'] ?? res.status)] = (rejections[String(res.body['type'] ?? res.status)] ?? 0) + 1;
      })
      .catch((err: Error) => {
        rejections[`error:${err.message}`] = (rejections[`error:${err.message}`] ?? 0) + 1;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  const submitSeconds = (Date.now() - started) / 1000;

  const outcome = new Map<string, string>();
  const deadline = Date.now() + Number(values['final-timeout']) * 1000;
  while (outcome.size < accepted.length && Date.now() < deadline) {
    const pending = accepted.filter((a) => !outcome.has(a.paymentId));
    for (let i = 0; i < pending.length; i += 16) {
      await Promise.all(
        pending.slice(i, i + 16).map(async ({ client, paymentId }) => {
          const res = await client.status(paymentId).catch(() => undefined);
          if (res?.status === 200 && res.body['final'] === true) outcome.set(paymentId, String(res.body['state']));
        }),
      );
    }
    if (outcome.size < accepted.length) await sleep(500);
  }
  const count = (state: string) => [...outcome.values()].filter((s) => s === state).length;
  const lostIds = accepted.map((a) => a.paymentId).filter((id) => !outcome.has(id));
  const summary = {
    submitted,
    accepted: accepted.length,
    rejected: submitted - accepted.length,
    rejections,
    settled: count('settled'),
    declined: count('declined'),
    in_review: count('in_review'),
    lost: lostIds.length,
    lost_ids: lostIds.slice(0, 20),
    submit_per_s: Math.round((submitted / submitSeconds) * 10) / 10,
    payments: Object.fromEntries(outcome),
  };
  writeFileSync(out, `${JSON.stringify(summary)}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`payment-stream: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
