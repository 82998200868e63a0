// The replay guard (jti claims) after Redis lost its data. A signed token is acceptable for FRESHNESS_WINDOW_S
// (plus clock skew), and its jti claim lives that long in Redis; a Redis that restarts empty would let a token
// accepted a minute ago be replayed under another Idempotency-Key as a new payment. The claims are facts on Kafka:
// every accepted payment carries its upstream's jti (`upstream_verification.jti`). So when the admission script
// finds no guard marker for an upstream (`adm:{upstream}:life`, set once per Redis life), ingest restores the
// claims of the last jti-lifetime of the accepted topic first (one instance at a time, under a lease; the others
// wait), writes a global marker, and only then admits anything; an upstream seen later only gets its marker set.
// Restored claims are "<payment id> restored": a retry of the same request (same key, so the same payment id) is
// still admitted as that payment; the same token under another key is refused as a replay.
import type { PaymentAccepted } from '@payrail/contracts';
import { TOPIC_RESTORES, TOPICS } from '@payrail/contracts';
import { Kafka, Redis, RedisLease, decode, partitionRangesSince, readPartitionRanges } from '@payrail/messaging';
import { guardLifeKey, jtiClaimKey } from './admission.store';

const RESTORED_KEY = 'adm:guard-restored';
const LOCK_KEY = 'adm:lock:guard-restore';

export interface ReplayGuardRecoveryOptions {
  /** How long a jti stays claimed (seconds): the window of the accepted topic that is read back. */
  jtiTtlSeconds: number;
  log?: (fields: Record<string, unknown>, message: string) => void;
}

export class ReplayGuardRecovery {
  private running: Promise<void> | undefined;
  private readonly lease: RedisLease;

  constructor(
    private readonly redis: Redis,
    private readonly kafka: Kafka,
    private readonly options: ReplayGuardRecoveryOptions,
  ) {
    this.lease = new RedisLease(redis, LOCK_KEY);
  }

  /** Resolves once the upstream's guard is in this Redis (restored from Kafka when Redis lost it). */
  guard(upstreamId: string): Promise<void> {
    this.running ??= this.ensure().finally(() => (this.running = undefined));
    return this.running.then(() => this.mark(upstreamId));
  }

  private async mark(upstreamId: string): Promise<void> {
    await this.redis.set(guardLifeKey(upstreamId), '1');
  }

  private async ensure(): Promise<void> {
    for (let waited = false; ; waited = true) {
      if ((await this.redis.exists(RESTORED_KEY)) === 1) return;
      if (await this.lease.acquire()) {
        await this.lease.hold(async () => {
          if ((await this.redis.exists(RESTORED_KEY)) === 0) await this.restore();
        });
        return;
      }
      if (!waited) this.options.log?.({}, 'another ingest instance is restoring the replay guard; waiting');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** The jti claims of the accepted topic's last jti-lifetime, each kept for what is left of its lifetime. */
  private async restore(): Promise<void> {
    const started = Date.now();
    const sinceMs = started - this.options.jtiTtlSeconds * 1000;
    const ranges = await partitionRangesSince(this.kafka, TOPICS.paymentsAccepted.name, sinceMs);
    const upstreams = new Set<string>();
    let claims = 0;
    let pipeline = this.redis.pipeline();
    const flushes: Promise<unknown>[] = [];
    await readPartitionRanges(this.kafka, ranges, (_topic, _partition, message) => {
      const at = Number(message.timestamp);
      const leftS = Math.ceil((at + this.options.jtiTtlSeconds * 1000 - started) / 1000);
      if (leftS <= 0) return 'continue';
      let accepted: PaymentAccepted;
      try {
        accepted = decode(TOPICS.paymentsAccepted, message).data as PaymentAccepted;
      } catch {
        return 'continue'; // not a valid event: nothing it could have claimed
      }
      // NX: a claim already here (a request admitted meanwhile) is the newer fact
      pipeline.set(jtiClaimKey(accepted.upstream_id, accepted.upstream_verification.jti), `${accepted.payment_id} restored`, 'EX', leftS, 'NX');
      upstreams.add(accepted.upstream_id);
      claims++;
      if (claims % 1000 === 0) {
        flushes.push(pipeline.exec());
        pipeline = this.redis.pipeline();
      }
      return 'continue';
    }, { clientLabel: TOPIC_RESTORES.ingestReplayGuard.label });
    flushes.push(pipeline.exec());
    await Promise.all(flushes);
    for (const upstreamId of upstreams) await this.mark(upstreamId);
    // only while the lease is still ours: a Redis that lost its data again meanwhile must be restored again
    if (!(await this.lease.setIfHeld(RESTORED_KEY, new Date().toISOString()))) throw new Error('the replay guard restore lost its lease (Redis lost its data again?): not completed');
    this.options.log?.({ claims, upstreams: upstreams.size, window_s: this.options.jtiTtlSeconds, ms: Date.now() - started }, 'replay guard restored from the accepted topic');
  }
}
