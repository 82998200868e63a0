// Blocklists in Redis: one hash for every list (field "<list>:<value>" -> JSON entry) under the operators' hash
// tag, so screening looks a payment's values up with one HMGET. Adding and removing run as one script with the
// audit entry and an operation key (see audit-log.ts): re-sending changes nothing.
import type { Redis } from '@payrail/messaging';
import { RedisScript, defineScript } from '../redis-script';
import { AUDIT_LUA, AUDIT_STREAM_KEY, AuditEntry, OPERATION_TTL_S, OPS_NAMESPACE, auditArgs, operationKey } from '../audit/audit-log';
import { BlocklistEntry, BlocklistHit, BlocklistName, BlocklistProbe, BlocklistReader } from './blocklist';

export const BLOCKLISTS_KEY = `${OPS_NAMESPACE}:blocklists`;
/** The hash field of a value on a list (list names never contain ":"; values may, e.g. IPv6). */
export const blocklistField = (list: BlocklistName, value: string) => `${list}:${value}`;

const PUT_SCRIPT = `${AUDIT_LUA}
-- KEYS: 1 blocklists hash, 2 audit stream, 3 operation key; ARGV: 1 field, 2 entry JSON, 3.. audit arguments
local done = redis.call('GET', KEYS[3])
if done then return done end
local outcome = 'created'
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then outcome = 'updated' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
audit(2, 3, outcome)
redis.call('SET', KEYS[3], outcome, 'EX', ${OPERATION_TTL_S})
return outcome
`;

const REMOVE_SCRIPT = `${AUDIT_LUA}
-- KEYS: 1 blocklists hash, 2 audit stream, 3 operation key; ARGV: 1 field, 2.. audit arguments
local done = redis.call('GET', KEYS[3])
if done then return done end
local outcome = 'not_found'
if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then outcome = 'removed' end
audit(2, 2, outcome)
redis.call('SET', KEYS[3], outcome, 'EX', ${OPERATION_TTL_S})
return outcome
`;

export class RedisBlocklistStore implements BlocklistReader {
  private readonly putScript: RedisScript<string>;
  private readonly removeScript: RedisScript<string>;

  constructor(
    private readonly redis: Redis,
    private readonly auditMaxEntries: number,
  ) {
    this.putScript = defineScript(redis, 'payrailFraudBlocklistPut', 3, PUT_SCRIPT);
    this.removeScript = defineScript(redis, 'payrailFraudBlocklistRemove', 3, REMOVE_SCRIPT);
  }

  async find(probes: BlocklistProbe[]): Promise<BlocklistHit[]> {
    if (probes.length === 0) return [];
    const found = await this.redis.hmget(BLOCKLISTS_KEY, ...probes.map((p) => blocklistField(p.list, p.value)));
    const hits: BlocklistHit[] = [];
    probes.forEach((probe, i) => {
      const raw = found[i];
      if (raw) hits.push({ ...probe, reason: (JSON.parse(raw) as BlocklistEntry).reason });
    });
    return hits;
  }

  async put(list: BlocklistName, entry: BlocklistEntry, audit: Omit<AuditEntry, 'outcome'>): Promise<'created' | 'updated'> {
    const outcome = await this.putScript(BLOCKLISTS_KEY, AUDIT_STREAM_KEY, operationKey(audit.request_id), blocklistField(list, entry.value), JSON.stringify(entry), ...auditArgs(audit, this.auditMaxEntries));
    if (outcome !== 'created' && outcome !== 'updated') throw new Error(`unexpected blocklist outcome ${outcome}`);
    return outcome;
  }

  async remove(list: BlocklistName, value: string, audit: Omit<AuditEntry, 'outcome'>): Promise<'removed' | 'not_found'> {
    const outcome = await this.removeScript(BLOCKLISTS_KEY, AUDIT_STREAM_KEY, operationKey(audit.request_id), blocklistField(list, value), ...auditArgs(audit, this.auditMaxEntries));
    if (outcome !== 'removed' && outcome !== 'not_found') throw new Error(`unexpected blocklist outcome ${outcome}`);
    return outcome;
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
