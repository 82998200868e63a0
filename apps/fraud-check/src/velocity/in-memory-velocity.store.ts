// The velocity store in memory, step for step the algorithm of the Redis Lua script (redis-velocity.store.ts):
// backtests compute velocity here, never touching live state; an integration test runs both on the same
// sequence and compares every observation. Times are kept sorted (like a Redis sorted set) so a backtest over
// millions of payments stays O(n log n).
import {
  KNOWN_PAYEES_TTL_MS,
  RETENTION_MS,
  VELOCITY_WINDOWS,
  VelocityDimension,
  VelocityEvent,
  VelocityObservation,
  VelocityStore,
  VelocityWindow,
  WINDOW_NAMES,
  WindowTotals,
  paymentRecord,
} from './velocity';

/** Members ordered by (time, member), as a Redis sorted set orders them. */
export class SortedTimes {
  private readonly times = new Map<string, number>();
  private readonly order: { at: number; member: string }[] = [];

  get size(): number {
    return this.order.length;
  }

  get(member: string): number | undefined {
    return this.times.get(member);
  }

  /** Adds, or moves the member to `at`. */
  set(member: string, at: number): void {
    if (this.times.has(member)) this.delete(member);
    this.times.set(member, at);
    this.order.splice(this.indexOf(at, member), 0, { at, member });
  }

  delete(member: string): void {
    const at = this.times.get(member);
    if (at === undefined) return;
    this.times.delete(member);
    this.order.splice(this.indexOf(at, member), 1);
  }

  /** Members with from < time <= to, in order. */
  between(from: number, to: number): { at: number; member: string }[] {
    const out: { at: number; member: string }[] = [];
    for (let i = this.firstAfter(from); i < this.order.length; i++) {
      const e = this.order[i];
      if (!e || e.at > to) break;
      out.push(e);
    }
    return out;
  }

  countAfter(from: number): number {
    return this.order.length - this.firstAfter(from);
  }

  /** Removes every member with time <= cutoff; returns them. */
  removeUpTo(cutoff: number): string[] {
    const n = this.firstAfter(cutoff);
    const removed = this.order.splice(0, n).map((e) => e.member);
    for (const m of removed) this.times.delete(m);
    return removed;
  }

  private firstAfter(t: number): number {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.order[mid]?.at ?? Infinity) <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private indexOf(at: number, member: string): number {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.order[mid];
      if (e && (e.at < at || (e.at === at && e.member < member))) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

interface DimensionState {
  watermark: number | undefined;
  events: SortedTimes;
  /** payment id -> "CUR|amount|payee" */
  records: Map<string, string>;
  /** `${window ms}:${currency}` -> running sum */
  sums: Map<string, bigint>;
  payers: SortedTimes;
  small: SortedTimes;
  /** payee -> first approved payment id */
  payees: Map<string, string>;
  payeesTouchedAt: number;
}

export class InMemoryVelocityStore implements VelocityStore {
  private readonly state = new Map<string, DimensionState>();

  private dimension(dimension: VelocityDimension, value: string): DimensionState {
    const key = `${dimension}:${value}`;
    let s = this.state.get(key);
    if (!s) {
      s = { watermark: undefined, events: new SortedTimes(), records: new Map(), sums: new Map(), payers: new SortedTimes(), small: new SortedTimes(), payees: new Map(), payeesTouchedAt: 0 };
      this.state.set(key, s);
    }
    return s;
  }

  async record(dimension: VelocityDimension, value: string, event: VelocityEvent): Promise<VelocityObservation> {
    const s = this.dimension(dimension, value);
    const t = event.atMs;
    const windows = WINDOW_NAMES.map((name) => ({ name, ms: VELOCITY_WINDOWS[name] }));
    const addSum = (w: number, currency: string, delta: bigint) => {
      const k = `${w}:${currency}`;
      s.sums.set(k, (s.sums.get(k) ?? 0n) + delta);
    };

    let wm = t;
    if (s.watermark !== undefined) {
      const old = s.watermark;
      if (old >= t) wm = old;
      else {
        // what left each window as the watermark advanced
        for (const w of windows) {
          for (const { member } of s.events.between(old - w.ms, t - w.ms)) {
            const [currency, amount] = (s.records.get(member) ?? '').split('|');
            if (currency && amount) addSum(w.ms, currency, -BigInt(amount));
          }
        }
        const cutoff = t - RETENTION_MS;
        for (const id of s.events.removeUpTo(cutoff)) s.records.delete(id);
        s.small.removeUpTo(cutoff);
        s.payers.removeUpTo(cutoff);
      }
    }
    s.watermark = wm;

    if (s.events.get(event.paymentId) === undefined && t > wm - RETENTION_MS) {
      s.events.set(event.paymentId, t);
      s.records.set(event.paymentId, paymentRecord(event));
      for (const w of windows) if (t > wm - w.ms) addSum(w.ms, event.currency, event.amountMinor);
      if (event.small) s.small.set(event.paymentId, t);
    }
    if (event.payerFingerprint && t > wm - RETENTION_MS) {
      const seen = s.payers.get(event.payerFingerprint);
      if (seen === undefined || t > seen) s.payers.set(event.payerFingerprint, t);
    }

    let firstPaymentToPayee = false;
    if (event.trackPayees) {
      this.expirePayees(s, wm);
      const known = s.payees.get(event.payee);
      firstPaymentToPayee = known === undefined || known === event.paymentId;
      if (s.payees.size > 0) s.payeesTouchedAt = wm;
    }

    let duplicateOf: VelocityObservation['duplicateOf'];
    if (event.duplicateLookbackMs > 0) {
      const wanted = paymentRecord(event);
      for (const { at, member } of s.events.between(t - event.duplicateLookbackMs - 1, t)) {
        if (member === event.paymentId || (at === t && member > event.paymentId)) continue;
        if (s.records.get(member) === wanted) duplicateOf = { paymentId: member, atMs: at };
      }
    }

    const totals = {} as Record<VelocityWindow, WindowTotals>;
    for (const w of windows) {
      const from = wm - w.ms;
      totals[w.name] = {
        count: s.events.countAfter(from),
        sumMinor: s.sums.get(`${w.ms}:${event.currency}`) ?? 0n,
        distinctPayers: s.payers.countAfter(from),
        smallPayments: s.small.countAfter(from),
      };
    }
    return { watermarkMs: wm, windows: totals, firstPaymentToPayee, duplicateOf };
  }

  async markPayeeKnown(dimension: VelocityDimension, value: string, payee: string, paymentId: string): Promise<void> {
    const s = this.dimension(dimension, value);
    const now = s.watermark ?? 0;
    this.expirePayees(s, now);
    if (!s.payees.has(payee)) s.payees.set(payee, paymentId);
    s.payeesTouchedAt = now;
  }

  /** Redis expires the whole hash KNOWN_PAYEES_TTL_MS after it was last touched; so does this copy. */
  private expirePayees(s: DimensionState, now: number): void {
    if (s.payees.size > 0 && now - s.payeesTouchedAt >= KNOWN_PAYEES_TTL_MS) s.payees.clear();
  }
}
