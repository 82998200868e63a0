// The audit trail's durable copy: every entry is also an event on the operators' audit topic (append-only, long
// retention), keyed by service so fraud-check's entries stay in order on one partition. Restoring after a Redis loss
// reads the tail of that topic, never all of it.
import { OperatorAuditEntry } from '@payrail/contracts';
import { EventProducer, Kafka, OperatorAuditJournal } from '@payrail/messaging';
import { AuditEntry, AuditJournal } from './audit-log';

export const AUDIT_SERVICE = 'fraud-check';

export function fromAuditEvent(event: OperatorAuditEntry): AuditEntry {
  const { service: _service, address: _address, role, ...rest } = event;
  return { ...rest, role: role === 'read' || role === 'write' ? role : 'none' };
}

export class KafkaAuditJournal implements AuditJournal {
  private readonly journal: OperatorAuditJournal;

  constructor(producer: EventProducer, kafka: Kafka) {
    this.journal = new OperatorAuditJournal(producer, kafka, AUDIT_SERVICE);
  }

  publish(entry: AuditEntry): Promise<void> {
    return this.journal.publish(entry);
  }

  /** fraud-check's newest `count` entries, oldest first. */
  async readRecent(count: number): Promise<AuditEntry[]> {
    return (await this.journal.readRecent(count)).map(fromAuditEvent);
  }
}
