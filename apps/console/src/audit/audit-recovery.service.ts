// Puts the console's audit trail back from the audit topic when Redis lost it: at start (a fresh Redis restores
// nothing and writes its marker) and whenever the marker is found missing (checked every 15 s).
import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { AuditTrail } from './audit-trail';

export const AUDIT_CHECK_INTERVAL_MS = 15_000;

@Injectable()
export class AuditRecovery implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly trail: AuditTrail,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('audit-recovery');
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), AUDIT_CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One check; never two at once. */
  check(): Promise<void> {
    this.running ??= this.trail
      .restore()
      .then((restored) => {
        if (restored >= 0) this.logger.warn({ restored }, 'audit trail restored from payrail.audit.operator-actions.v1 (Redis had lost it, or is new)');
      })
      .catch((err: Error) => this.logger.error({ err: err.message }, 'audit trail restore failed; the next check retries'))
      .finally(() => (this.running = undefined));
    return this.running;
  }
}
