// What the ledger derives facts from after a Redis loss, and how each fact proves who made it. A rebuild or a
// reconciliation reads four topics; an event on any of them that anyone but its producer could have written is
// never a fact: fraud-check's sealed decisions, settlement's own sealed settled events and batch reports, and
// signing's JWS over each batch report.
import type { PaymentScreened, PaymentSettled, SettlementBatchReport, SignedSettlementBatch } from '@payrail/contracts';
import type { PayloadVerifier } from './posting';

/** Each check answers false for a forged, unsealed or altered event: nothing is derived from it. */
export interface LedgerEvidence {
  /** fraud-check's seal on a decision (settlement's FRAUD_CHECK_SEAL_JWKS_FILE). */
  decision(screened: PaymentScreened): Promise<boolean>;
  /** settlement's own seal on what a payment was told (its sealing keys, or SETTLEMENT_SEAL_JWKS_FILE). */
  settled(settled: PaymentSettled): Promise<boolean>;
  /** settlement's own seal on a batch report. */
  report(report: SettlementBatchReport): Promise<boolean>;
  /** Payrail's signature (signing's published keys) over the report of the batch the signed batch names. */
  signedReport(signed: SignedSettlementBatch): Promise<boolean>;
}

/** A seal verifier as @payrail/crypto's EventSealVerifier is one (never throws for a bad seal). */
export interface SealCheckPort {
  check(event: object): Promise<{ ok: boolean }>;
}

/** The evidence checks from the producers' seal verifiers and Payrail's signature verifier. */
export function ledgerEvidence(seals: { decisions: SealCheckPort; settled: SealCheckPort; reports: SealCheckPort }, verifyPayload: PayloadVerifier): LedgerEvidence {
  return {
    decision: async (screened) => (await seals.decisions.check(screened)).ok,
    settled: async (settled) => (await seals.settled.check(settled)).ok,
    report: async (report) => (await seals.reports.check(report)).ok,
    signedReport: async (signed) => {
      const payload = await verifyPayload(signed.report_jws);
      return typeof payload === 'object' && payload !== null && (payload as Record<string, unknown>)['batch_id'] === signed.batch_id && (payload as Record<string, unknown>)['merchant_id'] === signed.merchant_id;
    },
  };
}
