// The demo stream: submit N payments from the demo upstreams over HTTP, then follow each until it reaches a
// final state (settled, declined, or in review waiting for an analyst). `lost` = accepted but never final.
import { randomUUID } from 'node:crypto';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UpstreamClient } from '@payrail/upstream-sdk';
import { demoPayment, prng } from '@payrail/upstream-sdk';

export interface DemoOptions {
  ingestUrl: string;
  keysDir: string;
  upstreams: string[];
  payments: number;
  concurrency: number;
  progress: boolean;
  summary?: string;
  finalTimeoutS: number;
  seed: number;
}

export interface DemoSummary {
  submitted: number;
  accepted: number;
  rejected: number;
  settled: number;
  declined: number;
  in_review: number;
  lost: number;
  duration_s: number;
  submit_per_s: number;
  rejections: Record<string, number>;
}

export async function runDemo(o: DemoOptions): Promise<DemoSummary> {
  const clients = await Promise.all(o.upstreams.map((id) => UpstreamClient.open(id, join(o.keysDir, id, 'private.jwks.json'), o.ingestUrl)));
  const random = prng(o.seed);
  const started = Date.now();
  const accepted: { client: UpstreamClient; paymentId: string }[] = [];
  const rejections: Record<string, number> = {};
  let next = 0;
  const progress = (line: string) => {
    if (o.progress) process.stderr.write(`\r${line}\u001b[K`);
  };
  const submitWorker = async () => {
    while (next < o.payments) {
      const i = next++;
      const client = clients[i % clients.length];
      if (!client) throw new Error('no upstream clients');
      const { payment } = demoPayment(i, random);
      const res = await client.submit(client.signPayment(payment), randomUUID());
      if (res.status === 202 && typeof res.body['payment_id'] === 'string') accepted.push({ client, paymentId: res.body['payment_id'] });
      else {
        const type = String(res.body['type'] ?? res.status);
        rejections[type] = (rejections[type] ?? 0) + 1;
      }
      progress(`submitted ${i + 1}/${o.payments}  accepted ${accepted.length}`);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, submitWorker));
  const submitSeconds = (Date.now() - started) / 1000;

  const outcome = new Map<string, string>();
  const deadline = Date.now() + o.finalTimeoutS * 1000;
  while (outcome.size < accepted.length && Date.now() < deadline) {
    const pending = accepted.filter((a) => !outcome.has(a.paymentId));
    let cursor = 0;
    const pollWorker = async () => {
      while (cursor < pending.length) {
        const item = pending[cursor++];
        if (!item) break;
        const res = await item.client.status(item.paymentId);
        if (res.status === 200 && res.body['final'] === true && typeof res.body['state'] === 'string') outcome.set(item.paymentId, res.body['state']);
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, pollWorker));
    const counts = tally(outcome);
    progress(`final ${outcome.size}/${accepted.length}  settled ${counts.settled}  declined ${counts.declined}  in review ${counts.in_review}`);
    if (outcome.size < accepted.length) await new Promise((r) => setTimeout(r, 250));
  }
  if (o.progress) process.stderr.write('\n');
  const counts = tally(outcome);
  const summary: DemoSummary = {
    submitted: o.payments,
    accepted: accepted.length,
    rejected: o.payments - accepted.length,
    settled: counts.settled,
    declined: counts.declined,
    in_review: counts.in_review,
    lost: accepted.length - outcome.size,
    duration_s: Math.round((Date.now() - started) / 100) / 10,
    submit_per_s: Math.round(o.payments / submitSeconds),
    rejections,
  };
  if (o.summary) {
    mkdirSync(dirname(o.summary), { recursive: true });
    writeFileSync(o.summary, `${JSON.stringify(summary, null, 2)}\n`);
  }
  return summary;
}

function tally(outcome: Map<string, string>) {
  const counts = { settled: 0, declined: 0, in_review: 0 };
  for (const state of outcome.values()) if (state === 'settled' || state === 'declined' || state === 'in_review') counts[state]++;
  return counts;
}
