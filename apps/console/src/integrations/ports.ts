// What the console needs from the other services' operator APIs, as small ports. The console's use cases and the
// page depend only on these; ./fraud-admin.client.ts and ./settlement.client.ts implement them over HTTP, and
// integrations.ts decides from the configuration which ones exist. A port that is not configured is absent, and
// the page says so instead of offering an action that cannot work.
import type { AmountView } from '../flow/flow-statistics';

export interface PendingReview {
  readonly payment_id: string;
  readonly merchant_id: string;
  readonly amount: AmountView;
  readonly score: number;
  readonly rules: readonly string[];
  readonly screened_at: string;
}

export type ReviewDecision = 'APPROVE' | 'DECLINE';
export type ReviewDecisionOutcome = 'decided' | 'already_decided' | 'conflict' | 'not_found';

export interface ReviewDecisionCommand {
  readonly paymentId: string;
  readonly decision: ReviewDecision;
  /** The console user who decided (recorded as the analyst). */
  readonly operator: string;
  readonly note?: string;
  /** Unique per action: lets the other side de-duplicate a retried call. */
  readonly requestId: string;
}

/** fraud-check's REVIEW queue: payments waiting for an analyst, and the analyst's decision. */
export interface ReviewQueuePort {
  readonly source: string;
  pending(limit: number): Promise<{ total: number; reviews: PendingReview[] }>;
  decide(command: ReviewDecisionCommand): Promise<ReviewDecisionOutcome>;
}

export interface LedgerBatch {
  readonly batch_id: string;
  readonly merchant_id: string;
  readonly currency: string;
  readonly status: string;
  readonly payments: number;
  readonly gross: AmountView;
  readonly fees: AmountView;
  readonly net: AmountView;
  readonly closed_at?: string;
}

export interface LedgerBalance {
  /** Undefined: the ledger-wide total over every merchant. */
  readonly merchant_id: string | undefined;
  readonly currency: string;
  /** Balances per ledger account (merchant_payable, fee_revenue, clearing, ...), signed minor units. */
  readonly accounts: Readonly<Record<string, AmountView>>;
}

/** settlement's ledger: settlement batches and account balances, of the merchants named (newest batches first). */
export interface SettlementLedgerPort {
  readonly source: string;
  batches(merchantIds: readonly string[], limit: number): Promise<LedgerBatch[]>;
  /** The ledger-wide totals per currency, then each named merchant's balances. */
  balances(merchantIds: readonly string[]): Promise<LedgerBalance[]>;
}

export type ReplayStatus = 'replayed' | 'already-replayed' | 'in-progress' | 'not-replayable' | 'not-found' | 'failed';

/** Puts a dead letter back on its original topic (at most once; the library keeps a replay ledger). */
export interface DeadLetterReplayPort {
  readonly source: string;
  replay(command: { ref: string; operator: string; requestId: string }): Promise<{ status: ReplayStatus; detail?: string; target?: string }>;
}

export interface ConsoleIntegrations {
  readonly reviews?: ReviewQueuePort;
  readonly ledger?: SettlementLedgerPort;
  readonly replay?: DeadLetterReplayPort;
}

export const CONSOLE_INTEGRATIONS = Symbol('CONSOLE_INTEGRATIONS');

/** The other side answered in a way the port cannot map (status, shape) or did not answer. */
export class IntegrationError extends Error {
  override readonly name = 'IntegrationError';
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(`${source}: ${message}`);
  }
}
