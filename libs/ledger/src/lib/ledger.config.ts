// The ledger settings every writer of the ledger must share (the settlement service, and the reconcile and
// rebuild commands, which recompute postings and batches exactly as the service does).
import { envInt } from '@payrail/config';
import type { BatchPolicy, FeeSchedule } from './posting';

export const ledgerEnvFragment = {
  /** Fee = amount x FEE_BPS / 10,000 (rounded half away from zero) + FEE_FIXED_MINOR, capped at the amount. */
  FEE_BPS: envInt(0, 10_000).default(150),
  FEE_FIXED_MINOR: envInt(0, 1_000_000).default(10),
  /** Settlement batches cover aligned windows of this many seconds of screening time. */
  BATCH_CUTOFF_S: envInt(60, 86_400).default(3_600),
  /** A batch also closes when it holds this many payments (its report lists every payment id). */
  BATCH_MAX_PAYMENTS: envInt(1, 10_000).default(1_000),
} as const;

export function ledgerSettings(e: { FEE_BPS: number; FEE_FIXED_MINOR: number; BATCH_CUTOFF_S: number; BATCH_MAX_PAYMENTS: number }): { fees: FeeSchedule; policy: BatchPolicy } {
  return { fees: { bps: e.FEE_BPS, fixedMinor: e.FEE_FIXED_MINOR }, policy: { cutoffS: e.BATCH_CUTOFF_S, maxPayments: e.BATCH_MAX_PAYMENTS } };
}
