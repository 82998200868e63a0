// Screening decides nothing while Redis is without what fraud-check keeps on Kafka (after a Redis loss, until the
// restore wrote the Redis-life marker): a payment decided then would meet no blocklists, no decision record of a
// payment already decided, and could be told something different. The gate answers from a cached check (at most
// one marker read per `recheckMs`) and, when the marker is missing, waits: it runs or joins the restore and never
// fails, so a message is never retried into the dead-letter topic because recovery is running.
// Screening also reads the marker with every payment it has no record of (the same round trip): a loss inside the
// cached interval is caught before anything is decided.

export interface RecoveryPort {
  /** True when Redis holds its life marker (never lost, or restored). */
  intact(): Promise<boolean>;
  /** Restores what Redis lost, or waits for the instance that does. */
  restore(): Promise<void>;
}

export interface RecoveryGateOptions {
  /** How long a seen marker is trusted without reading it again. */
  recheckMs: number;
  /** Pause before trying again after a failed check or restore (Redis or Kafka unreachable). */
  retryMs: number;
  onError: (err: Error) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export const RECOVERY_RECHECK_MS = 500;

export class RecoveryGate {
  private intactAt = Number.NEGATIVE_INFINITY;
  private waiting: Promise<void> | undefined;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly port: RecoveryPort,
    private readonly options: RecoveryGateOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Resolves once Redis holds its marker: at once while a recent check saw it, else after reading it (and restoring). */
  async ready(): Promise<void> {
    if (this.now() - this.intactAt < this.options.recheckMs) return;
    this.waiting ??= this.untilIntact().finally(() => (this.waiting = undefined));
    await this.waiting;
  }

  /** Reads the marker now, keeping what it saw for ready(). */
  async intact(): Promise<boolean> {
    const intact = await this.port.intact();
    this.intactAt = intact ? this.now() : Number.NEGATIVE_INFINITY;
    return intact;
  }

  private async untilIntact(): Promise<void> {
    for (;;) {
      try {
        if (await this.intact()) return;
        await this.port.restore();
      } catch (err) {
        this.options.onError(err as Error);
        await this.sleep(this.options.retryMs);
      }
    }
  }
}
