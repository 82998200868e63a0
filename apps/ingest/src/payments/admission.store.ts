// Admission of a verified submission, shared by every ingest instance through Redis, in ONE round trip (a Lua
// script, atomic): the upstream's rate limit (GCRA), its Idempotency-Key, and the jti replay guard.
//
// - Rate limit: GCRA (the generic cell rate algorithm) keeps one number per upstream, the theoretical arrival time
//   of its next request, on Redis' clock (TIME) so that instances with skewed clocks agree. `perSecond` sustained,
//   `burst` at once; a refused request changes nothing and learns how long to wait.
// - Idempotency-Key: the first request with a key claims it with the hash of its payment and a unique owner id,
//   runs, and stores its typed result; a concurrent duplicate waits for that result, a later one gets it, the same
//   key with another payment is a conflict. Keys live >= 24 h.
// - Replay: the jti is claimed once per upstream for longer than the freshness window.
//
// ioredis re-sends a command whose reply was lost on a reconnect: the script records its verdict under the
// request's operation id, and a re-sent copy returns that verdict instead of charging the rate limit or claiming
// again (FIELD-NOTES: every mutating script must be idempotent). Everything is read and decided before the first
// write. All keys of one upstream share the hash tag {upstream-id} (one Redis Cluster slot).
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from '@payrail/messaging';
import type { RateLimit } from '../config';

const ADMIT = `
local marker, rate, idem, jti = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local op, rate_on, emission, tolerance = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local idem_on, idem_entry, idem_ttl, jti_ttl = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local done = redis.call('GET', marker)
if done then
  if done == 'DUPLICATE' then return {done, redis.call('GET', idem) or ''} end
  return {done}
end
local now, tat
if rate_on == '1' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  tat = tonumber(redis.call('GET', rate) or '0')
  if tat < now then tat = now end
  if tat - now > tolerance then return {'LIMITED', string.format('%d', tat - now - tolerance)} end
end
local existing = false
if idem_on == '1' then existing = redis.call('GET', idem) end
local verdict = 'ADMITTED'
if existing then
  verdict = 'DUPLICATE'
elseif redis.call('EXISTS', jti) == 1 then
  verdict = 'REPLAYED'
end
if rate_on == '1' then
  local next_tat = tat + emission
  redis.call('SET', rate, string.format('%d', next_tat), 'PX', math.floor((next_tat - now) / 1000) + 1000)
end
if verdict == 'ADMITTED' then
  redis.call('SET', jti, op, 'EX', jti_ttl)
  if idem_on == '1' then redis.call('SET', idem, idem_entry, 'EX', idem_ttl) end
end
redis.call('SET', marker, verdict, 'PX', 60000)
if verdict == 'DUPLICATE' then return {verdict, existing} end
return {verdict}
`;

// Undo of an admission whose processing failed unexpectedly: frees the key and the jti, only if still ours.
const RELEASE = `
local idem, jti, op = KEYS[1], KEYS[2], ARGV[1]
local entry = redis.call('GET', idem)
if entry and cjson.decode(entry).owner == op then redis.call('DEL', idem) end
if redis.call('GET', jti) == op then redis.call('DEL', jti) end
return 1
`;

export interface AdmissionRequest<R> {
  upstreamId: string;
  jti: string;
  /** Seconds the jti stays claimed: longer than a token can be accepted. */
  jtiTtlSeconds: number;
  /** Hash of what the Idempotency-Key must stay bound to (the payment, canonical). */
  paymentHash: string;
  idempotencyKey?: string;
  /** Omitted: not rate limited (the Kafka channel, where the consumer sets the pace). */
  rateLimit?: RateLimit;
  /** How long a concurrent duplicate waits for the first request's result. */
  waitMs?: number;
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
  | { kind: 'IN_PROGRESS' };

/** Held by the admitted request until it completes (stores its result) or releases (fails). */
export interface AdmissionTicket {
  readonly op: string;
  readonly upstreamId: string;
  readonly jtiKey: string;
  readonly idempotency?: { key: string; paymentHash: string };
}

interface IdempotencyEntry<R> {
  hash: string;
  owner: string;
  result?: R;
}

type RedisWithScripts = Redis & {
  payrailAdmit(...args: (string | number)[]): Promise<[string, string?]>;
  payrailRelease(...args: string[]): Promise<number>;
};

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
    redis.defineCommand('payrailAdmit', { numberOfKeys: 4, lua: ADMIT });
    redis.defineCommand('payrailRelease', { numberOfKeys: 2, lua: RELEASE });
    this.redis = redis as RedisWithScripts;
  }

  private idempotencyKey(upstreamId: string, key: string): string {
    // hash the caller's key: any 255 characters, never a Redis key injection, fixed length
    return `idem:{${upstreamId}}:${sha256(key)}`;
  }

  private jtiKey(upstreamId: string, jti: string): string {
    return `jti:{${upstreamId}}:${sha256(jti)}`;
  }

  async admit<R>(req: AdmissionRequest<R>): Promise<Admission<R>> {
    const op = req.operationId ?? randomUUID();
    const idemKey = req.idempotencyKey === undefined ? `idem:{${req.upstreamId}}:none` : this.idempotencyKey(req.upstreamId, req.idempotencyKey);
    const jtiKey = this.jtiKey(req.upstreamId, req.jti);
    const entry: IdempotencyEntry<R> = { hash: req.paymentHash, owner: op };
    const emissionUs = req.rateLimit ? Math.max(1, Math.floor(1_000_000 / req.rateLimit.perSecond)) : 0;
    const [verdict, value] = await this.redis.payrailAdmit(
      `adm:{${req.upstreamId}}:${op}`,
      `rl:{${req.upstreamId}}`,
      idemKey,
      jtiKey,
      op,
      req.rateLimit ? '1' : '0',
      emissionUs,
      req.rateLimit ? emissionUs * (req.rateLimit.burst - 1) : 0,
      req.idempotencyKey === undefined ? '0' : '1',
      JSON.stringify(entry),
      this.idempotencyTtlSeconds,
      req.jtiTtlSeconds,
    );
    switch (verdict) {
      case 'ADMITTED':
        return { kind: 'ADMITTED', ticket: { op, upstreamId: req.upstreamId, jtiKey, idempotency: req.idempotencyKey === undefined ? undefined : { key: idemKey, paymentHash: req.paymentHash } } };
      case 'LIMITED':
        return { kind: 'RATE_LIMITED', retryAfterMs: Math.ceil(Number(value) / 1000) };
      case 'REPLAYED':
        return { kind: 'REPLAYED' };
      case 'DUPLICATE':
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
    await this.redis.payrailRelease(ticket.idempotency?.key ?? `idem:{${ticket.upstreamId}}:none`, ticket.jtiKey, ticket.op);
  }
}
