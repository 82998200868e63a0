// Blocklists in Redis: one hash per list (value -> JSON entry) under the operators' hash tag. Adding and removing
// run as one script with the audit entry and an operation key (see audit-log.ts): re-sending changes nothing.
// Screening looks up every probe of a payment in one round trip.
import type { Redis } from '@payrail/messaging';
import { RedisScript, defineScript } from '../redis-script';
import { AUDIT_LUA, AUDIT_STREAM_KEY, AuditEntry, OPERATION_TTL_S, OPS_NAMESPACE, auditArgs, operationKey } from '../audit/audit-log';
import { BlocklistEntry, BlocklistHit, BlocklistName, BlocklistProbe, BlocklistReader } from './blocklist';

export const blocklistKey = (list: BlocklistName) => `${OPS_NAMESPACE}:blocklist:${list}`;

const PUT_SCRIPT = `${AUDIT_LUA}
-- KEYS: 1 list hash, 2 audit stream, 3 operation key; ARGV: 1 value, 2 entry JSON, 3.. audit arguments
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
-- KEYS: 1 list hash, 2 audit stream, 3 operation key; ARGV: 1 value, 2.. audit arguments
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
    const found = await Promise.all(probes.map((p) => this.redis.hget(blocklistKey(p.list), p.value)));
    const hits: BlocklistHit[] = [];
    probes.forEach((probe, i) => {
      const raw = found[i];
      if (raw) hits.push({ ...probe, reason: (JSON.parse(raw) as BlocklistEntry).reason });
    });
    return hits;
  }

  async put(list: BlocklistName, entry: BlocklistEntry, audit: Omit<AuditEntry, 'outcome'>): Promise<'created' | 'updated'> {
    const outcome = await this.putScript(blocklistKey(list), AUDIT_STREAM_KEY, operationKey(audit.request_id), entry.value, JSON.stringify(entry), ...auditArgs(audit, this.auditMaxEntries));
    if (outcome !== 'created' && outcome !== 'updated') throw new Error(`unexpected blocklist outcome ${outcome}`);
    return outcome;
  }

  async remove(list: BlocklistName, value: string, audit: Omit<AuditEntry, 'outcome'>): Promise<'removed' | 'not_found'> {
    const outcome = await this.removeScript(blocklistKey(list), AUDIT_STREAM_KEY, operationKey(audit.request_id), value, ...auditArgs(audit, this.auditMaxEntries));
    if (outcome !== 'removed' && outcome !== 'not_found') throw new Error(`unexpected blocklist outcome ${outcome}`);
    return outcome;
  }

  /** One page of a list (HSCAN order); `cursor` "0" starts, a returned "0" means the end. */
  async list(list: BlocklistName, cursor: string, count: number): Promise<{ entries: BlocklistEntry[]; cursor: string }> {
    const [next, flat] = await this.redis.hscan(blocklistKey(list), cursor, 'COUNT', count);
    const entries: BlocklistEntry[] = [];
    for (let i = 1; i < flat.length; i += 2) entries.push(JSON.parse(flat[i] ?? '{}') as BlocklistEntry);
    return { entries, cursor: next };
  }

  /** Every entry of every list (backtests read a snapshot of the live lists; nothing is written). */
  async snapshot(lists: readonly BlocklistName[]): Promise<Record<BlocklistName, Map<string, BlocklistEntry>>> {
    const out = {} as Record<BlocklistName, Map<string, BlocklistEntry>>;
    for (const list of lists) {
      const all = await this.redis.hgetall(blocklistKey(list));
      out[list] = new Map(Object.entries(all).map(([value, raw]) => [value, JSON.parse(raw) as BlocklistEntry]));
    }
    return out;
  }

}
