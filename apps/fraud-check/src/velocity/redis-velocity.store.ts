// Velocity in Redis: ONE Lua script call per dimension value and payment. Every key of a dimension value shares
// its hash tag ({card:<fingerprint>}, {ip:<address>}, ...), so each call touches one slot (Redis Cluster ready);
// a payment's card, IP and device land in different slots and get one call each, sent together (auto-pipelined).
//
// The script records the payment under its id (a redelivered payment or a command ioredis re-sends after a lost
// reply changes nothing), keeps a running sum per window and currency that it corrects as payments leave the
// window (amortised O(log n) per call, no scan of the window), and validates its input before the first write
// (scripts do not roll back). Sums stay exact: amounts are split into two integer limbs (< 10^9 and the rest),
// added with HINCRBY (64-bit integers), and joined again as bigint here; Lua's doubles never hold a sum.
import { createHash } from 'node:crypto';
import type { Redis } from '@payrail/messaging';
import { RedisScript, defineScript } from '../redis-script';
import {
  KNOWN_PAYEES_TTL_MS,
  RECORD_SEPARATOR,
  RETENTION_MS,
  VELOCITY_WINDOWS,
  VelocityDimension,
  VelocityEvent,
  VelocityObservation,
  VelocityStore,
  VelocityWindow,
  WINDOW_NAMES,
  WindowTotals,
} from './velocity';

/** Keys of one dimension value live this long after its last payment (wall clock). */
const STATE_TTL_MS = RETENTION_MS + 3_600_000;
const LIMB = 1_000_000_000n;
const WINDOW_ARGS = WINDOW_NAMES.map((w) => VELOCITY_WINDOWS[w]);

export const VELOCITY_SCRIPT = `
-- KEYS: 1 ev (zset payment id -> time ms), 2 rec (hash payment id -> "CUR|amount|payee"), 3 agg (hash: wm =
-- watermark; s:<window>:<CUR>:h|l = running sum limbs), 4 payers (zset fingerprint -> latest time), 5 small (zset
-- payment id -> time), 6 payees (hash payee -> first approved payment id)
-- ARGV: 1 payment id, 2 time ms, 3 currency, 4 amount (minor units), 5 payee, 6 payer fingerprint ('' = none),
-- 7 small (1/0), 8 track payees (1/0), 9 duplicate lookback ms, 10 ttl ms, 11 payees ttl ms, 12.. windows ms
local ev, rec, agg, payers, small, payees = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local id, t, cur, amount, payee, payer = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local isSmall, trackPayees = ARGV[7] == '1', ARGV[8] == '1'
local lookback, ttl, payeesTtl = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
local windows = {}
for i = 12, #ARGV do windows[#windows + 1] = tonumber(ARGV[i]) end

-- everything is checked before the first write
if string.len(id) == 0 then return redis.error_reply('ERR velocity: empty payment id') end
if not t or t < 0 or t ~= math.floor(t) then return redis.error_reply('ERR velocity: bad time') end
if not string.match(cur, '^%u%u%u$') then return redis.error_reply('ERR velocity: bad currency') end
if not string.match(amount, '^%d+$') or string.len(amount) > 18 then return redis.error_reply('ERR velocity: bad amount') end
if string.len(payee) == 0 or string.find(payee, '|', 1, true) then return redis.error_reply('ERR velocity: bad payee') end
if not lookback or lookback < 0 or not ttl or ttl <= 0 or not payeesTtl or payeesTtl <= 0 then return redis.error_reply('ERR velocity: bad ttl') end
if #windows == 0 then return redis.error_reply('ERR velocity: no windows') end
for i, w in ipairs(windows) do
  if not w or w <= 0 or (i > 1 and w <= windows[i - 1]) then return redis.error_reply('ERR velocity: windows must ascend') end
end
local retention = windows[#windows]

local function fmt(n) return string.format('%.0f', n) end
-- amount "1234567890123" -> 1234, 567890123: each limb is far below 2^53, so Lua holds it exactly
local function limbs(a) return tonumber(string.sub(a, 1, -10)) or 0, tonumber(string.sub(a, -9)) end
local function addSum(w, c, a, sign)
  local hi, lo = limbs(a)
  local field = 's:' .. fmt(w) .. ':' .. c
  if hi ~= 0 then redis.call('HINCRBY', agg, field .. ':h', sign * hi) end
  if lo ~= 0 then redis.call('HINCRBY', agg, field .. ':l', sign * lo) end
end

-- 1. advance the watermark: subtract what left each window, forget what left the longest one
local wm = t
local previous = redis.call('HGET', agg, 'wm')
if previous then
  local old = tonumber(previous)
  if old >= t then
    wm = old
  else
    for _, w in ipairs(windows) do
      local leaving = redis.call('ZRANGEBYSCORE', ev, '(' .. fmt(old - w), fmt(t - w))
      for _, m in ipairs(leaving) do
        local c, a = string.match(redis.call('HGET', rec, m) or '', '^(%u%u%u)|(%d+)|')
        if c then addSum(w, c, a, -1) end
      end
    end
    local cutoff = fmt(t - retention)
    local expired = redis.call('ZRANGEBYSCORE', ev, '-inf', cutoff)
    for i = 1, #expired, 500 do redis.call('HDEL', rec, unpack(expired, i, math.min(i + 499, #expired))) end
    redis.call('ZREMRANGEBYSCORE', ev, '-inf', cutoff)
    redis.call('ZREMRANGEBYSCORE', small, '-inf', cutoff)
    redis.call('ZREMRANGEBYSCORE', payers, '-inf', cutoff)
  end
end
redis.call('HSET', agg, 'wm', fmt(wm))

-- 2. record the payment once (its id is the member: a second call finds it)
if not redis.call('ZSCORE', ev, id) and t > wm - retention then
  redis.call('ZADD', ev, fmt(t), id)
  redis.call('HSET', rec, id, cur .. '|' .. amount .. '|' .. payee)
  for _, w in ipairs(windows) do
    if t > wm - w then addSum(w, cur, amount, 1) end
  end
  if isSmall then redis.call('ZADD', small, fmt(t), id) end
end
if payer ~= '' and t > wm - retention then redis.call('ZADD', payers, 'GT', fmt(t), payer) end

-- 3. first payment to this payee: nobody's approved payment recorded for it yet (or it is this one)
local first = 0
if trackPayees then
  local owner = redis.call('HGET', payees, payee)
  if not owner or owner == id then first = 1 end
  redis.call('PEXPIRE', payees, payeesTtl)
end

-- 4. the latest earlier payment with the same payee, currency and amount
local dupId, dupAt = '', ''
if lookback > 0 then
  local wanted = cur .. '|' .. amount .. '|' .. payee
  local candidates = redis.call('ZRANGEBYSCORE', ev, fmt(t - lookback), fmt(t), 'WITHSCORES')
  for i = 1, #candidates, 2 do
    local m, at = candidates[i], tonumber(candidates[i + 1])
    if m ~= id and (at < t or m < id) and redis.call('HGET', rec, m) == wanted then dupId, dupAt = m, fmt(at) end
  end
end

local out = { fmt(wm), first, dupId, dupAt }
for _, w in ipairs(windows) do
  local from = '(' .. fmt(wm - w)
  local field = 's:' .. fmt(w) .. ':' .. cur
  out[#out + 1] = redis.call('ZCOUNT', ev, from, '+inf')
  out[#out + 1] = redis.call('HGET', agg, field .. ':h') or '0'
  out[#out + 1] = redis.call('HGET', agg, field .. ':l') or '0'
  out[#out + 1] = redis.call('ZCOUNT', payers, from, '+inf')
  out[#out + 1] = redis.call('ZCOUNT', small, from, '+inf')
end
for _, k in ipairs({ ev, rec, agg, payers, small }) do redis.call('PEXPIRE', k, ttl) end
return out
`;

const MARK_PAYEE_SCRIPT = `
-- KEYS: 1 payees hash; ARGV: 1 payee, 2 payment id, 3 ttl ms. First approval wins; repeating it is a no-op.
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
`;

/** A dimension value as it appears in a key: kept when it is plain, hashed when it could upset a hash tag. */
export function dimensionTag(dimension: VelocityDimension, value: string): string {
  const safe = /^[A-Za-z0-9._:-]{1,100}$/.test(value) ? value : `h.${createHash('sha256').update(value).digest('base64url')}`;
  return `{${dimension}:${safe}}`;
}

/** Names of the scripts as registered on the connection (a pipeline of that connection calls them by name). */
export const VELOCITY_SCRIPT_NAMES = { record: 'payrailFraudVelocity', markPayee: 'payrailFraudMarkPayee' } as const;

export class RedisVelocityStore implements VelocityStore {
  private readonly recordScript: RedisScript<unknown>;
  private readonly markPayeeScript: RedisScript<number>;

  constructor(
    redis: Redis,
    private readonly namespace = 'fraud:v',
  ) {
    this.recordScript = defineScript(redis, VELOCITY_SCRIPT_NAMES.record, 6, VELOCITY_SCRIPT);
    this.markPayeeScript = defineScript(redis, VELOCITY_SCRIPT_NAMES.markPayee, 1, MARK_PAYEE_SCRIPT);
  }

  keys(dimension: VelocityDimension, value: string): string[] {
    const base = `${this.namespace}:${dimensionTag(dimension, value)}`;
    return ['ev', 'rec', 'agg', 'payers', 'small', 'payees'].map((k) => `${base}:${k}`);
  }

  async record(dimension: VelocityDimension, value: string, event: VelocityEvent): Promise<VelocityObservation> {
    return parseObservation(await this.recordScript(...this.recordArgs(dimension, value, event)));
  }

  /** The keys then arguments of one velocity script call (the batch path sends many in one pipeline). */
  recordArgs(dimension: VelocityDimension, value: string, event: VelocityEvent): (string | number)[] {
    if (event.payee.includes(RECORD_SEPARATOR)) throw new Error('payee must not contain the record separator');
    return [
      ...this.keys(dimension, value),
      event.paymentId,
      event.atMs,
      event.currency,
      event.amountMinor.toString(),
      event.payee,
      event.payerFingerprint ?? '',
      event.small ? '1' : '0',
      event.trackPayees ? '1' : '0',
      event.duplicateLookbackMs,
      STATE_TTL_MS,
      KNOWN_PAYEES_TTL_MS,
      ...WINDOW_ARGS,
    ];
  }

  /** The keys then arguments of one mark-payee script call. */
  markPayeeArgs(dimension: VelocityDimension, value: string, payee: string, paymentId: string): (string | number)[] {
    return [this.keys(dimension, value)[5] ?? '', payee, paymentId, KNOWN_PAYEES_TTL_MS];
  }

  async markPayeeKnown(dimension: VelocityDimension, value: string, payee: string, paymentId: string): Promise<void> {
    await this.markPayeeScript(...this.markPayeeArgs(dimension, value, payee, paymentId));
  }

}

export function parseObservation(raw: unknown): VelocityObservation {
  if (!Array.isArray(raw)) throw new Error('velocity script returned no array');
  const at = (i: number): string => String(raw[i] ?? '');
  const windows = {} as Record<VelocityWindow, WindowTotals>;
  WINDOW_NAMES.forEach((name, w) => {
    const o = 4 + w * 5;
    windows[name] = {
      count: Number(at(o)),
      sumMinor: BigInt(at(o + 1)) * LIMB + BigInt(at(o + 2)),
      distinctPayers: Number(at(o + 3)),
      smallPayments: Number(at(o + 4)),
    };
  });
  const dupId = at(2);
  return {
    watermarkMs: Number(at(0)),
    firstPaymentToPayee: at(1) === '1',
    duplicateOf: dupId ? { paymentId: dupId, atMs: Number(at(3)) } : undefined,
    windows,
  };
}
