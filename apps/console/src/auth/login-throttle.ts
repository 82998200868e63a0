/**
 * Slows password guessing: after `maxFailures` failed sign-ins for one username from one address within the
 * window, further attempts are refused until the oldest failure leaves the window. In memory: the console runs
 * as one instance.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures = 5,
    private readonly windowMs = 15 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds to wait before trying again, or 0 when an attempt is allowed now. */
  retryAfterS(username: string, address: string): number {
    const recent = this.recent(username, address);
    if (recent.length < this.maxFailures) return 0;
    const oldest = recent[recent.length - this.maxFailures] ?? this.now();
    return Math.max(1, Math.ceil((oldest + this.windowMs - this.now()) / 1000));
  }

  failed(username: string, address: string): void {
    const key = this.key(username, address);
    this.failures.set(key, [...this.recent(username, address), this.now()]);
    if (this.failures.size > 10_000) this.prune();
  }

  succeeded(username: string, address: string): void {
    this.failures.delete(this.key(username, address));
  }

  private recent(username: string, address: string): number[] {
    const since = this.now() - this.windowMs;
    return (this.failures.get(this.key(username, address)) ?? []).filter((t) => t > since);
  }

  private key(username: string, address: string): string {
    return `${username.toLowerCase()}\u0000${address}`;
  }

  private prune(): void {
    const since = this.now() - this.windowMs;
    for (const [key, times] of this.failures) if (!times.some((t) => t > since)) this.failures.delete(key);
  }
}
