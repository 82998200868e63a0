// Blocklists in Redis: one hash for every list (field "<list>:<value>" -> JSON entry) under the operators' hash
// tag, so screening looks a payment's values up with one HMGET. Adding and removing run as one script with the
// audit entry and an operation key (see audit-log.ts): re-sending changes nothing.
//
// Redis is not where a list lives for good: every change is first published to the compacted blocklist topic
// (blocklist-journal.ts), and replayed from it on start and after a Redis loss. Each change carries a version
// ("<changed_at>|<request_id>"), kept per entry (also for removed ones) in a second hash: a replayed change applies
// only when it is newer than what Redis holds, so a replay twice, or racing a live change, changes nothing.
import type { Redis } from '@payrail/messaging';
import { RedisScript, defineScript } from '../redis-script';
import { AUDIT_LUA, AUDIT_STREAM_KEY, AuditEntry, OPERATION_TTL_S, OPS_NAMESPACE, auditArgs, operationKey } from '../audit/audit-log';
import { BlocklistEntry, BlocklistHit, BlocklistName, BlocklistProbe, BlocklistReader } from './blocklist';

export const BLOCKLISTS_KEY = `${OPS_NAMESPACE}:blocklists`;
/** field "<list>:<value>" -> version of the latest change applied to that entry (put or removed). */
export const BLOCKLIST_VERSIONS_KEY = `${OPS_NAMESPACE}:blocklist-versions`;
/** The hash field of a value on a list (list names never contain ":"; values may, e.g. IPv6). */
export const blocklistField = (list: BlocklistName, value: string) => `${list}:${value}`;

/** The version of a change: ISO 8601 UTC times of one format sort as text; the request id breaks ties. */
export const changeVersion = (changedAt: string, requestId: string) => `${changedAt}|${requestId}`;

const PUT_SCRIPT = `${AUDIT_LUA}
-- KEYS: 1 blocklists hash, 2 audit stream, 3 operation key, 4 versions hash
-- ARGV: 1 field, 2 entry JSON, 3 version, 4.. audit arguments
local done = redis.call('GET', KEYS[3])
if done then return done end
local outcome = 'created'
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then outcome = 'updated' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[3])
audit(2, 4, outcome)
redis.call('SET', KEYS[3], outcome, 'EX', ${OPERATION_TTL_S})
return outcome
`;

const REMOVE_SCRIPT = `${AUDIT_LUA}
-- KEYS: 1 blocklists hash, 2 audit stream, 3 operation key, 4 versions hash; ARGV: 1 field, 2 version, 3.. audit arguments
local done = redis.call('GET', KEYS[3])
if done then return done end
local outcome = 'not_found'
if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then outcome = 'removed' end
redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
audit(2, 3, outcome)
redis.call('SET', KEYS[3], outcome, 'EX', ${OPERATION_TTL_S})
return outcome
`;

const APPLY_SCRIPT = `
-- A replayed change, applied only when newer than the entry's version in Redis (no audit: it was audited when made).
-- KEYS: 1 blocklists hash, 2 versions hash; ARGV: 1 field, 2 version, 3 "put" or "removed", 4 entry JSON (put)
local current = redis.call('HGET', KEYS[2], ARGV[1])
if current and current >= ARGV[2] then return 0 end
if ARGV[3] == 'put' then redis.call('HSET', KEYS[1], ARGV[1], ARGV[4]) else redis.call('HDEL', KEYS[1], ARGV[1]) end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
`;

/** The hits among probes from what HMGET answered for their fields (same order). */
export function blocklistHits(probes: readonly BlocklistProbe[], found: readonly (string | null)[], offset = 0): BlocklistHit[] {
  const hits: BlocklistHit[] = [];
  probes.forEach((probe, i) => {
    const raw = found[offset + i];
    if (raw) hits.push({ ...probe, reason: (JSON.parse(raw) as BlocklistEntry).reason });
  });
  return hits;
}

/** A change as replayed from the blocklist topic. */
export type ReplayedBlocklistChange = { list: BlocklistName; version: string } & ({ change: 'put'; entry: BlocklistEntry } | { change: 'removed'; value: string });

export class RedisBlocklistStore implements BlocklistReader {
  private readonly putScript: RedisScript<string>;
  private readonly removeScript: RedisScript<string>;
  private readonly applyScript: RedisScript<number>;

  constructor(
    private readonly redis: Redis,
    private readonly auditMaxEntries: number,
  ) {
    this.putScript = defineScript(redis, 'payrailFraudBlocklistPut', 4, PUT_SCRIPT);
    this.removeScript = defineScript(redis, 'payrailFraudBlocklistRemove', 4, REMOVE_SCRIPT);
    this.applyScript = defineScript(redis, 'payrailFraudBlocklistApply', 2, APPLY_SCRIPT);
  }

  async find(probes: BlocklistProbe[]): Promise<BlocklistHit[]> {
    if (probes.length === 0) return [];
    return blocklistHits(probes, await this.redis.hmget(BLOCKLISTS_KEY, ...probes.map((p) => blocklistField(p.list, p.value))));
  }

  async put(list: BlocklistName, entry: BlocklistEntry, audit: Omit<AuditEntry, 'outcome'>): Promise<'created' | 'updated'> {
    const version = changeVersion(audit.at, audit.request_id);
    const outcome = await this.putScript(BLOCKLISTS_KEY, AUDIT_STREAM_KEY, operationKey(audit.request_id), BLOCKLIST_VERSIONS_KEY, blocklistField(list, entry.value), JSON.stringify(entry), version, ...auditArgs(audit, this.auditMaxEntries));
    if (outcome !== 'created' && outcome !== 'updated') throw new Error(`unexpected blocklist outcome ${outcome}`);
    return outcome;
  }

  async remove(list: BlocklistName, value: string, audit: Omit<AuditEntry, 'outcome'>): Promise<'removed' | 'not_found'> {
    const version = changeVersion(audit.at, audit.request_id);
    const outcome = await this.removeScript(BLOCKLISTS_KEY, AUDIT_STREAM_KEY, operationKey(audit.request_id), BLOCKLIST_VERSIONS_KEY, blocklistField(list, value), version, ...auditArgs(audit, this.auditMaxEntries));
    if (outcome !== 'removed' && outcome !== 'not_found') throw new Error(`unexpected blocklist outcome ${outcome}`);
    return outcome;
  }

  /** Applies a replayed change unless Redis holds the entry at the same or a newer version; true when it applied. */
  async apply(change: ReplayedBlocklistChange): Promise<boolean> {
    const field = blocklistField(change.list, change.change === 'put' ? change.entry.value : change.value);
    const applied = await this.applyScript(BLOCKLISTS_KEY, BLOCKLIST_VERSIONS_KEY, field, change.version, change.change, change.change === 'put' ? JSON.stringify(change.entry) : '');
    return applied === 1;
  }

  /** One page of a list (HSCAN order, may hold fewer than `count`); `cursor` "0" starts, a returned "0" means the end. */
  async list(list: BlocklistName, cursor: string, count: number): Promise<{ entries: BlocklistEntry[]; cursor: string }> {
    const [next, flat] = await this.redis.hscan(BLOCKLISTS_KEY, cursor, 'MATCH', `${list}:*`, 'COUNT', count);
    const entries: BlocklistEntry[] = [];
    for (let i = 1; i < flat.length; i += 2) entries.push(JSON.parse(flat[i] ?? '{}') as BlocklistEntry);
    return { entries, cursor: next };
  }

  /** Every entry of every list (backtests read a snapshot of the live lists; nothing is written). */
  async snapshot(lists: readonly BlocklistName[]): Promise<Record<BlocklistName, Map<string, BlocklistEntry>>> {
    const out = Object.fromEntries(lists.map((list) => [list, new Map<string, BlocklistEntry>()])) as Record<BlocklistName, Map<string, BlocklistEntry>>;
    for (const [field, raw] of Object.entries(await this.redis.hgetall(BLOCKLISTS_KEY))) {
      const list = field.slice(0, field.indexOf(':')) as BlocklistName;
      out[list]?.set(field.slice(list.length + 1), JSON.parse(raw) as BlocklistEntry);
    }
    return out;
  }

}
