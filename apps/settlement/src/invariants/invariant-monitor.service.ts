// The ledger invariants, checked continuously: every INVARIANT_CHECK_INTERVAL_S one instance (a Redis lease)
// runs the same check as `payrail settlement check` and logs each violation at error level. The last result is
// kept for the operators API (GET /v1/settlements/invariants).
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { SettlementMetrics } from '@payrail/messaging';
import { InvariantReport, LedgerKeys, checkInvariants } from '@payrail/ledger';
import { SETTLEMENT_CONFIG, SettlementConfig } from '../config';
import { Ledger } from '../ledger/ledger.provider';

export interface InvariantCheckResult {
  checkedAt: string;
  report: InvariantReport;
}

@Injectable()
export class InvariantMonitor implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<InvariantCheckResult | undefined> | undefined;
  private last: InvariantCheckResult | undefined;
  private readonly instance = randomUUID();

  constructor(
    private readonly ledger: Ledger,
    @Inject(SETTLEMENT_CONFIG) private readonly config: SettlementConfig,
    private readonly logger: PinoLogger,
    /** Violations found by the last check, per invariant (alerted on: deploy/observability/alerts.yaml). */
    private readonly metrics: SettlementMetrics,
  ) {
    this.logger.setContext('invariants');
  }

  get lastResult(): InvariantCheckResult | undefined {
    return this.last;
  }

  onApplicationBootstrap(): void {
    const intervalS = this.config.invariantCheckIntervalS;
    if (intervalS === 0) return;
    this.timer = setInterval(() => void this.checkShared(), intervalS * 1000);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One instance at a time (the check reads the whole ledger). */
  private async checkShared(): Promise<void> {
    const repo = this.ledger.repository;
    try {
      if (!(await repo.tryLock(LedgerKeys.invariantsLock, this.instance, Math.max(this.config.invariantCheckIntervalS * 1000, 60_000)))) return;
      await this.check();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'invariant check failed to run; next round retries');
    }
  }

  /** Runs the check now (also what the API's refresh does). */
  check(): Promise<InvariantCheckResult | undefined> {
    this.running ??= (async () => {
      const started = Date.now();
      const report = await checkInvariants(this.ledger.repository);
      this.last = { checkedAt: new Date().toISOString(), report };
      for (const v of report.violations) this.logger.error({ violation: v }, `ledger invariant violated: ${v.invariant}`);
      this.metrics.invariantsChecked(report.violations);
      this.logger.info({ ok: report.ok, merchants: report.merchants, batches: report.batches, postings: report.postings, violations: report.violations.length, ms: Date.now() - started }, 'ledger invariants checked');
      return this.last;
    })().finally(() => (this.running = undefined));
    return this.running;
  }
}
