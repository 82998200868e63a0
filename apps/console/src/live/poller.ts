/**
 * Runs `task` now and then every `intervalMs` after the previous run finished (never two at once), until stopped.
 * A failing task is reported to `onError` and tried again at the next interval.
 */
export class Poller {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly task: () => Promise<void>,
    private readonly onError: (err: Error) => void,
  ) {}

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  /** Runs the task now (e.g. after an action changed what it reads), unless a run is in progress. */
  async refreshNow(): Promise<void> {
    await (this.running ?? this.tick());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private tick(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.running = this.task()
      .catch((err: unknown) => this.onError(err instanceof Error ? err : new Error(String(err))))
      .finally(() => {
        this.running = undefined;
        if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.intervalMs).unref();
      });
    return this.running;
  }
}
