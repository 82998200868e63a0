// Runs the status read model's restore (status-restore.ts) in the background: at start, and whenever the marker is
// found missing (checked every 15 s).
import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { PaymentStatusStore } from './payment-status.store';
import { AcceptedPublisher } from '../payments/accepted.publisher';
import { StatusEvidence } from './status-evidence';
import { StatusRestore } from './status-restore';

const CHECK_INTERVAL_MS = 15_000;

@Injectable()
export class StatusRecovery implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly restore: StatusRestore;
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;

  constructor(
    runtime: MessagingRuntime,
    status: PaymentStatusStore,
    accepted: AcceptedPublisher,
    evidence: StatusEvidence,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('status-recovery');
    const ok = async (check: Promise<{ ok: boolean }>): Promise<boolean> => (await check).ok;
    this.restore = new StatusRestore(runtime.redis, runtime.kafka, status, status.lifetimeS, {
      accepted: (e) => ok(accepted.checkOwn(e)),
      signed: (e) => ok(evidence.checkSigned(e)),
      screened: (e) => ok(evidence.checkScreened(e)),
      settled: (e) => ok(evidence.checkSettled(e)),
    });
  }

  onApplicationBootstrap(): void {
    this.check();
    this.timer = setInterval(() => this.check(), CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.current;
  }

  private check(): void {
    this.current ??= this.restore
      .check()
      .then((report) => {
        if (report) this.logger.warn(report, 'payment status read model restored from the accepted, signed, screened and settled topics (Redis had lost it, or is new)');
        if (report && report.forged > 0) this.logger.error({ forged: report.forged }, 'events whose seal or signature did not verify were skipped by the status restore (forged)');
      })
      .catch((err: Error) => this.logger.error({ err: err.message }, 'payment status restore failed; the next check retries'))
      .finally(() => (this.current = undefined));
  }
}
