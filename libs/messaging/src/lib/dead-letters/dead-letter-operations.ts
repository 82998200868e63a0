// Listing, inspecting and replaying dead letters (behind `payrail-cli dlq`). Framework-free: a kafkajs client and,
// for replays, an ioredis client holding the replay ledger.
//
// A replay never loses a message and publishes each dead letter at most once:
//   1. claim the dead letter in the ledger (Redis; another run or operator holding it makes us skip it),
//   2. publish the copy to its original topic with an idempotent producer, acks=all, on an explicit partition
//      (the one the default partitioner picks for its key, so ordering per key holds) and learn its offset,
//   3. mark the claim done with that offset.
// The dead letter itself stays in its topic: replay only copies. A run killed
// between 1 and 3 leaves a pending claim: once its lease has run out, the next replay looks for the copy on the
// target partition (the `payrail_replay_of` header, from the claim's time on) and either records it or publishes.
// A publish that fails keeps its claims the same way (a timed-out request may still have been written); dead
// letters not attempted after a failure are released at once.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Partitioners } from 'kafkajs';
import type { Kafka, Message, PartitionMetadata, Producer } from 'kafkajs';
import { REPLAY_HEADERS } from '@payrail/contracts';
import { DeadLetter, DeadLetterFilter, MessageRef, formatRef, matchesFilter, parseDeadLetter, replayMessage } from './dead-letter';
import { PartitionRange, partitionRanges, readPartitionRanges } from './partition-reader';
import { ReplayLedger, ReplayRecord } from './replay-ledger';

export type ReplayStatus = 'replayed' | 'would-replay' | 'already-replayed' | 'in-progress' | 'not-replayable' | 'not-found' | 'failed';

export interface ReplayOutcome {
  readonly ref: MessageRef;
  readonly status: ReplayStatus;
  /** Where the copy goes (would-replay, in-progress) or went (replayed, already-replayed: with its offset). */
  readonly target?: { readonly topic: string; readonly partition: number; readonly offset?: string };
  readonly detail?: string;
}

export interface ReplayReport {
  readonly dryRun: boolean;
  readonly outcomes: readonly ReplayOutcome[];
  readonly counts: Readonly<Record<ReplayStatus, number>>;
}

export interface DeadLetterQuery {
  /** Dead-letter topics to read. */
  readonly topics: readonly string[];
  readonly filter?: DeadLetterFilter;
  /** At most this many dead letters, in topic, partition, offset order. */
  readonly limit?: number;
}

export interface DeadLetterOperationsOptions {
  /** The replay ledger's Redis; needed to replay and to report replay status. */
  readonly redis?: Redis;
  /** A pending claim older than this is taken to be an interrupted replay (default 10 minutes: far longer than a publish can take). */
  readonly leaseMs?: number;
  /** How long replay records are kept; keep it longer than the dead-letter topics' retention (default 30 days). */
  readonly recordTtlSeconds?: number;
  /** Copies per produce request (default 200; a request also stops at ~512 KB). */
  readonly chunkMessages?: number;
  readonly readTimeoutMs?: number;
  readonly now?: () => Date;
  /**
   * Opens a sealed dead letter's value (DLQ_HEADERS.valueProtection `jwe`) for the holder of the key it is sealed to:
   * the bytes to publish again, or why it must not be. Without it, sealed dead letters are not replayable.
   */
  readonly unseal?: DeadLetterUnsealer;
}

/** What a key holder's unsealer answers: the original value to publish again, or why not (reported as not-replayable). */
export type DeadLetterUnsealer = (letter: DeadLetter) => Promise<{ readonly value: Buffer } | { readonly refused: string }>;

const CHUNK_BYTES = 512 * 1024;
/** Clock skew allowed between the claim's time and the copy's broker timestamp when looking for the copy. */
const RECOVERY_SKEW_MS = 60_000;

interface PlannedReplay {
  readonly letter: DeadLetter;
  readonly message: Message;
  readonly target: { topic: string; partition: number };
}

export class DeadLetterOperations {
  private readonly ledger: ReplayLedger | undefined;
  private readonly leaseMs: number;
  private readonly chunkMessages: number;
  private readonly now: () => Date;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: DeadLetterOperationsOptions = {},
  ) {
    this.ledger = options.redis ? new ReplayLedger(options.redis, options.recordTtlSeconds) : undefined;
    this.leaseMs = options.leaseMs ?? 10 * 60_000;
    this.chunkMessages = options.chunkMessages ?? 200;
    this.now = options.now ?? (() => new Date());
  }

  /** Dead letters matching the query, in topic, partition, offset order. */
  async list(query: DeadLetterQuery): Promise<DeadLetter[]> {
    const filter = query.filter ?? {};
    const clip = {
      partition: filter.partition,
      from: filter.fromOffset === undefined ? undefined : BigInt(filter.fromOffset),
      to: filter.toOffset === undefined ? undefined : BigInt(filter.toOffset),
    };
    const ranges: PartitionRange[] = [];
    for (const topic of query.topics) ranges.push(...(await this.rangesOf(topic, clip)));
    const found: DeadLetter[] = [];
    const perPartition = new Map<string, number>();
    await readPartitionRanges(
      this.kafka,
      ranges,
      (topic, partition, message) => {
        const letter = parseDeadLetter(topic, partition, message);
        if (!matchesFilter(letter, filter)) return 'continue';
        found.push(letter);
        // every partition is read in offset order, so its first `limit` matches contain the overall first `limit`
        const key = `${topic}/${partition}`;
        const n = (perPartition.get(key) ?? 0) + 1;
        perPartition.set(key, n);
        return query.limit !== undefined && n >= query.limit ? 'stop' : 'continue';
      },
      { timeoutMs: this.options.readTimeoutMs, clientLabel: 'payrail-dlq-reader' },
    );
    found.sort(byRef);
    return query.limit === undefined ? found : found.slice(0, query.limit);
  }

  /** The dead letters at these places (those that do not exist are left out). */
  async select(refs: readonly MessageRef[]): Promise<DeadLetter[]> {
    const wanted = new Set(refs.map(formatRef));
    const spans = new Map<string, PartitionRange>();
    for (const ref of refs) {
      const key = `${ref.topic}/${ref.partition}`;
      const offset = BigInt(ref.offset);
      const span = spans.get(key);
      spans.set(key, {
        topic: ref.topic,
        partition: ref.partition,
        start: span && span.start < offset ? span.start : offset,
        end: span && span.end > offset + 1n ? span.end : offset + 1n,
      });
    }
    // clip each span to what the partition holds, so a missing offset does not wait for messages that never come
    const ranges: PartitionRange[] = [];
    for (const topic of new Set(refs.map((r) => r.topic))) {
      const held = new Map((await this.rangesOf(topic, {})).map((r) => [r.partition, r]));
      for (const span of spans.values()) {
        if (span.topic !== topic) continue;
        const partition = held.get(span.partition);
        if (!partition) continue;
        const start = span.start > partition.start ? span.start : partition.start;
        const end = span.end < partition.end ? span.end : partition.end;
        ranges.push({ ...span, start, end });
      }
    }
    const found: DeadLetter[] = [];
    await readPartitionRanges(
      this.kafka,
      ranges,
      (topic, partition, message) => {
        const ref = { topic, partition, offset: message.offset };
        if (wanted.has(formatRef(ref))) found.push(parseDeadLetter(topic, partition, message));
        return 'continue';
      },
      { timeoutMs: this.options.readTimeoutMs, clientLabel: 'payrail-dlq-reader' },
    );
    return found.sort(byRef);
  }

  async inspect(ref: MessageRef): Promise<{ letter: DeadLetter; replay: ReplayRecord | undefined } | undefined> {
    const [letter] = await this.select([ref]);
    if (!letter) return undefined;
    return { letter, replay: await this.ledger?.get(ref) };
  }

  /** Replay records of these dead letters (empty without Redis). */
  async replayRecords(refs: readonly MessageRef[]): Promise<Map<string, ReplayRecord>> {
    const ledger = this.ledger;
    const out = new Map<string, ReplayRecord>();
    if (!ledger) return out;
    const records = await Promise.all(refs.map((ref) => ledger.get(ref)));
    refs.forEach((ref, i) => {
      const record = records[i];
      if (record) out.set(formatRef(ref), record);
    });
    return out;
  }

  /** Replays the dead letters at these references (`replay` of what `select` finds; the rest reported not-found). */
  async replayRefs(refs: readonly MessageRef[], options: { dryRun?: boolean } = {}): Promise<ReplayReport> {
    const letters = await this.select(refs);
    const found = new Set(letters.map((l) => formatRef(l.ref)));
    return this.replay(letters, { ...options, notFound: refs.filter((r) => !found.has(formatRef(r))) });
  }

  /**
   * Replays the dead letters (as listed or selected) to their original topics, each at most once across runs and
   * operators. `dryRun` reports what would happen and writes nothing.
   */
  async replay(letters: readonly DeadLetter[], options: { dryRun?: boolean; notFound?: readonly MessageRef[] } = {}): Promise<ReplayReport> {
    const ledger = this.ledger;
    if (!ledger) throw new Error('replaying needs the replay ledger: pass a Redis client (REDIS_URL)');
    const dryRun = options.dryRun ?? false;
    const outcomes = new Map<string, ReplayOutcome>();
    for (const ref of options.notFound ?? []) outcomes.set(formatRef(ref), { ref, status: 'not-found', detail: 'no message at this offset (never written, or removed by retention)' });

    const { planned, refused } = await this.plan(letters);
    for (const outcome of refused) outcomes.set(formatRef(outcome.ref), outcome);

    if (dryRun) {
      const records = await this.replayRecords(planned.map((p) => p.letter.ref));
      for (const p of planned) {
        const record = records.get(formatRef(p.letter.ref));
        outcomes.set(formatRef(p.letter.ref), record ? this.recordOutcome(p.letter.ref, record) : { ref: p.letter.ref, status: 'would-replay', target: p.target });
      }
      return report(true, letters, options.notFound, outcomes);
    }

    // 1. claim
    const claimed: { plan: PlannedReplay; claim: ReplayRecord }[] = [];
    const stale: { plan: PlannedReplay; record: ReplayRecord }[] = [];
    const claimedAt = this.now().getTime();
    await Promise.all(
      planned.map(async (plan, index) => {
        const token = randomUUID();
        const record = await ledger.claim(plan.letter.ref, token, claimedAt, plan.target);
        if (record.state === 'pending' && record.token === token) claimed[index] = { plan, claim: record };
        else if (record.state === 'pending' && claimedAt - record.claimedAt > this.leaseMs) stale[index] = { plan, record };
        else outcomes.set(formatRef(plan.letter.ref), this.recordOutcome(plan.letter.ref, record));
      }),
    );
    // an interrupted replay: the copy may have been published before the run stopped
    for (const taken of await this.recoverStale(stale.filter(Boolean), claimedAt)) {
      if ('claim' in taken) claimed[planned.indexOf(taken.plan)] = taken;
      else outcomes.set(formatRef(taken.ref), taken);
    }

    // 2. publish in the dead letters' order (ordering per key), 3. record
    const queue = claimed.filter(Boolean);
    if (queue.length > 0) {
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await producer.connect();
      try {
        let failure: Error | undefined;
        for (const chunk of chunks(queue, this.chunkMessages)) {
          if (failure) {
            await Promise.all(chunk.map(({ plan, claim }) => ledger.release(plan.letter.ref, claim.token)));
            for (const { plan } of chunk) outcomes.set(formatRef(plan.letter.ref), { ref: plan.letter.ref, status: 'failed', target: plan.target, detail: `not attempted after an earlier failure: ${failure.message}` });
            continue;
          }
          let offsets: string[];
          try {
            offsets = await publishChunk(producer, chunk.map((c) => c.plan));
          } catch (err) {
            failure = err instanceof Error ? err : new Error(String(err));
            // The copies may or may not have been written (a timed-out request can still be appended): keep the
            // claims, so that the next replay after the lease looks for them before publishing anything.
            const retryAfter = new Date(claimedAt + this.leaseMs).toISOString();
            for (const { plan } of chunk) {
              outcomes.set(formatRef(plan.letter.ref), { ref: plan.letter.ref, status: 'failed', target: plan.target, detail: `publish failed (${failure.message}); claim kept: a replay after ${retryAfter} checks for the copy and publishes only if it is missing` });
            }
            continue;
          }
          const replayedAt = this.now();
          await Promise.all(
            chunk.map(async ({ plan, claim }, i) => {
              const offset = offsets[i] ?? '';
              const target = { ...plan.target, offset };
              try {
                await ledger.complete(plan.letter.ref, claim, offset, replayedAt);
                outcomes.set(formatRef(plan.letter.ref), { ref: plan.letter.ref, status: 'replayed', target });
              } catch (err) {
                // published; the pending claim stays, and a later replay finds the copy instead of publishing again
                outcomes.set(formatRef(plan.letter.ref), { ref: plan.letter.ref, status: 'replayed', target, detail: `recording it failed (${err instanceof Error ? err.message : String(err)}); the claim stays pending` });
              }
            }),
          );
        }
      } finally {
        await producer.disconnect();
      }
    }
    return report(false, letters, options.notFound, outcomes);
  }

  private async rangesOf(topic: string, clip: { partition?: number; from?: bigint; to?: bigint }): Promise<PartitionRange[]> {
    try {
      return await partitionRanges(this.kafka, topic, clip);
    } catch (err) {
      throw new Error(`cannot read topic ${topic}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Picks each copy's partition the way our producers do (kafkajs default partitioner on the key). */
  private async plan(letters: readonly DeadLetter[]): Promise<{ planned: PlannedReplay[]; refused: ReplayOutcome[] }> {
    const refused: ReplayOutcome[] = [];
    const wanted = [...new Set(letters.map((l) => l.original.topic).filter((t): t is string => t !== undefined))];
    const metadata = new Map<string, PartitionMetadata[]>();
    if (wanted.length > 0) {
      const admin = this.kafka.admin();
      await admin.connect();
      try {
        const existing = new Set(await admin.listTopics());
        const present = wanted.filter((t) => existing.has(t));
        if (present.length > 0) for (const t of (await admin.fetchTopicMetadata({ topics: present })).topics) metadata.set(t.name, t.partitions);
      } finally {
        await admin.disconnect();
      }
    }
    const partitioner = Partitioners.DefaultPartitioner();
    const replayedAt = this.now();
    const planned: PlannedReplay[] = [];
    for (const letter of letters) {
      const topic = letter.original.topic;
      if (topic === undefined) {
        refused.push({ ref: letter.ref, status: 'not-replayable', detail: letter.problems.join('; ') });
        continue;
      }
      let value = letter.value;
      if (letter.valueProtection !== undefined) {
        // publishing the sealed value would only dead-letter it again: only the holder of the key it is sealed to
        // opens it, and the unsealer decides whether the original may travel again (never a card number in clear)
        const unseal = this.options.unseal;
        if (letter.valueProtection !== 'jwe' || unseal === undefined) {
          refused.push({ ref: letter.ref, status: 'not-replayable', detail: `its value is ${letter.valueProtection === 'jwe' ? 'sealed to the data-protection key: replay it with that key (payrail dlq replay --dlq-key FILE)' : 'withheld (it held a card number in clear): the upstream must send the payment again'}` });
          continue;
        }
        const opened = await unseal(letter);
        if ('refused' in opened) {
          refused.push({ ref: letter.ref, status: 'not-replayable', detail: opened.refused });
          continue;
        }
        value = opened.value;
      }
      const partitions = metadata.get(topic);
      if (!partitions || partitions.length === 0) {
        refused.push({ ref: letter.ref, status: 'not-replayable', detail: `original topic ${topic} does not exist on the cluster` });
        continue;
      }
      const message = { ...replayMessage(letter, replayedAt), value };
      const partition = partitioner({ topic, partitionMetadata: partitions, message });
      planned.push({ letter, message: { ...message, partition }, target: { topic, partition } });
    }
    return { planned, refused };
  }

  private recordOutcome(ref: MessageRef, record: ReplayRecord): ReplayOutcome {
    if (record.state === 'done') {
      return { ref, status: 'already-replayed', target: { ...record.target, offset: record.replayedOffset }, detail: `replayed at ${record.replayedAt ?? '?'}` };
    }
    const retryAfter = new Date(record.claimedAt + this.leaseMs).toISOString();
    return { ref, status: 'in-progress', target: record.target, detail: `claimed by another replay at ${new Date(record.claimedAt).toISOString()}; if that run died, retry after ${retryAfter}` };
  }

  /** For claims left pending by a run that stopped: find the copy it may have published, else take the claim over. */
  private async recoverStale(stale: { plan: PlannedReplay; record: ReplayRecord }[], claimedAt: number): Promise<({ plan: PlannedReplay; claim: ReplayRecord } | ReplayOutcome)[]> {
    const ledger = this.ledger;
    if (!ledger || stale.length === 0) return [];
    const copies = await this.findCopies(stale.map((s) => s.record));
    const out: ({ plan: PlannedReplay; claim: ReplayRecord } | ReplayOutcome)[] = [];
    for (const { plan, record } of stale) {
      const ref = plan.letter.ref;
      const copy = copies.get(formatRef(ref));
      if (copy) {
        const done = await ledger.complete(ref, record, copy.offset, copy.at);
        out.push({ ...this.recordOutcome(ref, done), detail: `found the copy of an interrupted replay at ${done.target.topic}/${done.target.partition}/${copy.offset}` });
        continue;
      }
      const token = randomUUID();
      const taken = await ledger.takeOver(ref, record.token, token, claimedAt, plan.target);
      if (taken.state === 'pending' && taken.token === token) out.push({ plan, claim: taken });
      else out.push(this.recordOutcome(ref, taken));
    }
    return out;
  }

  /** Copies carrying `payrail_replay_of` on the claims' target partitions, published since the claims were taken. */
  private async findCopies(records: ReplayRecord[]): Promise<Map<string, { offset: string; at: Date }>> {
    const since = new Map<string, { topic: string; partition: number; from: number }>();
    for (const r of records) {
      const key = `${r.target.topic}/${r.target.partition}`;
      const current = since.get(key);
      if (!current || r.claimedAt < current.from) since.set(key, { ...r.target, from: r.claimedAt });
    }
    const ranges: PartitionRange[] = [];
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      for (const { topic, partition, from } of since.values()) {
        const [byTime, bounds] = await Promise.all([admin.fetchTopicOffsetsByTimestamp(topic, from - RECOVERY_SKEW_MS), admin.fetchTopicOffsets(topic)]);
        const startText = byTime.find((o) => o.partition === partition)?.offset;
        const bound = bounds.find((o) => o.partition === partition);
        if (!bound) continue;
        const start = startText === undefined || BigInt(startText) < 0n ? BigInt(bound.high) : BigInt(startText);
        ranges.push({ topic, partition, start: start < BigInt(bound.low) ? BigInt(bound.low) : start, end: BigInt(bound.high) });
      }
    } finally {
      await admin.disconnect();
    }
    const found = new Map<string, { offset: string; at: Date }>();
    await readPartitionRanges(
      this.kafka,
      ranges,
      (_topic, _partition, message) => {
        const raw = message.headers?.[REPLAY_HEADERS.replayOf];
        const of = Array.isArray(raw) ? raw[0] : raw;
        if (of !== undefined) found.set(of.toString(), { offset: message.offset, at: new Date(Number(message.timestamp)) });
        return 'continue';
      },
      { timeoutMs: this.options.readTimeoutMs, clientLabel: 'payrail-dlq-recovery' },
    );
    return found;
  }
}

async function publishChunk(producer: Producer, plans: readonly PlannedReplay[]): Promise<string[]> {
  const byTopic = new Map<string, Message[]>();
  for (const p of plans) {
    const list = byTopic.get(p.target.topic) ?? [];
    list.push(p.message);
    byTopic.set(p.target.topic, list);
  }
  const metadata = await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
  // one record batch per partition, appended in the order given: copy i on a partition sits at baseOffset + i
  const next = new Map<string, bigint>();
  for (const m of metadata) {
    if (m.baseOffset === undefined) throw new Error(`the broker did not report the offset of the copies on ${m.topicName}/${m.partition}`);
    next.set(`${m.topicName}/${m.partition}`, BigInt(m.baseOffset));
  }
  return plans.map((p) => {
    const key = `${p.target.topic}/${p.target.partition}`;
    const offset = next.get(key);
    if (offset === undefined) throw new Error(`no acknowledgement for ${key}`);
    next.set(key, offset + 1n);
    return offset.toString();
  });
}

function chunks<T extends { plan: PlannedReplay }>(items: readonly T[], maxMessages: number): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = (item.plan.letter.value?.length ?? 0) + 512;
    if (current.length > 0 && (current.length >= maxMessages || bytes + size > CHUNK_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

function byRef(a: DeadLetter, b: DeadLetter): number {
  if (a.ref.topic !== b.ref.topic) return a.ref.topic < b.ref.topic ? -1 : 1;
  if (a.ref.partition !== b.ref.partition) return a.ref.partition - b.ref.partition;
  const d = BigInt(a.ref.offset) - BigInt(b.ref.offset);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

const STATUSES: readonly ReplayStatus[] = ['replayed', 'would-replay', 'already-replayed', 'in-progress', 'not-replayable', 'not-found', 'failed'];

function report(dryRun: boolean, letters: readonly DeadLetter[], notFound: readonly MessageRef[] | undefined, outcomes: Map<string, ReplayOutcome>): ReplayReport {
  const ordered: ReplayOutcome[] = [];
  for (const ref of [...(notFound ?? []), ...letters.map((l) => l.ref)]) {
    const outcome = outcomes.get(formatRef(ref));
    if (outcome) ordered.push(outcome);
  }
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<ReplayStatus, number>;
  for (const o of ordered) counts[o.status] += 1;
  return { dryRun, outcomes: ordered, counts };
}
