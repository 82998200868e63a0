/** Counts per second over the last `seconds` seconds (a ring of one-second buckets): throughput without timers. */
export class SlidingWindow {
  private readonly buckets: number[];
  private readonly stamps: number[];

  constructor(readonly seconds = 60) {
    this.buckets = new Array<number>(seconds).fill(0);
    this.stamps = new Array<number>(seconds).fill(-1);
  }

  add(nowMs: number, count = 1): void {
    const second = Math.floor(nowMs / 1000);
    const i = second % this.seconds;
    if (this.stamps[i] !== second) {
      this.stamps[i] = second;
      this.buckets[i] = 0;
    }
    this.buckets[i] = (this.buckets[i] ?? 0) + count;
  }

  /** Counts of the last `seconds` whole seconds, oldest first, ending with the current second. */
  series(nowMs: number): number[] {
    const now = Math.floor(nowMs / 1000);
    const out: number[] = [];
    for (let s = now - this.seconds + 1; s <= now; s++) {
      const i = ((s % this.seconds) + this.seconds) % this.seconds;
      out.push(this.stamps[i] === s ? (this.buckets[i] ?? 0) : 0);
    }
    return out;
  }

  total(nowMs: number): number {
    return this.series(nowMs).reduce((a, b) => a + b, 0);
  }
}

/** A bounded set of recently seen keys (oldest forgotten first): de-duplicates redelivered or repeated events. */
export class RecentKeys {
  private readonly keys = new Set<string>();

  constructor(private readonly capacity = 100_000) {}

  /** True the first time a key is seen (while it is remembered), false for a repeat. */
  firstSeen(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    if (this.keys.size > this.capacity) {
      const oldest = this.keys.values().next();
      if (!oldest.done) this.keys.delete(oldest.value);
    }
    return true;
  }
}
