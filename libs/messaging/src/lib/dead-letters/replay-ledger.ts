// Which dead letters have been replayed, shared by every operator and run (Redis). One hash per dead letter, keyed
// by its place in the dead-letter topic: a replay first claims it (`pending`, with a token unique to this claim),
// publishes, then marks it `done` with where the copy landed. Replaying is selective (any subset, any order), which
// a consumer group's committed offset cannot express; a per-dead-letter record can.
//
// Every script is safe to run twice (ioredis re-sends a command whose reply was lost): the claim returns the record
// and the caller compares tokens, complete and release act only for the claim's own token.
import type { Redis } from 'ioredis';
import { MessageRef, formatRef } from './dead-letter';

export interface ReplayRecord {
  readonly state: 'pending' | 'done';
  readonly token: string;
  /** When the claim was taken (ms since the epoch). */
  readonly claimedAt: number;
  readonly target: { readonly topic: string; readonly partition: number };
  /** Set once done: the offset of the copy on the target partition, and when it was acknowledged. */
  readonly replayedOffset?: string;
  readonly replayedAt?: string;
}

// Claims a dead letter that nobody holds, or takes over the claim whose token is ARGV[1] (an interrupted replay;
// '' when there is none: no claim has an empty token). Returns the record as it is afterwards.
const CLAIM = `
local state = redis.call('HGET', KEYS[1], 'state')
if state == false or (state == 'pending' and redis.call('HGET', KEYS[1], 'token') == ARGV[1]) then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'state', 'pending', 'token', ARGV[2], 'claimed_at', ARGV[3], 'target_topic', ARGV[4], 'target_partition', ARGV[5])
  redis.call('EXPIRE', KEYS[1], ARGV[6])
end
return redis.call('HGETALL', KEYS[1])`;

const COMPLETE = `
local state = redis.call('HGET', KEYS[1], 'state')
if state == false or (state == 'pending' and redis.call('HGET', KEYS[1], 'token') == ARGV[1]) then
  redis.call('HSET', KEYS[1], 'state', 'done', 'token', ARGV[1], 'claimed_at', ARGV[2], 'target_topic', ARGV[3], 'target_partition', ARGV[4], 'replayed_offset', ARGV[5], 'replayed_at', ARGV[6])
  redis.call('EXPIRE', KEYS[1], ARGV[7])
end
return redis.call('HGETALL', KEYS[1])`;

const RELEASE = `
if redis.call('HGET', KEYS[1], 'state') == 'pending' and redis.call('HGET', KEYS[1], 'token') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

export class ReplayLedger {
  constructor(
    private readonly redis: Redis,
    /** How long a record is kept: longer than the dead-letter topics' retention (default 30 days). */
    private readonly ttlSeconds = 30 * 86_400,
  ) {}

  static key(ref: MessageRef): string {
    return `dlq:replay:${formatRef(ref)}`;
  }

  async get(ref: MessageRef): Promise<ReplayRecord | undefined> {
    return toRecord(await this.redis.hgetall(ReplayLedger.key(ref)));
  }

  /** Claims the dead letter for this replay; returns the record as it is now (ours if its token is ours). */
  async claim(ref: MessageRef, token: string, claimedAt: number, target: { topic: string; partition: number }): Promise<ReplayRecord> {
    return this.run(CLAIM, ref, '', token, String(claimedAt), target.topic, String(target.partition), String(this.ttlSeconds));
  }

  /** Takes over the claim an interrupted replay left (its token given), or claims the record if it is gone. */
  async takeOver(ref: MessageRef, staleToken: string, token: string, claimedAt: number, target: { topic: string; partition: number }): Promise<ReplayRecord> {
    if (staleToken === '') throw new Error('takeOver needs the token of the claim to take over');
    return this.run(CLAIM, ref, staleToken, token, String(claimedAt), target.topic, String(target.partition), String(this.ttlSeconds));
  }

  async complete(ref: MessageRef, claim: ReplayRecord, replayedOffset: string, replayedAt: Date): Promise<ReplayRecord> {
    return this.run(COMPLETE, ref, claim.token, String(claim.claimedAt), claim.target.topic, String(claim.target.partition), replayedOffset, replayedAt.toISOString(), String(this.ttlSeconds));
  }

  async release(ref: MessageRef, token: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, ReplayLedger.key(ref), token);
  }

  private async run(script: string, ref: MessageRef, ...args: string[]): Promise<ReplayRecord> {
    const reply = await this.redis.eval(script, 1, ReplayLedger.key(ref), ...args);
    const record = toRecord(pairs(reply));
    if (!record) throw new Error(`replay ledger: no record for ${formatRef(ref)} after the script ran`);
    return record;
  }
}

function pairs(reply: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
  return out;
}

function toRecord(hash: Record<string, string>): ReplayRecord | undefined {
  const { state, token, claimed_at, target_topic, target_partition, replayed_offset, replayed_at } = hash;
  if ((state !== 'pending' && state !== 'done') || token === undefined || target_topic === undefined) return undefined;
  return {
    state,
    token,
    claimedAt: Number(claimed_at),
    target: { topic: target_topic, partition: Number(target_partition) },
    replayedOffset: replayed_offset,
    replayedAt: replayed_at,
  };
}
