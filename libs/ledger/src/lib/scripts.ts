// The ledger's Lua scripts. Redis runs a script atomically but does not roll it back: a script that fails after
// its first write leaves that write. So every script checks all of its preconditions first (idempotency,
// inputs, the batch it writes to, counter headroom) and only then writes, with writes that cannot fail for a
// reason checked above. Each script records its operation id in the same step (the posting hash for a payment,
// the batch state for a close), so a re-sent script (ioredis re-sends a command whose reply was lost) is a no-op.
// Every key a script touches is passed in KEYS and carries the merchant's hash tag: one slot per script.

/** int64 counters: refuse a write that could come near overflow (checked in doubles with a wide margin). */
const HEADROOM = '9.0e18';

/** One posting: POST_SCRIPT runs it once, POST_BATCH_SCRIPT once per posting of a batch (same statements, same checks). */
const POST_ONE = `
-- k (KEYS): 1 posting, 2 clearing, 3 merchant payable, 4 fee revenue, 5 batch, 6 batch payments, 7 merchant's batch
--       index, 8 open batches, 9 batch cursors, 10 held decisions, 11 currencies, 12 unreported batches,
--       13 merchant's ledger epoch
-- a (ARGV): 1 payment id, 2 amount, 3 fee, 4 net, 5 posted_at, 6 batch id, 7 currency, 8 merchant id,
--       9 window start, 10 window end, 11 batch seq, 12 cursor field, 13 max batch size, 14 mode (live|restore),
--       15 screened_at, 16 batch score, 17 the caller's ledger epoch ('' = unchecked), 18 '1' when an analyst's
--       decision approves it (releases a REVIEW hold)
local function post_one(k, a)
  local existing = redis.call('HMGET', k[1], 'batch_id', 'fee', 'net', 'posted_at')
  if existing[1] then return {'DUPLICATE', existing[1], existing[2], existing[3], existing[4]} end
  -- the merchant's keys are not of the caller's epoch: lost with Redis, or being restored; write nothing
  if a[17] ~= '' and redis.call('GET', k[13]) ~= a[17] then return {'NO_LEDGER'} end
  local pid, bid, mode = a[1], a[6], a[14]
  if string.len(pid) == 0 or string.len(bid) == 0 or string.len(a[5]) == 0 then return redis.error_reply('ERR posting: missing ids') end
  if mode ~= 'live' and mode ~= 'restore' then return redis.error_reply('ERR posting: bad mode') end
  if not string.match(a[2], '^[1-9]%d*$') or string.len(a[2]) > 16 then return redis.error_reply('ERR posting: amount must be a positive integer <= 10^15') end
  if not (a[3] == '0' or string.match(a[3], '^[1-9]%d*$')) or not (a[4] == '0' or string.match(a[4], '^[1-9]%d*$')) then return redis.error_reply('ERR posting: fee and net must be integers >= 0') end
  local amount, fee, net = tonumber(a[2]), tonumber(a[3]), tonumber(a[4])
  if amount > 1e15 or fee + net ~= amount then return redis.error_reply('ERR posting: unbalanced (fee + net ~= amount)') end
  local seq, maxSize = tonumber(a[11]), tonumber(a[13])
  if not seq or seq < 1 or not maxSize or maxSize < 1 then return redis.error_reply('ERR posting: bad batch sequence or size') end
  local held = redis.call('HGET', k[10], pid)
  if held == 'DECLINE' then return {'DECLINED'} end
  -- a REVIEW is released by an analyst's decision only, never by an automatic approval (a re-screening)
  if held == 'REVIEW' and a[18] ~= '1' then return {'IN_REVIEW'} end
  local state = redis.call('HGET', k[5], 'state')
  local cursor = tonumber(redis.call('HGET', k[9], a[12]) or '1')
  if mode == 'live' then
    -- live postings go to the window's current batch only; the caller retries with the sequence returned
    if cursor ~= seq then return {'STALE_BATCH', tostring(cursor)} end
    if state and state ~= 'open' then
      -- a closed batch always advanced its cursor; repair one that did not (idempotent) and move on
      redis.call('HSET', k[9], a[12], tostring(seq + 1))
      return {'STALE_BATCH', tostring(seq + 1)}
    end
  end
  if state and redis.call('HGET', k[5], 'currency') ~= a[7] then return redis.error_reply('ERR posting: batch currency differs') end
  for i = 2, 4 do
    if math.abs(tonumber(redis.call('GET', k[i]) or '0')) + amount > ${HEADROOM} then return redis.error_reply('ERR posting: account would overflow') end
  end
  if tonumber(redis.call('HGET', k[5], 'gross') or '0') + amount > ${HEADROOM} then return redis.error_reply('ERR posting: batch would overflow') end
  -- every precondition holds: the writes below cannot fail for a reason checked above
  redis.call('HSET', k[1], 'payment_id', pid, 'merchant_id', a[8], 'currency', a[7], 'amount', a[2], 'fee', a[3], 'net', a[4], 'posted_at', a[5], 'batch_id', bid, 'screened_at', a[15])
  redis.call('INCRBY', k[2], '-' .. a[2])
  redis.call('INCRBY', k[3], a[4])
  redis.call('INCRBY', k[4], a[3])
  if not state then
    state = 'open'
    redis.call('HSET', k[5], 'batch_id', bid, 'merchant_id', a[8], 'currency', a[7], 'seq', a[11], 'window_start', a[9], 'window_end', a[10], 'cursor_field', a[12], 'state', 'open', 'opened_at', a[5], 'gross', 0, 'fees', 0, 'net', 0, 'count', 0)
    redis.call('ZADD', k[7], a[16], bid)
    redis.call('SADD', k[8], bid)
    redis.call('SADD', k[11], a[7])
  end
  redis.call('HINCRBY', k[5], 'gross', a[2])
  redis.call('HINCRBY', k[5], 'fees', a[3])
  redis.call('HINCRBY', k[5], 'net', a[4])
  local count = redis.call('HINCRBY', k[5], 'count', 1)
  redis.call('SADD', k[6], pid)
  redis.call('HDEL', k[10], pid)
  if cursor < seq then redis.call('HSET', k[9], a[12], a[11]) end
  if state == 'open' and count >= maxSize then
    redis.call('HSET', k[5], 'state', 'closed', 'closed_at', a[5], 'close_reason', 'size')
    redis.call('SREM', k[8], bid)
    redis.call('SADD', k[12], bid)
    if tonumber(redis.call('HGET', k[9], a[12]) or '1') <= seq then redis.call('HSET', k[9], a[12], tostring(seq + 1)) end
    return {'POSTED', bid, '1'}
  end
  return {'POSTED', bid, '0'}
end
`;

export const POST_SCRIPT = `${POST_ONE}
return post_one(KEYS, ARGV)
`;

/** One hold: HOLD_SCRIPT runs it once, POST_BATCH_SCRIPT for each REVIEW / DECLINE of a batch. */
const HOLD_ONE = `
-- posting: the payment's posting key, held: the held decisions, pid: payment id, decision: REVIEW | DECLINE
local function hold_one(posting, held, pid, decision)
  if decision ~= 'REVIEW' and decision ~= 'DECLINE' then return redis.error_reply('ERR hold: decision must be REVIEW or DECLINE') end
  if string.len(pid) == 0 then return redis.error_reply('ERR hold: missing payment id') end
  if redis.call('EXISTS', posting) == 1 then return 'ALREADY_POSTED' end
  -- a decline is final: a redelivered REVIEW never downgrades it
  if redis.call('HGET', held, pid) == 'DECLINE' then return 'HELD' end
  redis.call('HSET', held, pid, decision)
  return 'HELD'
end
`;

export const HOLD_SCRIPT = `${HOLD_ONE}
-- KEYS: 1 posting, 2 held decisions   ARGV: 1 payment id, 2 decision (REVIEW | DECLINE)
return hold_one(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
`;

/** Fields per group and per operation in POST_BATCH_SCRIPT's ARGV (LedgerRepository.postBatch writes them). */
export const POST_BATCH_GROUP_FIELDS = 10;
export const POST_BATCH_OP_FIELDS = 9;

/**
 * Every decision of one merchant in one consumed batch, in one script (one merchant = one hash slot). Each operation
 * runs exactly the statements of one POST_SCRIPT (live mode) or HOLD_SCRIPT call, in the order given, so the outcome
 * is the outcome of those calls one after the other: per operation idempotent (the posting hash is the exactly-once
 * marker, checked first, inside the script), validated before its own first write. The script itself keeps no state
 * between operations but what Redis holds, so a re-sent or redelivered batch finds every posting and posts nothing
 * twice, and a payment twice in one batch is posted by its first operation and found by the second.
 *
 * Batch sequences: the merchant's cursor (in Redis) says which batch of a (currency, window) takes postings; the
 * caller declares the keys of the batches its cursor hint expects (Redis Cluster: every key a script touches is in
 * KEYS). When the cursor points at a batch whose keys were not declared, the script stops before that operation and
 * answers STALE_BATCH with the cursor: the caller sends the rest again with the right keys.
 */
export const POST_BATCH_SCRIPT = `${POST_ONE}${HOLD_ONE}
-- KEYS: 1 merchant's batch index, 2 open batches, 3 batch cursors, 4 held decisions, 5 currencies, 6 unreported
--       batches, 7 merchant's ledger epoch, then the keys the groups and operations point at
-- ARGV: 1 merchant id, 2 the caller's ledger epoch ('' = unchecked), 3 max batch size, 4 posted_at, 5 groups,
--       6 operations, then per group (currency, window): currency, cursor field, window start, window end, batch id
--       of its first batch, batch score of sequence 0, first declared sequence, declared sequences, KEYS index of the
--       first declared batch (its payments set follows it; then the next sequence's pair), KEYS index of its
--       clearing account (merchant payable, fee revenue follow);
--       then per operation: kind (POST | REVIEW | DECLINE), payment id, KEYS index of its posting, amount, fee,
--       net, group (1-based; 0 for a hold), screened_at, '1' when an analyst's decision approves it
-- Answer: one reply per operation, in order ({'POSTED', batch id, closed by size '1'|'0', seq}, {'DUPLICATE', ...},
-- {'DECLINED'}, {'IN_REVIEW'}, {'HELD'}, {'ALREADY_POSTED'}, {'ERROR', message}, {'SKIPPED'}: a later operation of a
-- payment whose operation failed); it ends early with {'STALE_BATCH', current seq} at the operation it stopped
-- before; {'NO_LEDGER'} alone: the merchant's keys are not of the caller's epoch, nothing was written.
local G, O = ${POST_BATCH_GROUP_FIELDS}, ${POST_BATCH_OP_FIELDS}
local merchant, epoch, maxSize, postedAt = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local ngroups, nops = tonumber(ARGV[5]), tonumber(ARGV[6])
if epoch ~= '' and redis.call('GET', KEYS[7]) ~= epoch then return {{'NO_LEDGER'}} end
local opsAt = 6 + ngroups * G
local out, failed = {}, {}
for i = 1, nops do
  local o = opsAt + (i - 1) * O
  local kind, pid, posting = ARGV[o + 1], ARGV[o + 2], KEYS[tonumber(ARGV[o + 3])]
  if failed[pid] then
    out[#out + 1] = {'SKIPPED'}
  elseif kind ~= 'POST' then
    local r = hold_one(posting, KEYS[4], pid, kind)
    if type(r) == 'table' then
      failed[pid] = true
      out[#out + 1] = {'ERROR', r.err}
    else
      out[#out + 1] = {r}
    end
  else
    local g = 6 + (tonumber(ARGV[o + 7]) - 1) * G
    local field, firstSeq, declared = ARGV[g + 2], tonumber(ARGV[g + 7]), tonumber(ARGV[g + 8])
    local batchKeysAt, accountsAt = tonumber(ARGV[g + 9]), tonumber(ARGV[g + 10])
    local r
    -- at most one stale answer per declared batch: each one moves the cursor on (a closed batch's repair)
    for _ = 0, declared do
      local seq = tonumber(redis.call('HGET', KEYS[3], field) or '1')
      if seq < firstSeq or seq >= firstSeq + declared then
        out[#out + 1] = {'STALE_BATCH', tostring(seq)}
        return out
      end
      local bk = batchKeysAt + (seq - firstSeq) * 2
      local bid = ARGV[g + 5]
      if seq > 1 then bid = bid .. '.' .. seq end
      r = post_one(
        {posting, KEYS[accountsAt], KEYS[accountsAt + 1], KEYS[accountsAt + 2], KEYS[bk], KEYS[bk + 1], KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]},
        {pid, ARGV[o + 4], ARGV[o + 5], ARGV[o + 6], postedAt, bid, ARGV[g + 1], merchant, ARGV[g + 3], ARGV[g + 4], tostring(seq), field, maxSize, 'live', ARGV[o + 8], string.format('%.17g', tonumber(ARGV[g + 6]) + seq), '', ARGV[o + 9]})
      if r[1] ~= 'STALE_BATCH' then
        if r[1] == 'POSTED' then r[4] = tostring(seq) end
        break
      end
    end
    if r.err then
      failed[pid] = true
      out[#out + 1] = {'ERROR', r.err}
    elseif r[1] == 'STALE_BATCH' then
      out[#out + 1] = r
      return out
    else
      out[#out + 1] = r
    end
  end
end
return out
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
