// Settlement batch ids are deterministic: `<merchant>.<currency>.<window start, UTC basic ISO 8601>` for the
// first batch of a cutoff window, with `.<n>` appended for the n-th batch of the same window (a batch closed by
// size, or a payment that arrived after its window's batch was closed). The window comes from the payment's
// screening time (an event time, carried by Kafka), never from the clock of the instance that posts it, so every
// instance and a rebuild from Kafka put a payment in the same window.

export interface BatchWindow {
  /** Epoch seconds of the window's start (aligned to the cutoff). */
  startS: number;
  endS: number;
  /** `20261129T100000Z` */
  label: string;
}

export function batchWindow(atMs: number, cutoffS: number): BatchWindow {
  const startS = Math.floor(atMs / 1000 / cutoffS) * cutoffS;
  return { startS, endS: startS + cutoffS, label: compactUtc(startS) };
}

export function compactUtc(epochS: number): string {
  return new Date(epochS * 1000).toISOString().replace(/[-:]/g, '').replace(/\.000Z$/, 'Z');
}

export function batchId(merchantId: string, currency: string, window: BatchWindow, seq: number): string {
  const base = `${merchantId}.${currency}.${window.label}`;
  return seq <= 1 ? base : `${base}.${seq}`;
}

/** Deterministic: the same merchant, currency and cutoff window always give the same first batch id. */
export function batchIdFor(merchantId: string, currency: string, atMs: number, cutoffS: number): string {
  return batchId(merchantId, currency, batchWindow(atMs, cutoffS), 1);
}

/** The field of the merchant's cursor hash for one currency and window. */
export function cursorField(currency: string, window: BatchWindow): string {
  return `${currency}:${window.label}`;
}

export interface ParsedBatchId {
  merchantId: string;
  currency: string;
  windowLabel: string;
  seq: number;
}

const LABEL = /^[0-9]{8}T[0-9]{6}Z$/;

/** Splits a batch id from the right (merchant ids may contain dots); undefined when it is not one. */
export function parseBatchId(id: string): ParsedBatchId | undefined {
  const parts = id.split('.');
  let seq = 1;
  const last = parts[parts.length - 1] ?? '';
  if (/^[0-9]+$/.test(last)) {
    seq = Number(last);
    if (seq < 2) return undefined;
    parts.pop();
  }
  const windowLabel = parts.pop() ?? '';
  const currency = parts.pop() ?? '';
  const merchantId = parts.join('.');
  if (!LABEL.test(windowLabel) || !/^[A-Z]{3}$/.test(currency) || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(merchantId)) return undefined;
  return { merchantId, currency, windowLabel, seq };
}

/** Score of a batch in the merchant's sorted set: newest window first when read in reverse, then sequence. */
export function batchScore(window: BatchWindow, seq: number): number {
  return window.startS * 10_000 + seq;
}
