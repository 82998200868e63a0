// The double-entry ledger in Redis: postings, account balances, held (not approved) decisions and settlement
// batches, written only through the scripts in scripts.ts (see there for why each is idempotent and atomic).
// Accounts per merchant and currency: `clearing` (what the payment network owes Payrail for the payment: debited
// with the gross amount), `merchant_payable` (what Payrail owes the merchant: credited with the net) and
// `fee_revenue` (Payrail's fee: credited). A posting moves -amount + net + fee = 0, so every merchant's balances
// in every currency sum to zero after every script.
import { RedisLease, type Redis } from '@payrail/messaging';
import { SettlementBatchReport, SettlementBatchReportSchema } from '@payrail/contracts';
import { ACCOUNTS, LedgerAccount, LedgerKeys as K } from './keys';
import { BatchWindow, batchId, batchScore, cursorField } from './batch-id';
import { CLOSE_SCRIPT, HOLD_SCRIPT, MARK_REPORTED_SCRIPT, POST_BATCH_SCRIPT, POST_SCRIPT, RECORD_SIGNED_SCRIPT } from './scripts';

/** One payment's double-entry amounts: what every posting, plan and command shares (minor units). */
export interface PostingAmounts {
  paymentId: string;
  merchantId: string;
  currency: string;
  amount: bigint;
  fee: bigint;
  net: bigint;
}

export interface PostingCommand extends PostingAmounts {
  postedAt: string;
  screenedAt: string;
  window: BatchWindow;
  /** The window's batch sequence the caller believes current (live) or the batch to restore into (restore). */
  seq: number;
  maxBatchPayments: number;
  /** live: only into the window's current open batch; restore (rebuild): into the given batch, even closed. */
  mode: 'live' | 'restore';
  /** An analyst's APPROVE of a payment in REVIEW (the screened event carries `review`): releases the hold. */
  releasesReview?: boolean;
}

export type PostingOutcome =
  | { kind: 'POSTED'; batchId: string; closedBySize: boolean }
  | { kind: 'DUPLICATE'; batchId: string; fee: bigint; net: bigint; postedAt: string }
  | { kind: 'STALE_BATCH'; currentSeq: number }
  | { kind: 'DECLINED' }
  /** Held in REVIEW and this approval is not an analyst's: not posted. */
  | { kind: 'IN_REVIEW' }
  /** The merchant's keys are not of this repository's epoch (Redis lost them, or a restore is running). */
  | { kind: 'NO_LEDGER' };

/** OPEN: post; NO_LEDGER: the ledger is missing or being restored (wait); LOST: this merchant's keys were lost. */
export type MerchantOpening = 'OPEN' | 'NO_LEDGER' | 'LOST';

export type HoldOutcome = 'HELD' | 'ALREADY_POSTED';

/** One decision of a merchant's batch (LedgerRepository.postBatch): an approval to post live, or a hold. */
export type BatchOperation =
  | { kind: 'post'; posting: PostingAmounts & { screenedAt: string; window: BatchWindow; releasesReview?: boolean } }
  | { kind: 'hold'; paymentId: string; decision: 'REVIEW' | 'DECLINE' };

/** What became of one operation of a batch. */
export type BatchOperationOutcome =
  | { kind: 'POSTED'; batchId: string; closedBySize: boolean; seq: number }
  | { kind: 'DUPLICATE'; batchId: string; fee: bigint; net: bigint; postedAt: string }
  | { kind: 'DECLINED' }
  | { kind: 'IN_REVIEW' }
  | { kind: 'HELD' }
  | { kind: 'ALREADY_POSTED' }
  /** The script refused this operation before writing anything for it (invalid amounts, overflow, ...). */
  | { kind: 'ERROR'; message: string }
  /** Not run: an earlier operation of the same payment in this batch failed (a payment's decisions keep their order). */
  | { kind: 'SKIPPED' };

export interface BatchPostingOptions {
  postedAt: string;
  maxBatchPayments: number;
  /** The batch sequence the caller believes current for a (currency, window) cursor field (a hint). */
  seqHint: (field: string) => number;
}

/**
 * NO_LEDGER: nothing was written (the merchant's keys are not of this repository's epoch). Otherwise one outcome per
 * operation from the start, fewer when the script stopped at `stale` (that operation and the ones after it were
 * not run: the cursor of its field is at `currentSeq`).
 */
export type BatchPostingReply =
  | { kind: 'NO_LEDGER' }
  | { kind: 'RAN'; outcomes: BatchOperationOutcome[]; stale?: { field: string; currentSeq: number } };
export type CloseOutcome = 'CLOSED' | 'ALREADY_CLOSED' | 'UNKNOWN';
export type RecordSignedOutcome = 'RECORDED' | 'DUPLICATE' | 'NOT_CLOSED' | 'UNKNOWN';

export interface Posting extends PostingAmounts {
  postedAt: string;
  batchId: string;
  screenedAt: string;
}

export type BatchStatus = 'open' | 'closed' | 'reported' | 'signed';

export interface BatchState {
  batchId: string;
  merchantId: string;
  currency: string;
  seq: number;
  windowStart: string;
  windowEnd: string;
  cursorField: string;
  state: 'open' | 'closed';
  status: BatchStatus;
  openedAt: string;
  closedAt?: string;
  closeReason?: 'cutoff' | 'size';
  count: number;
  gross: bigint;
  fees: bigint;
  net: bigint;
  reportedAt?: string;
  signedAt?: string;
  kid?: string;
  reportJws?: string;
}

export type CurrencyBalances = { currency: string } & Record<LedgerAccount, bigint>;

interface ScriptCommands {
  payrailLedgerPost(...args: string[]): Promise<string[]>;
  payrailLedgerHold(...args: string[]): Promise<string>;
  payrailLedgerPostBatch(...args: (string | number)[]): Promise<unknown[][]>;
  payrailLedgerClose(...args: string[]): Promise<string>;
  payrailLedgerMarkReported(...args: string[]): Promise<string>;
  payrailLedgerRecordSigned(...args: string[]): Promise<string>;
}

export class LedgerRepository {
  private readonly scripts: ScriptCommands;
  /**
   * The epoch this repository writes in. Attached (the service, a restore), every posting checks it against the
   * merchant's epoch key; unattached (unit fixtures, read-only reports) postings are not checked.
   */
  private epochInUse: string | undefined;

  constructor(readonly redis: Redis) {
    // defineCommand: EVALSHA, falling back to EVAL once when the script cache was flushed
    redis.defineCommand('payrailLedgerPost', { numberOfKeys: 13, lua: POST_SCRIPT });
    redis.defineCommand('payrailLedgerHold', { numberOfKeys: 2, lua: HOLD_SCRIPT });
    // as many keys as the batch needs: the caller passes their count first
    redis.defineCommand('payrailLedgerPostBatch', { lua: POST_BATCH_SCRIPT });
    redis.defineCommand('payrailLedgerClose', { numberOfKeys: 4, lua: CLOSE_SCRIPT });
    redis.defineCommand('payrailLedgerMarkReported', { numberOfKeys: 2, lua: MARK_REPORTED_SCRIPT });
    redis.defineCommand('payrailLedgerRecordSigned', { numberOfKeys: 2, lua: RECORD_SIGNED_SCRIPT });
    this.scripts = redis as unknown as ScriptCommands;
  }

  /** Idempotent; done before the merchant's first script (a global key cannot share the merchant's slot). */
  async registerMerchant(merchantId: string): Promise<void> {
    await this.redis.sadd(K.merchants, merchantId);
  }

  attachEpoch(epoch: string): void {
    this.epochInUse = epoch;
  }

  get attachedEpoch(): string | undefined {
    return this.epochInUse;
  }

  /**
   * The live path's registration: the merchant's keys join the attached epoch, only while the ledger's epoch is
   * that epoch (checked before and after: a Redis that lost its data in between gets no stale epoch key).
   * - a new merchant gets the epoch;
   * - a known merchant whose epoch key is missing lost its keys (an eviction, a lost shard): LOST, restore first;
   * - a merchant key of another epoch (stamped by a rebuild that died, or by the live path while a rebuild ran and
   *   the rebuild's epoch was adopted since) is brought to this epoch when no restore is running, NO_LEDGER
   *   (wait) while one is.
   */
  async openMerchant(merchantId: string): Promise<MerchantOpening> {
    const epoch = this.epochInUse;
    if (!epoch) throw new Error('openMerchant needs an attached epoch');
    if ((await this.redis.get(K.epoch)) !== epoch) return 'NO_LEDGER';
    const added = await this.redis.sadd(K.merchants, merchantId);
    const current = await this.redis.get(K.merchantEpoch(merchantId));
    if (current === null && added === 0) return 'LOST';
    if (current === null) await this.redis.set(K.merchantEpoch(merchantId), epoch, 'NX');
    else if (current !== epoch) {
      if ((await this.redis.exists(K.restoreLock)) === 1) return 'NO_LEDGER';
      await this.redis.set(K.merchantEpoch(merchantId), epoch);
    }
    if ((await this.redis.get(K.epoch)) === epoch) return 'OPEN';
    await this.redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, K.merchantEpoch(merchantId), epoch);
    return 'NO_LEDGER';
  }

  /** A restore's registration: the merchant's keys are the restore's epoch from now on (live postings pause). */
  async claimMerchant(merchantId: string): Promise<void> {
    const epoch = this.epochInUse;
    if (!epoch) throw new Error('claimMerchant needs an attached epoch');
    await this.redis.sadd(K.merchants, merchantId);
    await this.redis.set(K.merchantEpoch(merchantId), epoch);
  }

  async post(cmd: PostingCommand): Promise<PostingOutcome> {
    const m = cmd.merchantId;
    const id = batchId(m, cmd.currency, cmd.window, cmd.seq);
    const reply = await this.scripts.payrailLedgerPost(
      K.posting(m, cmd.paymentId),
      K.account(m, 'clearing', cmd.currency),
      K.account(m, 'merchant_payable', cmd.currency),
      K.account(m, 'fee_revenue', cmd.currency),
      K.batch(m, id),
      K.batchPayments(m, id),
      K.batches(m),
      K.openBatches(m),
      K.cursors(m),
      K.held(m),
      K.currencies(m),
      K.unreported(m),
      K.merchantEpoch(m),
      cmd.paymentId,
      cmd.amount.toString(),
      cmd.fee.toString(),
      cmd.net.toString(),
      cmd.postedAt,
      id,
      cmd.currency,
      m,
      new Date(cmd.window.startS * 1000).toISOString(),
      new Date(cmd.window.endS * 1000).toISOString(),
      String(cmd.seq),
      cursorField(cmd.currency, cmd.window),
      String(cmd.maxBatchPayments),
      cmd.mode,
      cmd.screenedAt,
      String(batchScore(cmd.window, cmd.seq)),
      this.epochInUse ?? '',
      cmd.releasesReview ? '1' : '0',
    );
    switch (reply[0]) {
      case 'POSTED':
        return { kind: 'POSTED', batchId: String(reply[1]), closedBySize: reply[2] === '1' };
      case 'DUPLICATE':
        return { kind: 'DUPLICATE', batchId: String(reply[1]), fee: BigInt(String(reply[2])), net: BigInt(String(reply[3])), postedAt: String(reply[4]) };
      case 'STALE_BATCH':
        return { kind: 'STALE_BATCH', currentSeq: Number(reply[1]) };
      case 'DECLINED':
        return { kind: 'DECLINED' };
      case 'IN_REVIEW':
        return { kind: 'IN_REVIEW' };
      case 'NO_LEDGER':
        return { kind: 'NO_LEDGER' };
      default:
        throw new Error(`unexpected posting reply ${JSON.stringify(reply)}`);
    }
  }

  /**
   * Every operation of one merchant (one hash slot) in one script, in the order given (POST_BATCH_SCRIPT): each as
   * POST_SCRIPT (live) or HOLD_SCRIPT would run it, the posting hash checked first (exactly once). The keys of the
   * batches a (currency, window) may need are declared from the hint on: its current batch and as many more as
   * its postings could fill (a batch closes by size mid-way); past those the script stops with STALE_BATCH.
   */
  async postBatch(merchantId: string, operations: readonly BatchOperation[], options: BatchPostingOptions): Promise<BatchPostingReply> {
    const m = merchantId;
    const keys: string[] = [K.batches(m), K.openBatches(m), K.cursors(m), K.held(m), K.currencies(m), K.unreported(m), K.merchantEpoch(m)];
    const groups = new Map<string, number>();
    const groupArgs: string[] = [];
    const opArgs: string[] = [];
    // group of each posting: (currency, window); its declared batches need the group's size first
    const sizes = new Map<string, number>();
    for (const op of operations) {
      if (op.kind !== 'post') continue;
      const field = cursorField(op.posting.currency, op.posting.window);
      sizes.set(field, (sizes.get(field) ?? 0) + 1);
    }
    for (const op of operations) {
      if (op.kind === 'hold') {
        keys.push(K.posting(m, op.paymentId));
        opArgs.push(op.decision, op.paymentId, String(keys.length), '', '', '', '0', '', '0');
        continue;
      }
      const p = op.posting;
      if (p.merchantId !== m) throw new Error(`postBatch: payment ${p.paymentId} is not merchant ${m}'s`);
      const field = cursorField(p.currency, p.window);
      let group = groups.get(field);
      if (group === undefined) {
        const firstSeq = Math.max(1, options.seqHint(field));
        // every batch its postings could open, plus the current one: ceil(n / max) + 1, bounded
        const declared = Math.min(MAX_DECLARED_BATCHES, Math.ceil((sizes.get(field) ?? 1) / Math.max(1, options.maxBatchPayments)) + 1);
        const batchKeysAt = keys.length + 1;
        for (let seq = firstSeq; seq < firstSeq + declared; seq++) {
          const id = batchId(m, p.currency, p.window, seq);
          keys.push(K.batch(m, id), K.batchPayments(m, id));
        }
        const accountsAt = keys.length + 1;
        keys.push(K.account(m, 'clearing', p.currency), K.account(m, 'merchant_payable', p.currency), K.account(m, 'fee_revenue', p.currency));
        group = groups.size + 1;
        groups.set(field, group);
        groupArgs.push(
          p.currency,
          field,
          new Date(p.window.startS * 1000).toISOString(),
          new Date(p.window.endS * 1000).toISOString(),
          batchId(m, p.currency, p.window, 1),
          String(batchScore(p.window, 0)),
          String(firstSeq),
          String(declared),
          String(batchKeysAt),
          String(accountsAt),
        );
      }
      keys.push(K.posting(m, p.paymentId));
      opArgs.push('POST', p.paymentId, String(keys.length), p.amount.toString(), p.fee.toString(), p.net.toString(), String(group), p.screenedAt, p.releasesReview ? '1' : '0');
    }
    const reply = await this.scripts.payrailLedgerPostBatch(keys.length, ...keys, m, this.epochInUse ?? '', String(options.maxBatchPayments), options.postedAt, String(groups.size), String(operations.length), ...groupArgs, ...opArgs);
    if (reply.length === 1 && reply[0]?.[0] === 'NO_LEDGER') return { kind: 'NO_LEDGER' };
    const outcomes: BatchOperationOutcome[] = [];
    for (const [i, r] of reply.entries()) {
      const kind = String(r[0]);
      if (kind === 'STALE_BATCH') {
        const op = operations[i];
        if (!op || op.kind !== 'post') throw new Error(`unexpected posting batch reply ${JSON.stringify(reply)}`);
        return { kind: 'RAN', outcomes, stale: { field: cursorField(op.posting.currency, op.posting.window), currentSeq: Number(r[1]) } };
      }
      outcomes.push(batchOutcome(kind, r));
    }
    if (outcomes.length !== operations.length) throw new Error(`posting batch answered ${outcomes.length} of ${operations.length} operations`);
    return { kind: 'RAN', outcomes };
  }

  async hold(merchantId: string, paymentId: string, decision: 'REVIEW' | 'DECLINE'): Promise<HoldOutcome> {
    const reply = await this.scripts.payrailLedgerHold(K.posting(merchantId, paymentId), K.held(merchantId), paymentId, decision);
    if (reply !== 'HELD' && reply !== 'ALREADY_POSTED') throw new Error(`unexpected hold reply ${reply}`);
    return reply;
  }

  async closeBatch(merchantId: string, id: string, closedAt: string, reason: 'cutoff' | 'size'): Promise<CloseOutcome> {
    const reply = await this.scripts.payrailLedgerClose(K.batch(merchantId, id), K.openBatches(merchantId), K.unreported(merchantId), K.cursors(merchantId), id, closedAt, reason);
    if (reply !== 'CLOSED' && reply !== 'ALREADY_CLOSED' && reply !== 'UNKNOWN') throw new Error(`unexpected close reply ${reply}`);
    return reply;
  }

  async markReported(merchantId: string, id: string, reportedAt: string): Promise<string> {
    return this.scripts.payrailLedgerMarkReported(K.batch(merchantId, id), K.unreported(merchantId), id, reportedAt);
  }

  async recordSigned(merchantId: string, id: string, kid: string, jws: string, signedAt: string): Promise<RecordSignedOutcome> {
    const reply = await this.scripts.payrailLedgerRecordSigned(K.batch(merchantId, id), K.unreported(merchantId), id, kid, jws, signedAt);
    if (reply !== 'RECORDED' && reply !== 'DUPLICATE' && reply !== 'NOT_CLOSED' && reply !== 'UNKNOWN') throw new Error(`unexpected record reply ${reply}`);
    return reply;
  }

  // ---- reads ----

  async posting(merchantId: string, paymentId: string): Promise<Posting | undefined> {
    return toPosting(await this.redis.hgetall(K.posting(merchantId, paymentId)));
  }

  /** Postings by payment id, pipelined (missing ones are absent from the map). */
  async postings(merchantId: string, paymentIds: readonly string[]): Promise<Map<string, Posting>> {
    const out = new Map<string, Posting>();
    for (let i = 0; i < paymentIds.length; i += 500) {
      const chunk = paymentIds.slice(i, i + 500);
      const pipeline = this.redis.pipeline();
      for (const pid of chunk) pipeline.hgetall(K.posting(merchantId, pid));
      const replies = (await pipeline.exec()) ?? [];
      replies.forEach(([err, value], j) => {
        if (err) throw err;
        const posting = toPosting(value as Record<string, string>);
        const pid = chunk[j];
        if (posting && pid) out.set(pid, posting);
      });
    }
    return out;
  }

  async balance(merchantId: string, account: LedgerAccount, currency: string): Promise<bigint> {
    return BigInt((await this.redis.get(K.account(merchantId, account, currency))) ?? '0');
  }

  async balances(merchantId: string): Promise<CurrencyBalances[]> {
    const currencies = (await this.redis.smembers(K.currencies(merchantId))).sort();
    return Promise.all(
      currencies.map(async (currency) => {
        const values = await this.redis.mget(...ACCOUNTS.map((a) => K.account(merchantId, a, currency)));
        const row = { currency } as CurrencyBalances;
        ACCOUNTS.forEach((a, i) => (row[a] = BigInt(values[i] ?? '0')));
        return row;
      }),
    );
  }

  async merchants(): Promise<string[]> {
    return (await this.redis.smembers(K.merchants)).sort();
  }

  async isMerchant(merchantId: string): Promise<boolean> {
    return (await this.redis.sismember(K.merchants, merchantId)) === 1;
  }

  async batch(merchantId: string, id: string): Promise<BatchState | undefined> {
    return toBatch(await this.redis.hgetall(K.batch(merchantId, id)));
  }

  async batchPaymentIds(merchantId: string, id: string): Promise<string[]> {
    return (await this.redis.smembers(K.batchPayments(merchantId, id))).sort();
  }

  /** The merchant's batch ids, newest window first. */
  async batchIds(merchantId: string, offset = 0, limit = -1): Promise<string[]> {
    return this.redis.zrevrange(K.batches(merchantId), offset, limit < 0 ? -1 : offset + limit - 1);
  }

  async batchCount(merchantId: string): Promise<number> {
    return this.redis.zcard(K.batches(merchantId));
  }

  async openBatchIds(merchantId: string): Promise<string[]> {
    return (await this.redis.smembers(K.openBatches(merchantId))).sort();
  }

  async unreportedBatchIds(merchantId: string): Promise<string[]> {
    return (await this.redis.smembers(K.unreported(merchantId))).sort();
  }

  async held(merchantId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(K.held(merchantId));
  }

  async currentSeq(merchantId: string, field: string): Promise<number> {
    return Number((await this.redis.hget(K.cursors(merchantId), field)) ?? '1');
  }

  /**
   * A short lease for work one instance should do at a time (the batch closer, the invariant check). A SET NX
   * that ioredis re-sent after a lost reply answers "not set" although it was ours: the token tells.
   */
  async tryLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    if ((await this.redis.set(key, token, 'PX', ttlMs, 'NX')) === 'OK') return true;
    return (await this.redis.get(key)) === token;
  }

  async releaseLock(key: string, token: string): Promise<void> {
    await this.redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, key, token);
  }

  async epoch(): Promise<string | null> {
    return this.redis.get(K.epoch);
  }

  async setEpoch(value: string): Promise<void> {
    await this.redis.set(K.epoch, value);
  }

  /** No batch closes before `untilMs` (epoch ms), for every instance; a later hold wins. */
  async holdClosing(untilMs: number): Promise<void> {
    await this.redis.eval("local cur = tonumber(redis.call('GET', KEYS[1]) or '0') if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end return 1", 1, K.closingHeldUntil, String(untilMs), String(Math.max(1, untilMs - Date.now()) + 60_000));
  }

  async closingHeld(nowMs: number): Promise<boolean> {
    return Number((await this.redis.get(K.closingHeldUntil)) ?? '0') > nowMs;
  }

  /** Writes the epoch only while `holder` still holds the lease `lockKey` (a restore that lost it writes nothing). */
  setEpochHolding(value: string, lockKey: string, holder: string): Promise<boolean> {
    return new RedisLease(this.redis, lockKey, holder).setIfHeld(K.epoch, value);
  }
}

/** A (currency, window) may need more batches than this in one script only with tiny batch sizes: then it goes on in the next. */
const MAX_DECLARED_BATCHES = 64;

function batchOutcome(kind: string, r: unknown[]): BatchOperationOutcome {
  switch (kind) {
    case 'POSTED':
      return { kind: 'POSTED', batchId: String(r[1]), closedBySize: r[2] === '1', seq: Number(r[3]) };
    case 'DUPLICATE':
      return { kind: 'DUPLICATE', batchId: String(r[1]), fee: BigInt(String(r[2])), net: BigInt(String(r[3])), postedAt: String(r[4]) };
    case 'DECLINED':
    case 'IN_REVIEW':
    case 'HELD':
    case 'ALREADY_POSTED':
    case 'SKIPPED':
      return { kind };
    case 'ERROR':
      return { kind: 'ERROR', message: String(r[1]) };
    default:
      throw new Error(`unexpected posting batch reply ${JSON.stringify(r)}`);
  }
}

function toPosting(h: Record<string, string>): Posting | undefined {
  if (!h['payment_id']) return undefined;
  return {
    paymentId: h['payment_id'],
    merchantId: h['merchant_id'] ?? '',
    currency: h['currency'] ?? '',
    amount: BigInt(h['amount'] ?? '0'),
    fee: BigInt(h['fee'] ?? '0'),
    net: BigInt(h['net'] ?? '0'),
    postedAt: h['posted_at'] ?? '',
    batchId: h['batch_id'] ?? '',
    screenedAt: h['screened_at'] ?? '',
  };
}

function toBatch(h: Record<string, string>): BatchState | undefined {
  if (!h['batch_id'] || !h['state']) return undefined;
  const state = h['state'] === 'closed' ? 'closed' : 'open';
  const status: BatchStatus = state === 'open' ? 'open' : h['report_jws'] ? 'signed' : h['reported_at'] ? 'reported' : 'closed';
  const reason = h['close_reason'];
  return {
    batchId: h['batch_id'],
    merchantId: h['merchant_id'] ?? '',
    currency: h['currency'] ?? '',
    seq: Number(h['seq'] ?? '1'),
    windowStart: h['window_start'] ?? '',
    windowEnd: h['window_end'] ?? '',
    cursorField: h['cursor_field'] ?? '',
    state,
    status,
    openedAt: h['opened_at'] ?? '',
    closedAt: h['closed_at'],
    closeReason: reason === 'cutoff' || reason === 'size' ? reason : undefined,
    count: Number(h['count'] ?? '0'),
    gross: BigInt(h['gross'] ?? '0'),
    fees: BigInt(h['fees'] ?? '0'),
    net: BigInt(h['net'] ?? '0'),
    reportedAt: h['reported_at'],
    signedAt: h['signed_at'],
    kid: h['kid'],
    reportJws: h['report_jws'],
  };
}

/** The unsigned report of a closed batch: a pure function of its (immutable once closed) state. */
export function batchReport(batch: BatchState, paymentIds: readonly string[]): SettlementBatchReport {
  if (batch.state !== 'closed' || !batch.closedAt || !batch.closeReason) throw new Error(`batch ${batch.batchId} is not closed`);
  const money = (minor: bigint) => ({ minor: minor.toString(), currency: batch.currency });
  // parsed with the contract: a batch whose state does not make a valid report fails here, not at the consumer
  return SettlementBatchReportSchema.parse({
    batch_id: batch.batchId,
    merchant_id: batch.merchantId,
    currency: batch.currency,
    opened_at: batch.openedAt,
    closed_at: batch.closedAt,
    close_reason: batch.closeReason,
    payment_count: batch.count,
    gross: money(batch.gross),
    fees: money(batch.fees),
    net: money(batch.net),
    payment_ids: [...paymentIds].sort(),
  });
}
