// The double-entry ledger in Redis. One Lua script per posting checks every precondition before its first write
// (Redis scripts do not roll back) and records the posting id (= payment id) in the same step, so a redelivered
// message or a command ioredis re-sends after a lost reply is a no-op. Every key carries the merchant's hash tag,
// so the script touches one slot (Redis Cluster ready); ledger-wide totals are sums over merchants.
import type { Redis } from '@payrail/messaging';

export const ACCOUNTS = ['clearing', 'merchant_payable', 'fee_revenue'] as const;
export type LedgerAccount = (typeof ACCOUNTS)[number];

const POST_SCRIPT = `
-- KEYS[1] posting hash, KEYS[2] clearing, KEYS[3] merchant payable, KEYS[4] fee revenue, KEYS[5] batch hash,
-- KEYS[6] batch payment set, KEYS[7] merchant's batch index
-- ARGV: payment id, amount, fee, net, posted_at, batch id, currency
if redis.call('EXISTS', KEYS[1]) == 1 then return 'DUPLICATE' end
local amount = tonumber(ARGV[2]); local fee = tonumber(ARGV[3]); local net = tonumber(ARGV[4])
if not amount or not fee or not net then return redis.error_reply('ERR non-numeric amount') end
if amount <= 0 or fee < 0 or net < 0 or fee + net ~= amount then return redis.error_reply('ERR unbalanced posting') end
if string.len(ARGV[1]) == 0 or string.len(ARGV[6]) == 0 then return redis.error_reply('ERR missing ids') end
-- all checks passed: the writes below cannot fail for a reason checked above
redis.call('HSET', KEYS[1], 'payment_id', ARGV[1], 'amount', ARGV[2], 'fee', ARGV[3], 'net', ARGV[4], 'posted_at', ARGV[5], 'batch_id', ARGV[6], 'currency', ARGV[7])
redis.call('INCRBY', KEYS[2], -amount)
redis.call('INCRBY', KEYS[3], net)
redis.call('INCRBY', KEYS[4], fee)
redis.call('SADD', KEYS[6], ARGV[1])
redis.call('HINCRBY', KEYS[5], 'gross', amount)
redis.call('HINCRBY', KEYS[5], 'fees', fee)
redis.call('HINCRBY', KEYS[5], 'net', net)
redis.call('HINCRBY', KEYS[5], 'count', 1)
redis.call('HSETNX', KEYS[5], 'opened_at', ARGV[5])
redis.call('SADD', KEYS[7], ARGV[6])
return 'POSTED'
`;

export interface PostingCommand {
  paymentId: string;
  merchantId: string;
  currency: string;
  amount: bigint;
  fee: bigint;
  net: bigint;
  postedAt: string;
  batchId: string;
}

export type PostingResult = 'POSTED' | 'DUPLICATE';

export class LedgerRepository {
  constructor(private readonly redis: Redis) {
    this.redis.defineCommand('payrailPost', { numberOfKeys: 7, lua: POST_SCRIPT });
  }

  static accountKey(merchantId: string, account: LedgerAccount, currency: string): string {
    return `ledger:{${merchantId}}:account:${account}:${currency}`;
  }

  async post(cmd: PostingCommand): Promise<PostingResult> {
    const tag = `{${cmd.merchantId}}`;
    const run = (this.redis as unknown as { payrailPost: (...args: string[]) => Promise<string> }).payrailPost;
    const result = await run.call(
      this.redis,
      `ledger:${tag}:posting:${cmd.paymentId}`,
      LedgerRepository.accountKey(cmd.merchantId, 'clearing', cmd.currency),
      LedgerRepository.accountKey(cmd.merchantId, 'merchant_payable', cmd.currency),
      LedgerRepository.accountKey(cmd.merchantId, 'fee_revenue', cmd.currency),
      `ledger:${tag}:batch:${cmd.batchId}`,
      `ledger:${tag}:batch:${cmd.batchId}:payments`,
      `ledger:${tag}:batches`,
      cmd.paymentId,
      cmd.amount.toString(),
      cmd.fee.toString(),
      cmd.net.toString(),
      cmd.postedAt,
      cmd.batchId,
      cmd.currency,
    );
    if (result !== 'POSTED' && result !== 'DUPLICATE') throw new Error(`unexpected posting result ${result}`);
    return result;
  }

  async posting(merchantId: string, paymentId: string): Promise<Record<string, string> | undefined> {
    const h = await this.redis.hgetall(`ledger:{${merchantId}}:posting:${paymentId}`);
    return h['payment_id'] ? h : undefined;
  }

  async balance(merchantId: string, account: LedgerAccount, currency: string): Promise<bigint> {
    return BigInt((await this.redis.get(LedgerRepository.accountKey(merchantId, account, currency))) ?? '0');
  }
}
