// Where a backtest's payments come from: an NDJSON file (payment instructions, or signed / screened events that
// carry the signed instruction) or a time range of the signed topic. Signatures are checked when a JWKS is given;
// otherwise the instructions are read without checking (offline analysis of our own data, never a decision).
import { createReadStream } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { PaymentInstruction, PaymentInstructionSchema, TOPIC_RESTORES, TOPICS } from '@payrail/contracts';
import { JwsVerifier, isTokenVerdict } from '@payrail/crypto';
import { Kafka, decode } from '@payrail/messaging';
import { decodeInstructionPayload } from '../screening/instruction-payload';

export interface LoadedPayments {
  payments: PaymentInstruction[];
  /** Why items were left out, with counts. */
  skipped: Record<string, number>;
}

class Collector {
  readonly payments: PaymentInstruction[] = [];
  readonly skipped: Record<string, number> = {};

  constructor(private readonly verifier: JwsVerifier | undefined) {}

  skip(reason: string): void {
    this.skipped[reason] = (this.skipped[reason] ?? 0) + 1;
  }

  async addJws(jws: string): Promise<void> {
    if (!this.verifier) {
      const instruction = decodeInstructionPayload(jws);
      if (instruction) this.payments.push(instruction);
      else this.skip('not a payment instruction');
      return;
    }
    try {
      const parsed = PaymentInstructionSchema.safeParse((await this.verifier.verify(jws)).payload);
      if (parsed.success) this.payments.push(parsed.data);
      else this.skip('not a payment instruction');
    } catch (err) {
      if (!isTokenVerdict(err)) throw err; // an unreadable JWKS stops the backtest: it is no verdict on the payment
      this.skip('signature invalid');
    }
  }

  async addJson(value: unknown): Promise<void> {
    if (typeof value === 'object' && value !== null && typeof (value as { instruction_jws?: unknown }).instruction_jws === 'string') {
      return this.addJws((value as { instruction_jws: string }).instruction_jws);
    }
    const parsed = PaymentInstructionSchema.safeParse(value);
    if (parsed.success) this.payments.push(parsed.data);
    else this.skip(`not a payment instruction (${parsed.error.issues[0]?.path.join('.') || 'root'}: ${parsed.error.issues[0]?.message ?? 'invalid'})`);
  }

  result(): LoadedPayments {
    return { payments: this.payments, skipped: this.skipped };
  }
}

/** One JSON value per line: a PaymentInstruction, or any object with `instruction_jws` (signed or screened events). */
export async function paymentsFromFile(path: string, verifier?: JwsVerifier): Promise<LoadedPayments> {
  const collector = new Collector(verifier);
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      collector.skip('not JSON');
      continue;
    }
    await collector.addJson(value);
  }
  return collector.result();
}

export interface TopicRange {
  topic: string;
  /** Messages at or after this time (broker timestamp); the beginning when absent. */
  sinceMs?: number;
  /** Messages before this time; the end as of the start of the read when absent. */
  untilMs?: number;
  /** Stop after this many messages. */
  max?: number;
}

/**
 * Reads a range of the signed topic with a throw-away consumer group that commits nothing and is deleted after:
 * the service's own group and offsets are never touched.
 */
export async function paymentsFromTopic(kafka: Kafka, range: TopicRange, verifier?: JwsVerifier): Promise<LoadedPayments> {
  const collector = new Collector(verifier);
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `${TOPIC_RESTORES.fraudBacktest.label}-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  try {
    const offsets = await admin.fetchTopicOffsets(range.topic);
    const starts = range.sinceMs === undefined ? undefined : await admin.fetchTopicOffsetsByTimestamp(range.topic, range.sinceMs);
    const ends = range.untilMs === undefined ? undefined : await admin.fetchTopicOffsetsByTimestamp(range.topic, range.untilMs);
    // per partition: read [start, end)
    const todo = new Map<number, { next: bigint; end: bigint }>();
    for (const o of offsets) {
      const start = BigInt(starts?.find((s) => s.partition === o.partition)?.offset ?? o.low);
      const endOffset = ends?.find((e) => e.partition === o.partition)?.offset;
      const end = endOffset === undefined || BigInt(endOffset) < 0n ? BigInt(o.high) : BigInt(endOffset);
      if (start < end) todo.set(o.partition, { next: start, end });
    }
    if (todo.size === 0) return collector.result();
    let seen = 0;
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    await consumer.connect();
    await consumer.subscribe({ topic: range.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const p = todo.get(partition);
        const offset = BigInt(message.offset);
        if (!p || offset < p.next) return;
        if (offset < p.end && (range.max === undefined || seen < range.max)) {
          seen++;
          try {
            await collector.addJson(decode(TOPICS.paymentsSigned, message).data);
          } catch (err) {
            collector.skip(`undecodable message (${(err as Error).message.slice(0, 80)})`);
          }
        }
        p.next = offset + 1n;
        if (p.next >= p.end) todo.delete(partition);
        if (todo.size === 0 || (range.max !== undefined && seen >= range.max)) finish();
      },
    });
    for (const [partition, p] of todo) consumer.seek({ topic: range.topic, partition, offset: p.next.toString() });
    await finished;
    return collector.result();
  } finally {
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
