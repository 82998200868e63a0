// The operators' audit trail: one Redis stream entry per admin call (who, what, when, outcome), including reads
// and refused calls. Changes are audited inside the same Lua script that makes them (blocklists, reviews), so a
// change is never without its entry; each script first checks an operation key named after the request id,
// so a command ioredis re-sends after a lost reply neither repeats the change nor writes a second entry.
//
// Everything operators touch lives under one hash tag ({ops}): blocklists, the review queue and this stream,
// so those scripts touch one slot (Redis Cluster ready).
import type { Redis } from '@payrail/messaging';
import { RedisScript, defineScript } from '../redis-script';

export const OPS_NAMESPACE = 'fraud:{ops}';
export const AUDIT_STREAM_KEY = `${OPS_NAMESPACE}:audit`;
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

export class RedisAuditLog {
  private readonly recordScript: RedisScript<number>;

  constructor(
    private readonly redis: Redis,
    private readonly maxEntries: number,
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
