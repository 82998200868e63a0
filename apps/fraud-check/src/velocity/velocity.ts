// Velocity: what a card, a payer account, an IP or a device did recently. Every screened payment is recorded
// under each of its dimension values (whatever the rules say, so a rule switched on later has history) in
// sliding windows of 1 minute, 1 hour and 24 hours: count, sum per currency (exact, integer minor units),
// distinct payers and small payments (card testing); under the payer dimensions also the payees paid before and
// recent payments (duplicates).
//
// Semantics shared by the Redis store (one Lua script per dimension value) and the in-memory store (backtests):
// - A payment is identified by its id: recording it again (redelivery, a second instance) changes nothing.
// - Time is the payment's `accepted_at`. Each dimension value has a watermark, the latest payment time seen;
//   windows end at the watermark, so a late or redelivered payment is judged against the current window.
// - A payment is in window w when its time > watermark - w. Totals include the payment being screened.

export const VELOCITY_WINDOWS = { '1m': 60_000, '1h': 3_600_000, '24h': 86_400_000 } as const;
export type VelocityWindow = keyof typeof VELOCITY_WINDOWS;
export const WINDOW_NAMES = Object.keys(VELOCITY_WINDOWS) as VelocityWindow[];
/** How long payments stay recorded: the longest window. */
export const RETENTION_MS = VELOCITY_WINDOWS['24h'];
/** How long a payer's known payees are remembered (first payment to a payee). */
export const KNOWN_PAYEES_TTL_MS = 400 * 86_400_000;

export type VelocityDimension = 'card' | 'account' | 'ip' | 'device';

export interface VelocityEvent {
  paymentId: string;
  atMs: number;
  currency: string;
  amountMinor: bigint;
  /** The merchant paid (duplicates, first payment to a payee). */
  payee: string;
  /** Recorded as a distinct payer of this IP/device (card testing); omitted on the payer dimensions. */
  payerFingerprint?: string;
  /** A small payment (rule set `small_amount`) for card testing. */
  small: boolean;
  /** Payer dimensions: answer whether the payer had a payment to this payee approved before. */
  trackPayees: boolean;
  /** Look for an earlier payment with the same payee, currency and amount up to this long before (0: do not). */
  duplicateLookbackMs: number;
}

export interface WindowTotals {
  count: number;
  /** Sum of the payments in the window in the event's currency. */
  sumMinor: bigint;
  distinctPayers: number;
  smallPayments: number;
}

export interface VelocityObservation {
  watermarkMs: number;
  windows: Record<VelocityWindow, WindowTotals>;
  /** Only meaningful when trackPayees was set. */
  firstPaymentToPayee: boolean;
  /** The latest earlier payment with the same payee, currency and amount within the lookback. */
  duplicateOf?: { paymentId: string; atMs: number };
}

/** Port: the screening path uses Redis, backtests an in-memory copy with the same semantics. */
export interface VelocityStore {
  record(dimension: VelocityDimension, value: string, event: VelocityEvent): Promise<VelocityObservation>;
  /** After an approval: the payer has now paid this payee (first wins; idempotent). */
  markPayeeKnown(dimension: VelocityDimension, value: string, payee: string, paymentId: string): Promise<void>;
}

/** Separates the fields of a recorded payment; merchant ids and currency codes never contain it. */
export const RECORD_SEPARATOR = '|';

export function paymentRecord(event: Pick<VelocityEvent, 'currency' | 'amountMinor' | 'payee'>): string {
  return [event.currency, event.amountMinor.toString(), event.payee].join(RECORD_SEPARATOR);
}
