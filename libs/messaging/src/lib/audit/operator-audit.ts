// The operators' audit trails (fraud-check's admin API, the console) keep their recent entries in a Redis stream
// for the pages that show them, and every entry on the append-only audit topic (payrail.audit.operator-actions.v1,
// long retention), keyed by the service so one trail stays in order on one partition. After a Redis loss each
// trail is restored from the tail of that topic, once per Redis life (a marker written by the same script).
import { AuditService, OperatorAuditEntry, TOPICS } from '@payrail/contracts';
import type { Kafka } from 'kafkajs';
import type { Redis } from 'ioredis';
import { partitionRanges, readPartitionRanges } from '../dead-letters/partition-reader';
import { decode } from '../kafka/batch-consumer';
import type { EventProducer } from '../kafka/event-producer';

/** Bounded retries with a growing backoff: the entry is already in Redis, its publish must not be dropped silently. */
async function withRetry<T>(attempts: number, backoffMs: number, fn: () => Promise<T>): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await fn();
    } catch (err) {
      last = err;
      if (i + 1 < attempts) await new Promise((r) => setTimeout(r, backoffMs * 2 ** i));
    }
  }
  throw last;
}

/** One service's trail on the audit topic. */
export class OperatorAuditJournal {
  constructor(
    private readonly producer: EventProducer,
    private readonly kafka: Kafka,
    readonly service: AuditService,
  ) {}

  /** Publishes an entry Redis recorded (3 tries; throws when all failed, so the caller's request fails loudly). */
  async publish(entry: Omit<OperatorAuditEntry, 'service'>): Promise<void> {
    const event: OperatorAuditEntry = { ...entry, service: this.service };
    await withRetry(3, 200, () => this.producer.publish(TOPICS.operatorAudit, event, { key: this.service, correlationId: entry.request_id, eventId: `${this.service}:${entry.request_id}:audit` }));
  }

  /**
   * This service's newest `count` entries, oldest first. Reads at most 2 x `count` messages at the end of each
   * partition: another trail may share this one's partition.
   */
  async readRecent(count: number): Promise<OperatorAuditEntry[]> {
    const window = BigInt(count * 2);
    const ranges = (await partitionRanges(this.kafka, TOPICS.operatorAudit.name)).map((r) => ({ ...r, start: r.end - window > r.start ? r.end - window : r.start }));
    const found: OperatorAuditEntry[] = [];
    await readPartitionRanges(
      this.kafka,
      ranges,
      (_topic, _partition, message) => {
        try {
          const event = decode(TOPICS.operatorAudit, message).data as OperatorAuditEntry;
          if (event.service === this.service) found.push(event);
        } catch {
          // an undecodable message is no entry of ours
        }
        return 'continue';
      },
      { clientLabel: `payrail-${this.service}-audit-restore` },
    );
    // one key, one partition: offset order is the order the entries were published in; a request's entry published
    // twice (a retried request) is one entry
    const seen = new Set<string>();
    return found.filter((e) => !seen.has(e.request_id) && seen.add(e.request_id)).slice(-count);
  }
}

/**
 * Restores entries read back from the audit topic, once per Redis life: the restored marker is written in the same
 * script, so two instances restoring at once, or a restore repeated, add nothing. Entries keep their time as stream
 * ids when the stream is empty (the usual case after a loss); behind entries written since, they get new ids.
 * KEYS: 1 audit stream, 2 restored marker; ARGV: 1 marker value, 2 max length, 3 JSON [[id, field, value, ...], ...]
 */
export const AUDIT_STREAM_RESTORE_SCRIPT = `
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
local rows = cjson.decode(ARGV[3])
local explicit = redis.call('XLEN', KEYS[1]) == 0
for _, row in ipairs(rows) do
  local args = { 'XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], explicit and row[1] or '*' }
  for i = 2, #row do args[#args + 1] = row[i] end
  redis.call(unpack(args))
end
redis.call('SET', KEYS[2], ARGV[1])
return #rows
`;

/** Stream ids for restored entries from their times (ISO 8601): increasing, as XADD requires. */
export function restoredStreamIds(times: readonly string[]): string[] {
  let ms = 0;
  let seq = 0;
  return times.map((t) => {
    const at = Math.max(Date.parse(t) || 0, 1);
    if (at > ms) {
      ms = at;
      seq = 0;
    } else seq++;
    return `${ms}-${seq}`;
  });
}

/**
 * Puts `rows` (field/value pairs, oldest first, with their times) back into `stream` unless `marker` exists: -1 when
 * it did (nothing written), else how many entries were restored.
 */
export async function restoreAuditStream(redis: Redis, keys: { stream: string; marker: string }, rows: { at: string; fields: string[] }[], maxEntries: number, markerValue: string): Promise<number> {
  const ids = restoredStreamIds(rows.map((r) => r.at));
  const payload = rows.map((r, i) => [ids[i] ?? '*', ...r.fields]);
  return Number(await redis.eval(AUDIT_STREAM_RESTORE_SCRIPT, 2, keys.stream, keys.marker, markerValue, String(maxEntries), JSON.stringify(payload)));
}
