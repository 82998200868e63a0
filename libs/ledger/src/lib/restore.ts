// Restoring the ledger from Kafka, one process at a time: the settlement service when it finds no ledger in Redis
// (at boot, or when a posting is refused with NO_LEDGER) and `payrail settlement rebuild` take the same Redis lease
// (LedgerKeys.restoreLock, kept alive while the restore runs), so two restores never interleave. A service waiting
// for the lease gives up waiting as soon as a ledger epoch appears (another instance restored it).
import { RedisLease } from '@payrail/messaging';
import { LedgerKeys as K } from './keys';
import { LedgerRepository } from './ledger.repository';
import { RebuildOptions, RebuildReport, rebuildLedger } from './rebuild';

export interface RestoreOptions extends RebuildOptions {
  /** Who holds the lease (unique per process). */
  holder: string;
  /** Restore only when Redis holds no ledger epoch (the service); the CLI rebuilds whatever is there. */
  onlyIfMissing?: boolean;
  /** Lease length; renewed every third of it while the restore runs (default 30 s). */
  leaseMs?: number;
  /** How often a waiting process looks again (default 500 ms). */
  pollMs?: number;
}

export type RestoreOutcome = { kind: 'RESTORED'; report: RebuildReport } | { kind: 'PRESENT'; epoch: string };

export async function restoreLedger(kafka: Parameters<typeof rebuildLedger>[0], ledger: LedgerRepository, options: RestoreOptions): Promise<RestoreOutcome> {
  const leaseMs = options.leaseMs ?? 30_000;
  for (let waited = false; ; waited = true) {
    if (options.onlyIfMissing) {
      const epoch = await ledger.epoch();
      if (epoch) return { kind: 'PRESENT', epoch };
    }
    const lease = new RedisLease(ledger.redis, K.restoreLock, options.holder, leaseMs);
    if (await lease.acquire()) {
      return lease.hold(async (): Promise<RestoreOutcome> => {
        const epoch = options.onlyIfMissing ? await ledger.epoch() : null;
        if (epoch) return { kind: 'PRESENT', epoch }; // restored by the previous holder meanwhile
        return { kind: 'RESTORED', report: await rebuildLedger(kafka, ledger, { ...options, lease }) };
      });
    }
    if (!waited) options.progress?.('another process is restoring the ledger; waiting');
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
}
