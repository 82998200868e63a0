// The operators' audit trail: one Redis stream entry per admin call (who, what, when, outcome), including reads
// and refused calls. Changes are audited inside the same Lua script that makes them (blocklists, reviews), so a
// change is never without its entry; each script first checks an operation key named after the request id,
// so a command ioredis re-sends after a lost reply neither repeats the change nor writes a second entry.
//
// Everything operators touch lives under one hash tag ({ops}): blocklists, the review queue and this stream,
// so those scripts touch one slot (Redis Cluster ready).
//
// Redis holds the recent trail; the audit topic holds it for good (audit-journal.ts). An entry is recorded in Redis
// first, then published with bounded retries: the outcome is only known once the script ran, and a change must
// never be refused because Kafka is slow. A publish that still fails fails the admin call (500), so it never
// diverges silently; Redis keeps the entry and the operator sees the call failed.
import { type Redis, restoreAuditStream } from '@payrail/messaging';
import { RedisScript, defineScript } from '../redis-script';

export const OPS_NAMESPACE = 'fraud:{ops}';
export const AUDIT_STREAM_KEY = `${OPS_NAMESPACE}:audit`;
/**
 * Written once per Redis life, after everything fraud-check keeps on Kafka was put back (blocklists, audit trail,
 * decisions, reviews: recovery/operations-recovery.ts): a lost Redis has none, and screening waits until it is back.
 */
export const REDIS_LIFE_KEY = `${OPS_NAMESPACE}:redis-life`;
/** Written by the audit restore in the same script: the trail is restored once per Redis life, even if the rest of the restore is repeated. */
export const AUDIT_RESTORED_KEY = `${OPS_NAMESPACE}:audit-restored`;
/** How long an operation key remembers the outcome of a request (re-sent commands arrive within seconds). */
export const OPERATION_TTL_S = 3_600;

export type OperatorRole = 'read' | 'write';

export interface AuditEntry {
  request_id: string;
  at: string;
  /** Operator id, or "anonymous" when the call was not authenticated. */
  operator: string;
  role: OperatorRole | 'none';
  /** e.g. blocklist.add, review.decide, reviews.list */
  action: string;
  /** What the action was about, e.g. "ip:203.0.113.7" or a payment id. */
  target: string;
  /** created, removed, decided, ok, unauthenticated, forbidden, not_found, conflict, ... */
  outcome: string;
  detail?: string;
}

export const operationKey = (requestId: string) => `${OPS_NAMESPACE}:op:${requestId}`;

/**
 * Lua shared by the scripts that audit: `audit(keyIndex, argvFrom, outcome)` appends one entry to the stream at
 * KEYS[keyIndex] from ARGV[argvFrom] (max length) and the field/value pairs after it.
 */
export const AUDIT_LUA = `
local function audit(keyIndex, argvFrom, outcome)
  local args = { 'XADD', KEYS[keyIndex], 'MAXLEN', '~', ARGV[argvFrom], '*', 'outcome', outcome }
  for i = argvFrom + 1, #ARGV do args[#args + 1] = ARGV[i] end
  redis.call(unpack(args))
end
`;

/** The audit arguments of a script call: max length, then field/value pairs (outcome is added by the script). */
export function auditArgs(entry: Omit<AuditEntry, 'outcome'>, maxEntries: number): string[] {
  const fields: [string, string][] = [
    ['request_id', entry.request_id],
    ['at', entry.at],
    ['operator', entry.operator],
    ['role', entry.role],
    ['action', entry.action],
    ['target', entry.target],
  ];
  if (entry.detail !== undefined) fields.push(['detail', entry.detail]);
  return [String(maxEntries), ...fields.flat()];
}

const RECORD_SCRIPT = `${AUDIT_LUA}
-- KEYS: 1 audit stream, 2 operation key; ARGV: 1 outcome, 2.. audit arguments
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
audit(1, 2, ARGV[1])
redis.call('SET', KEYS[2], ARGV[1], 'EX', ${OPERATION_TTL_S})
return 1
`;

/** Port: where an audit entry is published once Redis recorded it. */
export interface AuditJournal {
  publish(entry: AuditEntry): Promise<void>;
}

export class RedisAuditLog {
  private readonly recordScript: RedisScript<number>;

  constructor(
    private readonly redis: Redis,
    private readonly maxEntries: number,
    /** Where each entry is published once Redis holds it; none in backtests and unit tests. */
    private readonly journal?: AuditJournal,
  ) {
    this.recordScript = defineScript(redis, 'payrailFraudAudit', 2, RECORD_SCRIPT);
  }

  get maxLength(): number {
    return this.maxEntries;
  }

  /** Audits a call that changed nothing (reads, refusals); changes are audited by their own scripts. */
  async record(entry: AuditEntry): Promise<void> {
    const { outcome, ...rest } = entry;
    await this.recordScript(AUDIT_STREAM_KEY, operationKey(entry.request_id), outcome, ...auditArgs(rest, this.maxEntries));
    await this.journal?.publish(entry);
  }

  /** Publishes an entry a change script already recorded in Redis (with the outcome it returned). */
  async recorded(entry: AuditEntry): Promise<void> {
    await this.journal?.publish(entry);
  }

  /** The marker of this Redis life, or null when Redis lost its data (or was never restored). */
  lifeMarker(): Promise<string | null> {
    return this.redis.get(REDIS_LIFE_KEY);
  }

  /**
   * Puts entries read back from the audit topic (oldest first) into the stream and writes the restored marker,
   * unless that marker exists: -1 when it did (nothing written), else how many entries were restored.
   */
  async restore(entries: readonly AuditEntry[], marker: string): Promise<number> {
    const rows = entries.map(({ outcome, ...rest }) => ({ at: rest.at, fields: ['outcome', outcome, ...auditArgs(rest, this.maxEntries).slice(1)] }));
    return restoreAuditStream(this.redis, { stream: AUDIT_STREAM_KEY, marker: AUDIT_RESTORED_KEY }, rows, this.maxEntries, marker);
  }


  /** Newest first; `before` is a stream id from a previous page. */
  async list(count: number, before?: string): Promise<{ id: string; entry: AuditEntry }[]> {
    const end = before ? `(${before}` : '+';
    const rows = await this.redis.xrevrange(AUDIT_STREAM_KEY, end, '-', 'COUNT', count);
    return rows.map(([id, flat]) => {
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] ?? ''] = flat[i + 1] ?? '';
      return {
        id,
        entry: {
          request_id: fields['request_id'] ?? '',
          at: fields['at'] ?? '',
          operator: fields['operator'] ?? '',
          role: (fields['role'] ?? 'none') as AuditEntry['role'],
          action: fields['action'] ?? '',
          target: fields['target'] ?? '',
          outcome: fields['outcome'] ?? '',
          detail: fields['detail'],
        },
      };
    });
  }
}
