// The audit trail's durable copy: every entry is also an event on the operators' audit topic (append-only, long
// retention), keyed by service so fraud-check's entries stay in order on one partition. Restoring after a Redis loss
// reads the tail of that topic, never all of it.
import { OperatorAuditEntry } from '@payrail/contracts';
import { EventProducer, Kafka, OperatorAuditJournal } from '@payrail/messaging';
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

export class KafkaAuditJournal implements AuditJournal {
  private readonly journal: OperatorAuditJournal;

  constructor(producer: EventProducer, kafka: Kafka) {
    this.journal = new OperatorAuditJournal(producer, kafka, AUDIT_SERVICE);
  }

  async publish(entry: AuditEntry): Promise<void> {
    const { service: _service, ...event } = toAuditEvent(entry);
    await this.journal.publish(event);
  }

  /** fraud-check's newest `count` entries, oldest first. */
  async readRecent(count: number): Promise<AuditEntry[]> {
    return (await this.journal.readRecent(count)).map(fromAuditEvent);
  }
}
