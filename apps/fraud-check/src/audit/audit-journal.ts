// The audit trail's durable copy: every entry is also an event on the operators' audit topic (append-only, long
// retention), keyed by service so fraud-check's entries stay in order on one partition. Restoring after a Redis loss
// reads the tail of that topic, never all of it.
import { OperatorAuditEntry, TOPICS } from '@payrail/contracts';
import { EventProducer, Kafka, decode, partitionRanges, readPartitionRanges } from '@payrail/messaging';
import { AuditEntry } from './audit-log';

/** Port: where an audit entry is published once Redis recorded it. */
export interface AuditJournal {
  publish(entry: AuditEntry): Promise<void>;
}

export const AUDIT_SERVICE = 'fraud-check';

export function toAuditEvent(entry: AuditEntry): OperatorAuditEntry {
  const { detail, ...rest } = entry;
  return detail === undefined ? { service: AUDIT_SERVICE, ...rest } : { service: AUDIT_SERVICE, ...rest, detail };
}

export function fromAuditEvent(event: OperatorAuditEntry): AuditEntry {
  const { service: _service, address: _address, role, ...rest } = event;
  return { ...rest, role: role === 'read' || role === 'write' ? role : 'none' };
}

/** Bounded retries with a short backoff: the entry is already in Redis, the publish must not be dropped silently. */
export async function withRetry<T>(attempts: number, backoffMs: number, fn: () => Promise<T>): Promise<T> {
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

export class KafkaAuditJournal implements AuditJournal {
  constructor(
    private readonly producer: EventProducer,
    private readonly kafka: Kafka,
  ) {}

  async publish(entry: AuditEntry): Promise<void> {
    const event = toAuditEvent(entry);
    await withRetry(3, 200, () => this.producer.publish(TOPICS.operatorAudit, event, { key: AUDIT_SERVICE, correlationId: entry.request_id, eventId: `${AUDIT_SERVICE}:${entry.request_id}:audit` }));
  }

  /**
   * fraud-check's newest `count` entries, oldest first. Reads at most `count` x (services on the topic) messages
   * at the end of each partition: another trail may share fraud-check's partition.
   */
  async readRecent(count: number): Promise<AuditEntry[]> {
    const window = BigInt(count * 2);
    const ranges = (await partitionRanges(this.kafka, TOPICS.operatorAudit.name)).map((r) => ({ ...r, start: r.end - window > r.start ? r.end - window : r.start }));
    const found: AuditEntry[] = [];
    await readPartitionRanges(
      this.kafka,
      ranges,
      (_topic, _partition, message) => {
        try {
          const event = decode(TOPICS.operatorAudit, message).data as OperatorAuditEntry;
          if (event.service === AUDIT_SERVICE) found.push(fromAuditEvent(event));
        } catch {
          // an undecodable message is no entry of ours
        }
        return 'continue';
      },
      { clientLabel: 'payrail-fraud-audit-restore' },
    );
    // one key, one partition: offset order is the order the entries were published in
    return found.slice(-count);
  }
}
