// Operators' blocklist actions; every one audited (changes atomically with the change itself, in one script).
//
// A change is published to the compacted blocklist topic first (acks=all), then applied to Redis: Kafka is the
// durable record the lists are rebuilt from, so nothing may be in Redis that Kafka lacks (it would vanish with a
// Redis loss). If the publish fails, nothing changed and the call fails; if Redis fails after the publish, the call
// fails and the change is applied by the next replay (start, Redis loss) or by the operator's retry: both converge,
// because the latest change of an entry wins. The audit entry is published after the script, which decides its
// outcome (audit-log.ts).
import { Injectable } from '@nestjs/common';
import { AdminCall } from '../admin/operator.guard';
import { RedisAuditLog } from '../audit/audit-log';
import { BlocklistEntry, BlocklistName } from './blocklist';
import { BlocklistJournal, blocklistChange } from './blocklist-journal';
import { RedisBlocklistStore } from './redis-blocklist.store';

export type BlocklistChange = { kind: 'CREATED' | 'UPDATED'; entry: BlocklistEntry } | { kind: 'REMOVED' | 'NOT_FOUND'; value: string };

@Injectable()
export class ManageBlocklistUseCase {
  constructor(
    private readonly store: RedisBlocklistStore,
    private readonly auditLog: RedisAuditLog,
    private readonly journal: BlocklistJournal,
  ) {}

  async list(call: AdminCall, list: BlocklistName, cursor: string, limit: number): Promise<{ entries: BlocklistEntry[]; cursor: string }> {
    const page = await this.store.list(list, cursor, limit);
    await this.auditLog.record({ ...call.audit(list), outcome: 'ok' });
    return page;
  }

  async add(call: AdminCall, list: BlocklistName, value: string, reason: string | undefined): Promise<BlocklistChange> {
    const entry: BlocklistEntry = { value, reason, added_by: call.operator.id, added_at: call.at };
    const audit = call.audit(`${list}:${value}`, reason);
    await this.journal.publish(blocklistChange(list, value, 'put', { ...audit, reason }));
    const outcome = await this.store.put(list, entry, audit);
    await this.auditLog.recorded({ ...audit, outcome });
    return { kind: outcome === 'created' ? 'CREATED' : 'UPDATED', entry };
  }

  async remove(call: AdminCall, list: BlocklistName, value: string, reason: string | undefined): Promise<BlocklistChange> {
    const audit = call.audit(`${list}:${value}`, reason);
    // a removal of an entry that is not listed is published too: harmless on replay, and the call cannot know first
    await this.journal.publish(blocklistChange(list, value, 'removed', { ...audit, reason }));
    const outcome = await this.store.remove(list, value, audit);
    await this.auditLog.recorded({ ...audit, outcome });
    return { kind: outcome === 'removed' ? 'REMOVED' : 'NOT_FOUND', value };
  }
}
