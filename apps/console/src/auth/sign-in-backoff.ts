/**
 * Slows password guessing without handing anyone a way to lock others out. Failures are counted per username and
 * client address (the socket's, or the one a TRUSTED_PROXIES proxy reports): after `freeFailures` failures within
 * the window, each further attempt from that address for that username waits 2^n seconds after the previous
 * failure (capped). A stranger failing from their own address only slows themselves; the real user, from their
 * address, is never refused. Per address across usernames a higher limit applies (spraying many usernames), which
 * again only slows that address. In memory: the console runs as one instance.
 */
export interface SignInBackoffPolicy {
  /** Failures allowed per username and address before attempts are delayed. */
  readonly freeFailures: number;
  /** Failures per address (any username) before attempts from it are delayed. */
  readonly freeFailuresPerAddress: number;
  readonly maxDelayS: number;
  /** Failures older than this are forgotten. */
  readonly windowMs: number;
}

export const SIGN_IN_BACKOFF: SignInBackoffPolicy = { freeFailures: 5, freeFailuresPerAddress: 30, maxDelayS: 15 * 60, windowMs: 60 * 60_000 };

interface Failures {
  count: number;
  last: number;
}

export class SignInBackoff {
  private readonly failures = new Map<string, Failures>();

  constructor(
    private readonly policy: SignInBackoffPolicy = SIGN_IN_BACKOFF,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds to wait before this username may be tried again from this address, or 0 when it may now. */
  retryAfterS(username: string, address: string): number {
    return Math.max(this.wait(userKey(username, address), this.policy.freeFailures), this.wait(addressKey(address), this.policy.freeFailuresPerAddress));
  }

  failed(username: string, address: string): void {
    for (const key of [userKey(username, address), addressKey(address)]) {
      const f = this.current(key);
      this.failures.set(key, { count: (f?.count ?? 0) + 1, last: this.now() });
    }
    if (this.failures.size > 10_000) this.prune();
  }

  /** A successful sign-in clears that username's failures from that address (not the address's total). */
  succeeded(username: string, address: string): void {
    this.failures.delete(userKey(username, address));
  }

  private wait(key: string, free: number): number {
    const f = this.current(key);
    if (!f || f.count < free) return 0;
    const delayMs = Math.min(this.policy.maxDelayS, 2 ** (f.count - free)) * 1000;
    return Math.max(0, Math.ceil((f.last + delayMs - this.now()) / 1000));
  }

  private current(key: string): Failures | undefined {
    const f = this.failures.get(key);
    if (f && f.last <= this.now() - this.policy.windowMs) {
      this.failures.delete(key);
      return undefined;
    }
    return f;
  }

  private prune(): void {
    for (const key of [...this.failures.keys()]) this.current(key);
  }
}

const userKey = (username: string, address: string) => `u\u0000${username.toLowerCase()}\u0000${address}`;
const addressKey = (address: string) => `a\u0000${address}`;
