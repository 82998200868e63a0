// The idempotent-consumer helper for effects that live in Redis. One Lua script checks the event's processed
// marker, applies the effect and records the marker, so the three happen in one atomic step: a redelivered event
// (Kafka at-least-once, a restart before the commit, a rebalance) finds its marker and changes nothing.
//
// Why a script and not "SET NX the marker, then apply": a crash between the two would lose the effect (marker set,
// effect never applied) or, the other way round, apply it twice. Why a token in the marker: ioredis re-sends a
// command whose reply was lost when the connection drops; the re-sent script finds the marker it wrote itself, and
// the caller is told the truth (it was this call that applied the effect).
//
// Batching: calls made while the event loop turns (the consumer's concurrent handlers, one per key) go to Redis as one
// script call that applies each in turn, each with its own marker check, effect and marker, and its own outcome. Per
// call the result is what a script of its own would give; one command replaces dozens (auto-pipelining already
// shared their round trip, but ioredis spends ~20 us of client CPU per command: docs/kafka-bench.md). A script may
// touch one slot only on Redis Cluster: a Cluster client sends each call alone, and a cluster-mode endpoint behind one
// address (which answers a mixed batch with CROSSSLOT) turns batching off for the effect and gets each call resent.
//
// Redis Cluster: the marker and every key of the effect carry the same hash tag (`{scope}`, e.g. the merchant id),
// so the script touches one slot. Markers expire after `markerTtlSeconds`: keep it longer than the longest time a
// message can be redelivered (topic retention), or a very late redelivery would apply again.
import { createHash, randomUUID } from 'node:crypto';
import { ReplyError, type Redis } from 'ioredis';

/** A little over the local brokers' 7-day retention: no redelivery can outlive its marker. */
export const DEFAULT_MARKER_TTL_S = 8 * 24 * 3600;
/** Calls per batched script call. */
export const DEFAULT_MAX_BATCH = 256;
/** Keeps one script call's keys and arguments (a few per call) far below what a spread or Redis accepts at once. */
const MAX_BATCH_LIMIT = 1024;

export interface IdempotentConsumerOptions {
  /** Who applies the effects (e.g. `settlement-ledger`): two consumers of the same event keep separate markers. */
  consumer: string;
  markerTtlSeconds?: number;
  /**
   * Most calls sent as one script call (default 256); 1 sends each call alone. Calls are gathered until the event loop
   * turns (setImmediate), so a lone call waits for nothing but that turn.
   */
  maxBatch?: number;
}

export interface EffectDefinition {
  /** How many keys the effect's Lua body receives (its KEYS[1..n]; the marker is not among them). */
  numberOfKeys: number;
  /**
   * A Lua body run with its own KEYS and ARGV. Redis does not roll a script back: check everything before the first
   * write, and refuse with `return redis.error_reply('...')` (then no marker is recorded and a retry may apply it).
   * Whatever it returns (a string, an integer or an array of them) is handed back as `result`.
   */
  lua: string;
}

export interface EffectInvocation {
  /** The event's id (CloudEvents `id`): what makes a redelivery recognisable. */
  eventId: string;
  /** The hash tag every key shares (e.g. the merchant id); no braces. */
  scope: string;
  /** The effect's keys, each with the hash tag `{scope}` (e.g. `settled:{merchant-1}:sum`). */
  keys: readonly string[];
  args?: readonly (string | number)[];
}

export type EffectOutcome<R> =
  /** Applied now (`resent`: by this call, whose first reply was lost; the effect's result is not known then). */
  | { outcome: 'APPLIED'; result: R | undefined; resent: boolean }
  /** The event had been processed before: nothing changed. */
  | { outcome: 'DUPLICATE' };

const MAX_EVENT_ID_LENGTH = 256;
const MAX_SCOPE_LENGTH = 128;

/** The hash tag Redis Cluster hashes a key by: what is between the first `{` and the next `}` when non-empty. */
export function hashTag(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open < 0) return undefined;
  const close = key.indexOf('}', open + 1);
  if (close <= open + 1) return undefined;
  return key.slice(open + 1, close);
}

/**
 * The script around an effect's Lua body, for one call or a batch: per call, in order, the marker check, the effect
 * (in `pcall`, so that a refusal or an error answers that call alone; what it wrote before failing stays: Redis does
 * not roll a script back) and the marker.
 */
function wrap(body: string, numberOfKeys: number): string {
  return `
-- KEYS: per call, its processed marker then its ${numberOfKeys} effect key(s)
-- ARGV[1]: marker TTL (s); then per call: its token, its argument count n, its n arguments
local effect = function(KEYS, ARGV)
${body}
end
local stride = ${numberOfKeys + 1}
local ttl = ARGV[1]
local replies = {}
local a = 2
for i = 1, #KEYS / stride do
  local base = (i - 1) * stride
  local token, argc = ARGV[a], tonumber(ARGV[a + 1])
  local effectKeys, effectArgs = {}, {}
  for j = 1, stride - 1 do effectKeys[j] = KEYS[base + 1 + j] end
  for j = 1, argc do effectArgs[j] = ARGV[a + 1 + j] end
  a = a + 2 + argc
  local claimed = redis.call('GET', KEYS[base + 1])
  if claimed then
    replies[i] = {'DUPLICATE', claimed}
  else
    local ok, result = pcall(effect, effectKeys, effectArgs)
    if not ok then
      replies[i] = {'ERROR', type(result) == 'table' and (result.err or 'ERR effect failed') or tostring(result)}
    elseif type(result) == 'table' and result.err then
      replies[i] = {'ERROR', result.err}
    else
      redis.call('SET', KEYS[base + 1], token, 'EX', ttl)
      replies[i] = {'APPLIED', result}
    end
  end
end
return replies
`;
}

type ScriptCommand = (...keysAndArgs: (string | number)[]) => Promise<unknown>;

interface QueuedCall<R> {
  keys: (string | number)[];
  args: (string | number)[];
  token: string;
  resolve: (outcome: EffectOutcome<R>) => void;
  reject: (err: Error) => void;
}

/** One effect, defined once per client; `applyOnce` runs it at most once per event id. */
export class IdempotentEffect<R = unknown> {
  private queue: QueuedCall<R>[] = [];
  private flushScheduled = false;
  private batching: boolean;

  constructor(
    private readonly redis: Redis,
    private readonly command: string,
    private readonly consumer: string,
    private readonly numberOfKeys: number,
    private readonly markerTtlSeconds: number,
    private readonly maxBatch: number,
  ) {
    this.batching = maxBatch > 1 && !(redis as { isCluster?: boolean }).isCluster;
  }

  /** The marker key of an event (exposed for operators and tests: `TTL` shows when a redelivery would apply again). */
  markerKey(scope: string, eventId: string): string {
    return `processed:{${scope}}:${this.consumer}:${eventId}`;
  }

  async applyOnce(invocation: EffectInvocation, token: string = randomUUID()): Promise<EffectOutcome<R>> {
    this.check(invocation);
    const keys = [this.markerKey(invocation.scope, invocation.eventId), ...invocation.keys];
    const args = invocation.args ? [...invocation.args] : [];
    return new Promise<EffectOutcome<R>>((resolve, reject) => {
      const call = { keys, args, token, resolve, reject };
      if (!this.batching) return this.send([call]);
      this.queue.push(call);
      if (this.queue.length >= this.maxBatch) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Sends what is queued (up to maxBatch per script call). */
  private flush(): void {
    this.flushScheduled = false;
    while (this.queue.length > 0) this.send(this.queue.splice(0, this.maxBatch));
  }

  /** One script call for these calls; each is answered with its own outcome. */
  private send(calls: QueuedCall<R>[]): void {
    const keys: (string | number)[] = [];
    const args: (string | number)[] = [this.markerTtlSeconds];
    for (const call of calls) {
      keys.push(...call.keys);
      args.push(call.token, call.args.length, ...call.args);
    }
    let sent: Promise<unknown>;
    try {
      sent = this.script(this.command)(keys.length, ...keys, ...args);
    } catch (err) {
      sent = Promise.reject(err as Error); // answered to the callers, never thrown out of setImmediate
    }
    sent.then(
      (replies) => settleBatch(calls, replies),
      (err: Error) => {
        if (calls.length > 1 && /^CROSSSLOT/.test(err.message)) {
          // nothing ran (Redis refuses the whole script before it starts): each call alone, from now on
          this.batching = false;
          for (const call of calls) this.send([call]);
          return;
        }
        for (const call of calls) call.reject(err);
      },
    );
  }

  private script(command: string): ScriptCommand {
    const run = (this.redis as unknown as Record<string, ScriptCommand>)[command];
    if (!run) throw new Error(`effect script ${command} is not defined on this Redis client`);
    return run.bind(this.redis);
  }

  private check({ eventId, scope, keys }: EffectInvocation): void {
    if (eventId.length === 0 || eventId.length > MAX_EVENT_ID_LENGTH) throw new Error(`event id must be 1-${MAX_EVENT_ID_LENGTH} characters`);
    if (scope.length === 0 || scope.length > MAX_SCOPE_LENGTH || /[{}]/.test(scope)) throw new Error(`scope must be 1-${MAX_SCOPE_LENGTH} characters without braces`);
    if (keys.length !== this.numberOfKeys) throw new Error(`effect takes ${this.numberOfKeys} keys, got ${keys.length}`);
    for (const key of keys) {
      // one slot for the whole script, or it cannot run on Redis Cluster
      if (hashTag(key) !== scope) throw new Error(`key ${key} must carry the hash tag {${scope}}`);
    }
  }
}

/** Hands each call of a script call its own outcome: ['APPLIED', r] | ['DUPLICATE', token] | ['ERROR', message]. */
function settleBatch<R>(calls: readonly QueuedCall<R>[], replies: unknown): void {
  if (!Array.isArray(replies) || replies.length !== calls.length) {
    const err = new Error(`unexpected reply from a batched idempotent effect: ${JSON.stringify(replies)?.slice(0, 200)}`);
    for (const call of calls) call.reject(err);
    return;
  }
  calls.forEach((call, i) => {
    const reply: unknown = replies[i];
    if (Array.isArray(reply) && reply[0] === 'ERROR') {
      call.reject(new ReplyError(String(reply[1])));
      return;
    }
    try {
      call.resolve(interpretReply<R>(reply, call.token));
    } catch (err) {
      call.reject(err as Error);
    }
  });
}

/** The script's reply: ['APPLIED', result?] or ['DUPLICATE', token of the call that applied it]. */
export function interpretReply<R>(reply: unknown, token: string): EffectOutcome<R> {
  if (!Array.isArray(reply) || (reply[0] !== 'APPLIED' && reply[0] !== 'DUPLICATE')) {
    throw new Error(`unexpected reply from an idempotent effect: ${JSON.stringify(reply)}`);
  }
  if (reply[0] === 'APPLIED') return { outcome: 'APPLIED', result: reply[1] as R | undefined, resent: false };
  // our own token: the first send of this very call applied it and its reply was lost
  if (reply[1] === token) return { outcome: 'APPLIED', result: undefined, resent: true };
  return { outcome: 'DUPLICATE' };
}

/**
 * Defines effects for one consumer on one Redis client. Usage:
 *
 *   const ledger = new IdempotentConsumer(redis, { consumer: 'settlement-ledger' });
 *   const settle = ledger.defineEffect<number>({ numberOfKeys: 2, lua: "redis.call('INCRBY', KEYS[1], ARGV[1]) return redis.call('INCR', KEYS[2])" });
 *   await settle.applyOnce({ eventId: event.envelope.id, scope: merchantId, keys: [`settled:{${merchantId}}:sum`, `settled:{${merchantId}}:count`], args: [net] });
 */
export class IdempotentConsumer {
  readonly markerTtlSeconds: number;
  private readonly maxBatch: number;

  constructor(
    private readonly redis: Redis,
    private readonly options: IdempotentConsumerOptions,
  ) {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(options.consumer)) throw new Error('consumer must be 1-64 letters, digits, ".", "_" or "-"');
    this.markerTtlSeconds = options.markerTtlSeconds ?? DEFAULT_MARKER_TTL_S;
    if (!Number.isInteger(this.markerTtlSeconds) || this.markerTtlSeconds < 1) throw new Error('markerTtlSeconds must be a positive whole number');
    this.maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1 || this.maxBatch > MAX_BATCH_LIMIT) throw new Error(`maxBatch must be a whole number from 1 to ${MAX_BATCH_LIMIT}`);
  }

  defineEffect<R = unknown>(definition: EffectDefinition): IdempotentEffect<R> {
    if (!Number.isInteger(definition.numberOfKeys) || definition.numberOfKeys < 0) throw new Error('numberOfKeys must be a whole number >= 0');
    // the key count comes first in each call (it varies with the number of calls in a batch)
    const command = this.command(wrap(definition.lua, definition.numberOfKeys));
    return new IdempotentEffect<R>(this.redis, command, this.options.consumer, definition.numberOfKeys, this.markerTtlSeconds, this.maxBatch);
  }

  /** Named by content: the same effect defined twice (or by two instances sharing a client) is one command. */
  private command(lua: string): string {
    const name = `payrailEffect${createHash('sha1').update(lua).digest('hex').slice(0, 16)}`;
    if (!(name in this.redis)) this.redis.defineCommand(name, { lua });
    return name;
  }
}
