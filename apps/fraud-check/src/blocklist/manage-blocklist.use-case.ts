import { Injectable } from '@nestjs/common';
import { AdminCall } from '../admin/operator.guard';
import { RedisAuditLog } from '../audit/audit-log';
import { BlocklistEntry, BlocklistName } from './blocklist';
import { RedisBlocklistStore } from './redis-blocklist.store';

export type BlocklistChange = { kind: 'CREATED' | 'UPDATED'; entry: BlocklistEntry } | { kind: 'REMOVED' | 'NOT_FOUND'; value: string };

/** Operators' blocklist actions; every one audited (changes atomically with the change itself). */
@Injectable()
export class ManageBlocklistUseCase {
  constructor(
    private readonly store: RedisBlocklistStore,
    private readonly auditLog: RedisAuditLog,
  ) {}

  async list(call: AdminCall, list: BlocklistName, cursor: string, limit: number): Promise<{ entries: BlocklistEntry[]; cursor: string }> {
    const page = await this.store.list(list, cursor, limit);
    await this.auditLog.record({ ...call.audit(list), outcome: 'ok' });
    return page;
  }

  async add(call: AdminCall, list: BlocklistName, value: string, reason: string | undefined): Promise<BlocklistChange> {
    const entry: BlocklistEntry = { value, reason, added_by: call.operator.id, added_at: call.at };
    const outcome = await this.store.put(list, entry, call.audit(`${list}:${value}`, reason));
    return { kind: outcome === 'created' ? 'CREATED' : 'UPDATED', entry };
  }

  async remove(call: AdminCall, list: BlocklistName, value: string, reason: string | undefined): Promise<BlocklistChange> {
    const outcome = await this.store.remove(list, value, call.audit(`${list}:${value}`, reason));
    return { kind: outcome === 'removed' ? 'REMOVED' : 'NOT_FOUND', value };
  }
}
