// The ledger's Lua scripts. Redis runs a script atomically but does not roll it back: a script that fails after
// its first write leaves that write. So every script checks all of its preconditions first (idempotency,
// inputs, the batch it writes to, counter headroom) and only then writes, with writes that cannot fail for a
// reason checked above. Each script records its operation id in the same step (the posting hash for a payment,
// the batch state for a close), so a re-sent script (ioredis re-sends a command whose reply was lost) is a no-op.
// Every key a script touches is passed in KEYS and carries the merchant's hash tag: one slot per script.

/** int64 counters: refuse a write that could come near overflow (checked in doubles with a wide margin). */
const HEADROOM = '9.0e18';

export const POST_SCRIPT = `
-- KEYS: 1 posting, 2 clearing, 3 merchant payable, 4 fee revenue, 5 batch, 6 batch payments, 7 merchant's batch
--       index, 8 open batches, 9 batch cursors, 10 held decisions, 11 currencies, 12 unreported batches,
--       13 merchant's ledger epoch
-- ARGV: 1 payment id, 2 amount, 3 fee, 4 net, 5 posted_at, 6 batch id, 7 currency, 8 merchant id,
--       9 window start, 10 window end, 11 batch seq, 12 cursor field, 13 max batch size, 14 mode (live|restore),
--       15 screened_at, 16 batch score, 17 the caller's ledger epoch ('' = unchecked), 18 '1' when an analyst's
--       decision approves it (releases a REVIEW hold)
local existing = redis.call('HMGET', KEYS[1], 'batch_id', 'fee', 'net', 'posted_at')
if existing[1] then return {'DUPLICATE', existing[1], existing[2], existing[3], existing[4]} end
-- the merchant's keys are not of the caller's epoch: lost with Redis, or being restored; write nothing
if ARGV[17] ~= '' and redis.call('GET', KEYS[13]) ~= ARGV[17] then return {'NO_LEDGER'} end
local pid, bid, mode = ARGV[1], ARGV[6], ARGV[14]
if string.len(pid) == 0 or string.len(bid) == 0 or string.len(ARGV[5]) == 0 then return redis.error_reply('ERR posting: missing ids') end
if mode ~= 'live' and mode ~= 'restore' then return redis.error_reply('ERR posting: bad mode') end
if not string.match(ARGV[2], '^[1-9]%d*$') or string.len(ARGV[2]) > 16 then return redis.error_reply('ERR posting: amount must be a positive integer <= 10^15') end
if not (ARGV[3] == '0' or string.match(ARGV[3], '^[1-9]%d*$')) or not (ARGV[4] == '0' or string.match(ARGV[4], '^[1-9]%d*$')) then return redis.error_reply('ERR posting: fee and net must be integers >= 0') end
local amount, fee, net = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if amount > 1e15 or fee + net ~= amount then return redis.error_reply('ERR posting: unbalanced (fee + net ~= amount)') end
local seq, maxSize = tonumber(ARGV[11]), tonumber(ARGV[13])
if not seq or seq < 1 or not maxSize or maxSize < 1 then return redis.error_reply('ERR posting: bad batch sequence or size') end
local held = redis.call('HGET', KEYS[10], pid)
if held == 'DECLINE' then return {'DECLINED'} end
-- a REVIEW is released by an analyst's decision only, never by an automatic approval (a re-screening)
if held == 'REVIEW' and ARGV[18] ~= '1' then return {'IN_REVIEW'} end
local state = redis.call('HGET', KEYS[5], 'state')
local cursor = tonumber(redis.call('HGET', KEYS[9], ARGV[12]) or '1')
if mode == 'live' then
  -- live postings go to the window's current batch only; the caller retries with the sequence returned
  if cursor ~= seq then return {'STALE_BATCH', tostring(cursor)} end
  if state and state ~= 'open' then
    -- a closed batch always advanced its cursor; repair one that did not (idempotent) and move on
    redis.call('HSET', KEYS[9], ARGV[12], tostring(seq + 1))
    return {'STALE_BATCH', tostring(seq + 1)}
  end
end
if state and redis.call('HGET', KEYS[5], 'currency') ~= ARGV[7] then return redis.error_reply('ERR posting: batch currency differs') end
for i = 2, 4 do
  if math.abs(tonumber(redis.call('GET', KEYS[i]) or '0')) + amount > ${HEADROOM} then return redis.error_reply('ERR posting: account would overflow') end
end
if tonumber(redis.call('HGET', KEYS[5], 'gross') or '0') + amount > ${HEADROOM} then return redis.error_reply('ERR posting: batch would overflow') end
-- every precondition holds: the writes below cannot fail for a reason checked above
redis.call('HSET', KEYS[1], 'payment_id', pid, 'merchant_id', ARGV[8], 'currency', ARGV[7], 'amount', ARGV[2], 'fee', ARGV[3], 'net', ARGV[4], 'posted_at', ARGV[5], 'batch_id', bid, 'screened_at', ARGV[15])
redis.call('INCRBY', KEYS[2], '-' .. ARGV[2])
redis.call('INCRBY', KEYS[3], ARGV[4])
redis.call('INCRBY', KEYS[4], ARGV[3])
if not state then
  state = 'open'
  redis.call('HSET', KEYS[5], 'batch_id', bid, 'merchant_id', ARGV[8], 'currency', ARGV[7], 'seq', ARGV[11], 'window_start', ARGV[9], 'window_end', ARGV[10], 'cursor_field', ARGV[12], 'state', 'open', 'opened_at', ARGV[5], 'gross', 0, 'fees', 0, 'net', 0, 'count', 0)
  redis.call('ZADD', KEYS[7], ARGV[16], bid)
  redis.call('SADD', KEYS[8], bid)
  redis.call('SADD', KEYS[11], ARGV[7])
end
redis.call('HINCRBY', KEYS[5], 'gross', ARGV[2])
redis.call('HINCRBY', KEYS[5], 'fees', ARGV[3])
redis.call('HINCRBY', KEYS[5], 'net', ARGV[4])
local count = redis.call('HINCRBY', KEYS[5], 'count', 1)
redis.call('SADD', KEYS[6], pid)
redis.call('HDEL', KEYS[10], pid)
if cursor < seq then redis.call('HSET', KEYS[9], ARGV[12], ARGV[11]) end
if state == 'open' and count >= maxSize then
  redis.call('HSET', KEYS[5], 'state', 'closed', 'closed_at', ARGV[5], 'close_reason', 'size')
  redis.call('SREM', KEYS[8], bid)
  redis.call('SADD', KEYS[12], bid)
  if tonumber(redis.call('HGET', KEYS[9], ARGV[12]) or '1') <= seq then redis.call('HSET', KEYS[9], ARGV[12], tostring(seq + 1)) end
  return {'POSTED', bid, '1'}
end
return {'POSTED', bid, '0'}
`;

export const HOLD_SCRIPT = `
-- KEYS: 1 posting, 2 held decisions   ARGV: 1 payment id, 2 decision (REVIEW | DECLINE)
if ARGV[2] ~= 'REVIEW' and ARGV[2] ~= 'DECLINE' then return redis.error_reply('ERR hold: decision must be REVIEW or DECLINE') end
if string.len(ARGV[1]) == 0 then return redis.error_reply('ERR hold: missing payment id') end
if redis.call('EXISTS', KEYS[1]) == 1 then return 'ALREADY_POSTED' end
-- a decline is final: a redelivered REVIEW never downgrades it
if redis.call('HGET', KEYS[2], ARGV[1]) == 'DECLINE' then return 'HELD' end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 'HELD'
`;

export const CLOSE_SCRIPT = `
-- KEYS: 1 batch, 2 open batches, 3 unreported batches, 4 batch cursors
-- ARGV: 1 batch id, 2 closed_at, 3 reason (cutoff | size)
if ARGV[3] ~= 'cutoff' and ARGV[3] ~= 'size' then return redis.error_reply('ERR close: bad reason') end
if string.len(ARGV[2]) == 0 then return redis.error_reply('ERR close: missing closed_at') end
local b = redis.call('HMGET', KEYS[1], 'state', 'seq', 'cursor_field')
if not b[1] then return 'UNKNOWN' end
if b[1] ~= 'open' then return 'ALREADY_CLOSED' end
if not b[2] or not b[3] then return redis.error_reply('ERR close: batch without sequence') end
redis.call('HSET', KEYS[1], 'state', 'closed', 'closed_at', ARGV[2], 'close_reason', ARGV[3])
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
local seq = tonumber(b[2])
if tonumber(redis.call('HGET', KEYS[4], b[3]) or '1') <= seq then redis.call('HSET', KEYS[4], b[3], tostring(seq + 1)) end
return 'CLOSED'
`;

export const MARK_REPORTED_SCRIPT = `
-- KEYS: 1 batch, 2 unreported batches   ARGV: 1 batch id, 2 reported_at
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'UNKNOWN' end
if state ~= 'closed' then return 'NOT_CLOSED' end
redis.call('HSETNX', KEYS[1], 'reported_at', ARGV[2])
redis.call('SREM', KEYS[2], ARGV[1])
return 'REPORTED'
`;

export const RECORD_SIGNED_SCRIPT = `
-- KEYS: 1 batch, 2 unreported batches   ARGV: 1 batch id, 2 kid, 3 report JWS, 4 signed_at
if string.len(ARGV[2]) == 0 or string.len(ARGV[3]) == 0 then return redis.error_reply('ERR signed: missing kid or JWS') end
local b = redis.call('HMGET', KEYS[1], 'state', 'report_jws')
if not b[1] then return 'UNKNOWN' end
if b[1] ~= 'closed' then return 'NOT_CLOSED' end
if b[2] then return 'DUPLICATE' end
redis.call('HSET', KEYS[1], 'report_jws', ARGV[3], 'kid', ARGV[2], 'signed_at', ARGV[4])
redis.call('HSETNX', KEYS[1], 'reported_at', ARGV[4])
redis.call('SREM', KEYS[2], ARGV[1])
return 'RECORDED'
`;
