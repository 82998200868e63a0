// The console's audit trail: one Redis stream entry per action of a signed-in operator (sign-in, sign-out, REVIEW
// decisions, dead-letter replays), including refused ones (a viewer's attempt): who, what, when, and how it ended.
// Refused sign-ins are not operators' actions: they are counted in Prometheus instead, so no number of them can
// push operators' entries out of the capped stream. Appending is one script that
// first claims an operation key named after the request id, so a command ioredis re-sends after a lost reply
// never writes a second entry. No passwords, tokens or cookies are ever written.
// Every entry is also published to the operators' audit topic (after Redis recorded it: a publish that fails after
// its retries fails the request, so the two never diverge silently), and the stream is restored from that topic
// once per Redis life (restore(): at start, and when the marker is found missing).
import { OperatorAuditJournal, type Redis, restoreAuditStream } from '@payrail/messaging';
import type { ConsoleRole } from '../auth/operator-directory';

export const AUDIT_STREAM_KEY = 'console:audit';
/** Written by the restore script: this Redis holds the trail (restored, or new). */
export const AUDIT_RESTORED_KEY = 'console:audit:restored';
const RESTORED_ENTRIES_MAX = 10_000;
const OPERATION_TTL_S = 3_600;
const operationKey = (requestId: string) => `console:audit:op:${requestId}`;

export type AuditAction = 'session.sign-in' | 'session.sign-out' | 'review.approve' | 'review.decline' | 'dead-letter.replay';

export interface AuditEntry {
  readonly request_id: string;
  readonly at: string;
  /** The signed-in username. */
  readonly operator: string;
  readonly role: ConsoleRole | 'none';
  readonly action: AuditAction;
  /** What the action was about: a payment id, a dead letter's topic/partition/offset, or the session. */
  readonly target: string;
  /** ok, denied, throttled, forbidden, decided, already_decided, conflict, not_found, replayed, unavailable, failed, ... */
  readonly outcome: string;
  readonly detail?: string;
  /** The client's address (sign-ins): the socket's, or what a TRUSTED_PROXIES proxy reports. */
  readonly address?: string;
}

const APPEND_SCRIPT = `
-- KEYS: 1 audit stream, 2 operation key; ARGV: 1 max length, 2.. field/value pairs
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ${OPERATION_TTL_S}) then return 0 end
local args = { 'XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*' }
for i = 2, #ARGV do args[#args + 1] = ARGV[i] end
redis.call(unpack(args))
return 1
`;

const FIELDS: readonly (keyof AuditEntry)[] = ['request_id', 'at', 'operator', 'role', 'action', 'target', 'outcome', 'detail', 'address'];
const pairs = (entry: AuditEntry): string[] => FIELDS.flatMap((f) => (entry[f] === undefined ? [] : [f, String(entry[f])]));

export class AuditTrail {
  constructor(
    private readonly redis: Redis,
    private readonly maxEntries: number,
    /** The durable copy; none in unit tests. */
    private readonly journal?: OperatorAuditJournal,
  ) {}

  /** Appends the entry once per request id (a repeat is a no-op) and publishes it; true when this call wrote it. */
  async record(entry: AuditEntry): Promise<boolean> {
    const written = (await this.redis.eval(APPEND_SCRIPT, 2, AUDIT_STREAM_KEY, operationKey(entry.request_id), String(this.maxEntries), ...pairs(entry))) === 1;
    // published also when Redis already had it: a retry of a request whose publish failed publishes it then
    await this.journal?.publish(entry);
    return written;
  }

  /** True when this Redis holds the trail (restored after a loss, or new). */
  async intact(): Promise<boolean> {
    return (await this.redis.exists(AUDIT_RESTORED_KEY)) === 1;
  }

  /**
   * After a Redis loss (the restored marker is missing): the newest entries back from the audit topic, once per
   * Redis life. -1 when the marker existed (nothing written), else how many entries were restored.
   */
  async restore(): Promise<number> {
    if (!this.journal || (await this.intact())) return -1;
    // the newest 10,000 at most: the page shows the recent trail; the whole trail stays on the topic
    const entries = await this.journal.readRecent(Math.min(this.maxEntries, RESTORED_ENTRIES_MAX));
    const rows = entries.map((e) => ({ at: e.at, fields: pairs({ ...e, role: e.role as AuditEntry['role'], action: e.action as AuditAction }) }));
    return restoreAuditStream(this.redis, { stream: AUDIT_STREAM_KEY, marker: AUDIT_RESTORED_KEY }, rows, this.maxEntries, new Date().toISOString());
  }

  /** Newest first. */
  async recent(count: number): Promise<(AuditEntry & { id: string })[]> {
    const rows = await this.redis.xrevrange(AUDIT_STREAM_KEY, '+', '-', 'COUNT', count);
    return rows.map(([id, flat]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i] ?? ''] = flat[i + 1] ?? '';
      return {
        id,
        request_id: f['request_id'] ?? '',
        at: f['at'] ?? '',
        operator: f['operator'] ?? '',
        role: (f['role'] ?? 'none') as AuditEntry['role'],
        action: (f['action'] ?? '') as AuditAction,
        target: f['target'] ?? '',
        outcome: f['outcome'] ?? '',
        detail: f['detail'],
        address: f['address'],
      };
    });
  }
}
