// Puts back into Redis what fraud-check keeps on Kafka, where it lives for good: blocklists, the audit trail, and the
// decisions (decision records, the review queue, analysts' decisions) from the screened topic.
//
// - On start: the blocklist topic is replayed (a change published but not applied before a crash is applied now).
// - When the Redis-life marker is missing (a new or emptied Redis: restarted without persistence, flushed, failed
//   over to an empty replica), found at start, by the periodic check or by screening: everything is restored, by one
//   instance at a time (a lease in Redis); the others wait for the marker. The marker is written last, together with
//   the lease check, so screening (which waits for it) never sees a half-restored Redis.
// Every step is idempotent: a blocklist change applies only when newer than what Redis holds, the audit trail is
// restored once per Redis life (its own marker in the same script), decisions and reviews are first-wins.
import type { BlocklistChanged, PaymentScreened } from '@payrail/contracts';
import type { AuditEntry, RedisAuditLog } from '../audit/audit-log';
import { toReplayedChange } from '../blocklist/blocklist-journal';
import type { RedisBlocklistStore } from '../blocklist/redis-blocklist.store';
import { DecisionRestore, DecisionRestoreCounts, noDecisionsRestored } from './decision-restore';
import type { RestoreLease } from './recovery-lease';

export interface OperationsSource {
  readLatestBlocklistChanges(): Promise<{ changes: BlocklistChanged[]; undecodable: number }>;
  readRecentAudit(count: number): Promise<AuditEntry[]>;
  /** The screened topic up to its end when called, in chunks in the order read (each partition in offset order). */
  replayDecisions(apply: (events: PaymentScreened[]) => Promise<void>): Promise<{ read: number; undecodable: number }>;
}

export interface RecoveryReport {
  blocklistChanges: number;
  blocklistApplied: number;
  /** Undecodable messages on the blocklist and screened topics. */
  undecodable: number;
  /** Entries put back into the audit stream; -1 when the trail was not restored (Redis kept it, or it was already). */
  auditRestored: number;
  /** What this instance put back from the screened topic; undefined when it restored no decisions. */
  decisions?: DecisionRestoreCounts;
  /** `this`: this instance restored; `other`: another instance did while this one waited; `none`: Redis was intact. */
  restoredBy: 'this' | 'other' | 'none';
}

export class OperationsRecovery {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly source: OperationsSource,
    private readonly blocklists: Pick<RedisBlocklistStore, 'apply'>,
    private readonly auditLog: Pick<RedisAuditLog, 'lifeMarker' | 'restore'>,
    private readonly auditEntries: number,
    private readonly decisions: Pick<DecisionRestore, 'apply'>,
    private readonly lease: RestoreLease,
    private readonly options: { waitPollMs: number; sleep?: (ms: number) => Promise<void> } = { waitPollMs: 500 },
  ) {
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** True when this Redis holds its life marker: nothing was lost, or the restore finished. */
  async redisIntact(): Promise<boolean> {
    return (await this.auditLog.lifeMarker()) !== null;
  }

  /** On start: replays the blocklists; when the marker is missing, restores everything (or waits for who does). */
  async recover(): Promise<RecoveryReport> {
    if (!(await this.redisIntact())) return this.restore();
    return { ...(await this.replayBlocklists()), auditRestored: -1, restoredBy: 'none' };
  }

  /** The periodic check, and screening's: restores only when Redis lost its data; undefined when it did not. */
  async recoverIfLost(): Promise<RecoveryReport | undefined> {
    return (await this.redisIntact()) ? undefined : this.restore();
  }

  /** Resolves once the marker is back: restored by this instance (holding the lease) or by another one. */
  private async restore(): Promise<RecoveryReport> {
    let report: RecoveryReport | undefined;
    for (;;) {
      if (await this.redisIntact()) return report ?? { blocklistChanges: 0, blocklistApplied: 0, undecodable: 0, auditRestored: -1, restoredBy: 'other' };
      if (!(await this.lease.acquire())) {
        // another instance restores: wait for its marker, or for its lease to lapse (it stopped renewing)
        await this.sleep(this.options.waitPollMs);
        continue;
      }
      report = await this.lease.hold(() => this.restoreAll());
      // false when the lease went away meanwhile (Redis lost its data again): the loop restores again
      if (await this.lease.finish()) return report;
    }
  }

  private async restoreAll(): Promise<RecoveryReport> {
    const counts = noDecisionsRestored();
    const [blocklists, replayed, auditRestored] = await Promise.all([
      this.replayBlocklists(),
      this.source.replayDecisions((events) => this.decisions.apply(events, counts)),
      this.source.readRecentAudit(this.auditEntries).then((entries) => this.auditLog.restore(entries, new Date().toISOString())),
    ]);
    return { ...blocklists, undecodable: blocklists.undecodable + replayed.undecodable, auditRestored, decisions: counts, restoredBy: 'this' };
  }

  private async replayBlocklists(): Promise<Pick<RecoveryReport, 'blocklistChanges' | 'blocklistApplied' | 'undecodable'>> {
    const { changes, undecodable } = await this.source.readLatestBlocklistChanges();
    let applied = 0;
    for (const change of changes) if (await this.blocklists.apply(toReplayedChange(change))) applied++;
    return { blocklistChanges: changes.length, blocklistApplied: applied, undecodable };
  }
}
