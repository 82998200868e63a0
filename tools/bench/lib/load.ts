// Load generation and observation shared by the end-to-end benchmark and the chaos test: pre-signed payments from
// the demo upstreams (with duplicates and replays), an HTTP submitter, and a Kafka observer of final states.
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { basename, join } from 'node:path';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { TOPICS } from '@payrail/contracts';
import { UpstreamClient, demoPayment, prng } from '@payrail/upstream-sdk';
import { PerSecondSeries } from './measure';

export const UPSTREAMS = ['psp-alpha', 'bank-beta', 'shop-gamma'];

/** One request as an upstream sends it; duplicates re-send an earlier request, replays re-use its JWS. */
export interface Prepared {
  jws: string;
  idempotencyKey: string;
  kind: 'new' | 'duplicate' | 'replay';
}

export interface Outcome {
  submittedAt: number;
  acceptedAt?: number;
  finalAt?: number;
  finalState?: 'settled' | 'declined' | 'in_review';
  settledCount: number;
}

export class Pipeline {
  readonly outcomes = new Map<string, Outcome>();
  readonly early = new Map<string, { at: number; state: Outcome['finalState']; settled: boolean }[]>();
  readonly accepted: PerSecondSeries;
  readonly completed: PerSecondSeries;
  readonly responses = { accepted: 0, idempotent_replays: 0, refused_replays: 0, other: 0, errors: 0 };
  readonly unexpected: Record<string, number> = {};

  constructor(readonly origin: number) {
    this.accepted = new PerSecondSeries(origin);
    this.completed = new PerSecondSeries(origin);
  }

  onAccepted(paymentId: string, submittedAt: number, at: number, kind: Prepared['kind']): void {
    if (kind === 'duplicate' || this.outcomes.has(paymentId)) {
      this.responses.idempotent_replays++;
      return;
    }
    this.responses.accepted++;
    const outcome: Outcome = { submittedAt, acceptedAt: at, settledCount: 0 };
    this.outcomes.set(paymentId, outcome);
    this.accepted.add(at);
    for (const e of this.early.get(paymentId) ?? []) this.onFinal(paymentId, e.at, e.state, e.settled);
    this.early.delete(paymentId);
  }

  onFinal(paymentId: string, at: number, state: Outcome['finalState'], settled: boolean): void {
    const outcome = this.outcomes.get(paymentId);
    if (!outcome) {
      const list = this.early.get(paymentId) ?? [];
      list.push({ at, state, settled });
      this.early.set(paymentId, list);
      return;
    }
    if (settled) outcome.settledCount++;
    if (outcome.finalAt !== undefined) return;
    outcome.finalAt = at;
    outcome.finalState = state;
    this.completed.add(at, at - outcome.submittedAt);
  }

  pending(): number {
    let n = 0;
    for (const o of this.outcomes.values()) if (o.finalAt === undefined) n++;
    return n;
  }
}

/** Watches the screened and settled topics from their current end; a payment is final when settled, declined or held for review. */
export async function observe(client: { brokers: string[]; sasl?: SASLOptions }, pipeline: Pipeline): Promise<() => Promise<void>> {
  const kafka = new Kafka({ clientId: 'payrail-bench-observer', ...client, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `payrail-bench-${randomUUID()}`, maxWaitTimeInMs: 20, sessionTimeout: 30_000 });
  await consumer.connect();
  await consumer.subscribe({ topics: [TOPICS.paymentsScreened.name, TOPICS.paymentsSettled.name], fromBeginning: false });
  const joined = new Promise<void>((resolveJoin) => consumer.on(consumer.events.GROUP_JOIN, () => resolveJoin()));
  await consumer.run({
    partitionsConsumedConcurrently: 4,
    eachBatch: async ({ batch }) => {
      const at = Date.now();
      const settledTopic = batch.topic === TOPICS.paymentsSettled.name;
      for (const message of batch.messages) {
        if (!message.value) continue;
        const data = JSON.parse(message.value.toString('utf8')) as { payment_id?: string; decision?: string };
        if (!data.payment_id) continue;
        if (settledTopic) pipeline.onFinal(data.payment_id, at, 'settled', true);
        else if (data.decision === 'DECLINE') pipeline.onFinal(data.payment_id, at, 'declined', false);
        else if (data.decision === 'REVIEW') pipeline.onFinal(data.payment_id, at, 'in_review', false);
      }
    },
  });
  await joined;
  return () => consumer.disconnect();
}

/** Pre-signs payments from the demo upstreams: realistic mix, a share that trips fraud rules, some duplicates and replays. */
export async function prepare(keysDir: string, ingestUrl: string, count: number, seed: number): Promise<Prepared[]> {
  const clients = await Promise.all(UPSTREAMS.map((id) => UpstreamClient.open(id, join(keysDir, id, 'private.jwks.json'), ingestUrl)));
  const random = prng(seed);
  const out: Prepared[] = [];
  for (let i = 0; i < count; i++) {
    const roll = random();
    const earlier = out.length > 100 ? out[out.length - 1 - Math.floor(random() * 100)] : undefined;
    if (earlier && earlier.kind === 'new' && roll < 0.03) {
      out.push({ jws: earlier.jws, idempotencyKey: earlier.idempotencyKey, kind: 'duplicate' });
    } else if (earlier && earlier.kind === 'new' && roll < 0.04) {
      out.push({ jws: earlier.jws, idempotencyKey: randomUUID(), kind: 'replay' });
    } else {
      const client = clients[i % clients.length];
      if (!client) throw new Error('no upstream clients');
      out.push({ jws: client.signPayment(demoPayment(i, random).payment), idempotencyKey: randomUUID(), kind: 'new' });
    }
  }
  return out;
}

interface Answer {
  status: number;
  body: { payment_id?: string; type?: string };
}

/** Answers an upstream retries with the same request: the service was unreachable, overloaded or still busy with it. */
function retriable(answer: Answer | undefined): boolean {
  if (!answer) return true;
  if (answer.status >= 500) return true;
  return answer.status === 409 && (answer.body.type ?? '').endsWith('idempotency-in-progress');
}

export class Submitter {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 512 });
  inflight = 0;
  retries = 0;
  /** Per upstream request (its Idempotency-Key; replays, an attacker's requests, excluded): every payment id it was answered with. */
  readonly paymentIdsByRequest = new Map<string, Set<string>>();
  /** `attempts` > 1: retry like a careful upstream (same body, same Idempotency-Key) with a growing pause. */
  constructor(
    private readonly port: number,
    private readonly pipeline: Pipeline,
    private readonly attempts = 1,
  ) {}

  async submit(p: Prepared): Promise<void> {
    this.inflight++;
    const submittedAt = Date.now();
    let answer: Answer | undefined;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      answer = await this.send(p);
      if (!retriable(answer) || attempt === this.attempts) break;
      this.retries++;
      await sleep(Math.min(5_000, 250 * attempt));
    }
    this.inflight--;
    this.record(p, submittedAt, answer);
  }

  private record(p: Prepared, submittedAt: number, answer: Answer | undefined): void {
    if (!answer) {
      this.pipeline.responses.errors++;
      return;
    }
    const { status, body } = answer;
    if ((status === 202 || status === 200) && body.payment_id) {
      if (p.kind !== 'replay') {
        const ids = this.paymentIdsByRequest.get(p.idempotencyKey) ?? new Set<string>();
        ids.add(body.payment_id);
        this.paymentIdsByRequest.set(p.idempotencyKey, ids);
      }
      this.pipeline.onAccepted(body.payment_id, submittedAt, Date.now(), p.kind);
    } else if (p.kind === 'replay' && status >= 400 && status < 500) this.pipeline.responses.refused_replays++;
    else {
      this.pipeline.responses.other++;
      const why = `${p.kind}:${status}:${basename(body.type ?? 'no-body')}`;
      this.pipeline.unexpected[why] = (this.pipeline.unexpected[why] ?? 0) + 1;
    }
  }

  /** One HTTP attempt; undefined when the connection failed. */
  private send(p: Prepared): Promise<Answer | undefined> {
    return new Promise((done) => {
      const req = request(
        { host: '127.0.0.1', port: this.port, method: 'POST', path: '/v1/payments', agent: this.agent, timeout: 30_000, headers: { 'content-type': 'application/jose', 'idempotency-key': p.idempotencyKey, 'content-length': Buffer.byteLength(p.jws) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            let body: Answer['body'] = {};
            try {
              body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer['body'];
            } catch {
              /* an answer without a JSON body */
            }
            done({ status: res.statusCode ?? 0, body });
          });
          res.on('error', () => done(undefined));
        },
      );
      req.on('timeout', () => req.destroy());
      req.on('error', () => done(undefined));
      req.end(p.jws);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Open loop: `rate` requests per second for `seconds`, whatever the answers' latency (capped in-flight). */
export async function fixedRate(submitter: Submitter, queue: Prepared[], rate: number, seconds: number): Promise<number> {
  const start = Date.now();
  let sent = 0;
  const total = Math.min(queue.length, Math.round(rate * seconds));
  while (sent < total) {
    const due = Math.min(total, Math.floor(((Date.now() - start) / 1000) * rate));
    while (sent < due && submitter.inflight < 4_000) {
      const p = queue[sent++];
      if (p) void submitter.submit(p);
    }
    await sleep(2);
  }
  while (submitter.inflight > 0) await sleep(5);
  return sent;
}

/** Closed loop: `concurrency` connections, each sending its next request when the previous one answers. */
export async function maxRate(submitter: Submitter, queue: Prepared[], concurrency: number, seconds: number): Promise<number> {
  const end = Date.now() + seconds * 1000;
  let next = 0;
  const worker = async () => {
    while (Date.now() < end && next < queue.length) {
      const p = queue[next++];
      if (p) await submitter.submit(p);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return next;
}

export async function drain(pipeline: Pipeline, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (pipeline.pending() > 0 && Date.now() < deadline) await sleep(250);
  return pipeline.pending();
}
