// Admission of a verified submission, shared by every ingest instance through Redis, in ONE round trip (a Lua
// script, atomic): the upstream's rate limit (GCRA), its Idempotency-Key, and the jti replay guard.
//
// - Rate limit: GCRA (the generic cell rate algorithm) keeps one number per upstream, the theoretical arrival time
//   of its next request, on Redis' clock (TIME) so that instances with skewed clocks agree. `perSecond` sustained,
//   `burst` at once; a refused request changes nothing and learns how long to wait.
// - Idempotency-Key: the first request with a key claims it with the hash of its payment, a unique owner id and a
//   lease, runs, and stores its typed result; a concurrent duplicate waits for that result, a later one gets it, the
//   same key with another payment is a conflict. A claim whose owner died (its lease ran out without a result) is
//   taken over by the next retry: the request runs again and, its payment id being derived from the request
//   (payment-id.ts), produces the same payment. Keys live >= 24 h.
// - Replay: the jti is claimed per upstream, for longer than the freshness window, by the request's payment id. The
//   same jti again is a replay unless it comes with the Idempotency-Key it was first claimed with (then it is that
//   request's retry, e.g. after its idempotency record was lost): a careful retry is answered, never refused.
//
// ioredis re-sends a command whose reply was lost on a reconnect: the script records its verdict under the
// request's operation id, and a re-sent copy returns that verdict instead of charging the rate limit or claiming
// again (FIELD-NOTES: every mutating script must be idempotent). Everything is read and decided before the first
// write. All keys of one upstream share the hash tag {upstream-id} (one Redis Cluster slot).
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from '@payrail/messaging';
import type { RateLimit } from '../config';

const ADMIT = `
local marker, rate, idem, jti, life = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local op, rate_on, emission, tolerance = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local idem_on, payment_hash, idem_ttl, jti_ttl = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local request_id, lease_ms = ARGV[9], tonumber(ARGV[10])
local done = redis.call('GET', marker)
if done then
  if done == 'DUPLICATE' or done == 'IN_PROGRESS' then return {done, redis.call('GET', idem) or ''} end
  return {done}
end
-- this Redis has not restored the upstream's replay guard (jti claims) since it last lost its data
if redis.call('EXISTS', life) == 0 then return {'UNGUARDED'} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat
if rate_on == '1' then
  tat = tonumber(redis.call('GET', rate) or '0')
  if tat < now then tat = now end
  if tat - now > tolerance then return {'LIMITED', string.format('%d', tat - now - tolerance)} end
end
local existing = false
if idem_on == '1' then existing = redis.call('GET', idem) end
local verdict = 'ADMITTED'
if existing then
  local entry = cjson.decode(existing)
  if entry.hash ~= payment_hash then
    verdict = 'CONFLICT'
  elseif entry.result ~= nil then
    verdict = 'DUPLICATE'
  elseif tonumber(entry.lease_until or 0) > now / 1000 then
    verdict = 'IN_PROGRESS'
  end
  -- else: the owner's lease ran out without a result (it died): this retry takes the request over
else
  -- the claim is "<payment id> <owner>"; a jti seen again is a replay, unless it is the retry of the request that
  -- claimed it, under the same key (so the same payment id)
  local claimed = redis.call('GET', jti)
  if claimed and (idem_on ~= '1' or string.sub(claimed, 1, string.len(request_id) + 1) ~= request_id .. ' ') then verdict = 'REPLAYED' end
end
if rate_on == '1' then
  local next_tat = tat + emission
  redis.call('SET', rate, string.format('%d', next_tat), 'PX', math.floor((next_tat - now) / 1000) + 1000)
end
if verdict == 'ADMITTED' then
  redis.call('SET', jti, request_id .. ' ' .. op, 'EX', jti_ttl)
  if idem_on == '1' then
    redis.call('SET', idem, cjson.encode({hash = payment_hash, owner = op, lease_until = math.floor(now / 1000) + lease_ms}), 'EX', idem_ttl)
  end
end
redis.call('SET', marker, verdict, 'PX', 60000)
if verdict == 'DUPLICATE' or verdict == 'IN_PROGRESS' then return {verdict, existing} end
return {verdict}
`;

// Undo of an admission whose processing failed unexpectedly: frees the key and the jti, only if still ours.
const RELEASE = `
local idem, jti, op, request_id = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
local entry = redis.call('GET', idem)
if entry and cjson.decode(entry).owner == op then redis.call('DEL', idem) end
if redis.call('GET', jti) == request_id .. ' ' .. op then redis.call('DEL', jti) end
return 1
`;

export interface AdmissionRequest<R> {
  upstreamId: string;
  jti: string;
  /** Seconds the jti stays claimed: longer than a token can be accepted. */
  jtiTtlSeconds: number;
  /** Hash of what the Idempotency-Key must stay bound to (the payment, canonical). */
  paymentHash: string;
  /** The payment id this request maps to (payment-id.ts): what its jti is claimed by. */
  requestId: string;
  idempotencyKey?: string;
  /** Omitted: not rate limited (the Kafka channel, where the consumer sets the pace). */
  rateLimit?: RateLimit;
  /** How long a concurrent duplicate waits for the first request's result. */
  waitMs?: number;
  /** How long a claim of the Idempotency-Key stays its owner's without a result (default 10 s); then a retry takes over. */
  leaseMs?: number;
  /** Type guard for results read back from Redis. */
  isResult: (value: unknown) => value is R;
  /** Unique per request (default: a random UUID). The same id sent again gets the first verdict, nothing more. */
  operationId?: string;
}

/** What the caller does next. */
export type Admission<R> =
  | { kind: 'ADMITTED'; ticket: AdmissionTicket }
  | { kind: 'RATE_LIMITED'; retryAfterMs: number }
  | { kind: 'REPLAYED' }
  | { kind: 'DUPLICATE'; result: R }
  | { kind: 'CONFLICT' }
  | { kind: 'IN_PROGRESS' }
  /** Redis lost its data and the replay guard is not restored yet (ReplayGuardRecovery): admit nothing. */
  | { kind: 'UNGUARDED' };

/** Held by the admitted request until it completes (stores its result) or releases (fails). */
export interface AdmissionTicket {
  readonly op: string;
  readonly requestId: string;
  readonly upstreamId: string;
  readonly jtiKey: string;
  readonly idempotency?: { key: string; paymentHash: string };
}

interface IdempotencyEntry<R> {
  hash: string;
  owner: string;
  /** Epoch ms (Redis' clock) until which the owner holds the claim without a result. */
  lease_until?: number;
  result?: R;
}

type RedisWithScripts = Redis & {
  payrailAdmit(...args: (string | number)[]): Promise<[string, string?]>;
  payrailRelease(...args: string[]): Promise<number>;
};

/** Set per upstream once its replay guard is in this Redis (restored after a loss, or new): see ReplayGuardRecovery. */
export const guardLifeKey = (upstreamId: string) => `adm:{${upstreamId}}:life`;
export const jtiClaimKey = (upstreamId: string, jti: string) => `jti:{${upstreamId}}:${sha256(jti)}`;

export function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('base64url');
}

export class AdmissionStore {
  private readonly redis: RedisWithScripts;

  constructor(
    redis: Redis,
    private readonly idempotencyTtlSeconds: number,
  ) {
    // defineCommand: EVALSHA with the script's hash, EVAL once if Redis does not know it yet; keys get the prefix
    redis.defineCommand('payrailAdmit', { numberOfKeys: 5, lua: ADMIT });
    redis.defineCommand('payrailRelease', { numberOfKeys: 2, lua: RELEASE });
    this.redis = redis as RedisWithScripts;
  }

  private idempotencyKey(upstreamId: string, key: string): string {
    // hash the caller's key: any 255 characters, never a Redis key injection, fixed length
    return `idem:{${upstreamId}}:${sha256(key)}`;
  }

  private jtiKey(upstreamId: string, jti: string): string {
    return jtiClaimKey(upstreamId, jti);
  }

  async admit<R>(req: AdmissionRequest<R>): Promise<Admission<R>> {
    const op = req.operationId ?? randomUUID();
    const idemKey = req.idempotencyKey === undefined ? `idem:{${req.upstreamId}}:none` : this.idempotencyKey(req.upstreamId, req.idempotencyKey);
    const jtiKey = this.jtiKey(req.upstreamId, req.jti);
    const emissionUs = req.rateLimit ? Math.max(1, Math.floor(1_000_000 / req.rateLimit.perSecond)) : 0;
    const [verdict, value] = await this.redis.payrailAdmit(
      `adm:{${req.upstreamId}}:${op}`,
      `rl:{${req.upstreamId}}`,
      idemKey,
      jtiKey,
      guardLifeKey(req.upstreamId),
      op,
      req.rateLimit ? '1' : '0',
      emissionUs,
      req.rateLimit ? emissionUs * (req.rateLimit.burst - 1) : 0,
      req.idempotencyKey === undefined ? '0' : '1',
      req.paymentHash,
      this.idempotencyTtlSeconds,
      req.jtiTtlSeconds,
      req.requestId,
      req.leaseMs ?? 10_000,
    );
    switch (verdict) {
      case 'ADMITTED':
        return { kind: 'ADMITTED', ticket: { op, requestId: req.requestId, upstreamId: req.upstreamId, jtiKey, idempotency: req.idempotencyKey === undefined ? undefined : { key: idemKey, paymentHash: req.paymentHash } } };
      case 'UNGUARDED':
        return { kind: 'UNGUARDED' };
      case 'LIMITED':
        return { kind: 'RATE_LIMITED', retryAfterMs: Math.ceil(Number(value) / 1000) };
      case 'REPLAYED':
        return { kind: 'REPLAYED' };
      case 'CONFLICT':
        return { kind: 'CONFLICT' };
      case 'DUPLICATE':
      case 'IN_PROGRESS':
        return this.awaitFirst(idemKey, req.paymentHash, value ?? '', req.waitMs ?? 5_000, req.isResult);
      default:
        throw new Error(`admission script answered ${String(verdict)}`);
    }
  }

  /** The first request's result for a duplicate: at once if it is there, else polled until `waitMs`. */
  private async awaitFirst<R>(idemKey: string, paymentHash: string, raw: string, waitMs: number, isResult: (v: unknown) => v is R): Promise<Admission<R>> {
    const deadline = Date.now() + waitMs;
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      // an empty entry: the first request failed and released the key; this one is not admitted either (retry)
      if (raw === '') return { kind: 'IN_PROGRESS' };
      const existing = JSON.parse(raw) as IdempotencyEntry<unknown>;
      if (existing.hash !== paymentHash) return { kind: 'CONFLICT' };
      if (existing.result !== undefined) {
        if (!isResult(existing.result)) throw new Error('stored idempotent result has an unexpected shape');
        return { kind: 'DUPLICATE', result: existing.result };
      }
      if (Date.now() > deadline) return { kind: 'IN_PROGRESS' };
      await new Promise((resolve) => setTimeout(resolve, delay));
      raw = (await this.redis.get(idemKey)) ?? '';
    }
  }

  /** Stores the admitted request's result for its duplicates (a plain SET of the same value: idempotent). */
  async complete<R>(ticket: AdmissionTicket, result: R): Promise<void> {
    if (!ticket.idempotency) return;
    const entry: IdempotencyEntry<R> = { hash: ticket.idempotency.paymentHash, owner: ticket.op, result };
    await this.redis.set(ticket.idempotency.key, JSON.stringify(entry), 'EX', this.idempotencyTtlSeconds);
  }

  /** The admitted request failed unexpectedly: a retry may run it again (same key, same jti). */
  async release(ticket: AdmissionTicket): Promise<void> {
    await this.redis.payrailRelease(ticket.idempotency?.key ?? `idem:{${ticket.upstreamId}}:none`, ticket.jtiKey, ticket.op, ticket.requestId);
  }
}
