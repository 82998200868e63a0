// settlement's event seals: it verifies fraud-check's seal on every decision before acting on it (posting, holding,
// and the ledger's restore from the screened topic), with fraud-check's public sealing JWKS only; and it seals each
// batch report and each settled event it publishes with its own key, so signing signs a report only when it is
// settlement's own, and ingest's status and a ledger rebuild take only settlement's own facts.
import { EVENT_SEAL_TYPES, PaymentScreened, PaymentSettled, SettlementBatchReport } from '@payrail/contracts';
import { LedgerEvidence, PayloadVerifier, ledgerEvidence } from '@payrail/ledger';
import { EventSealVerifier, EventSealer, PeerSealKeys, SealCheck, SealingKeys } from '@payrail/crypto';

export class SettlementSeals {
  private readonly reportSealer: EventSealer;
  private readonly settledSealer: EventSealer;
  private readonly decisionVerifier: EventSealVerifier;

  private constructor(
    private readonly own: SealingKeys,
    private readonly fraudCheck: PeerSealKeys,
  ) {
    this.reportSealer = own.sealer(EVENT_SEAL_TYPES.settlementBatchReport);
    this.settledSealer = own.sealer(EVENT_SEAL_TYPES.paymentSettled);
    this.decisionVerifier = fraudCheck.verifier(EVENT_SEAL_TYPES.paymentScreened);
  }

  /** EVENT_SEAL_KEYS_FILE and FRAUD_CHECK_SEAL_JWKS_FILE; throws (stopping the start) when either is unusable. */
  static async open(files: { ownKeys: string; fraudCheckJwks: string }): Promise<SettlementSeals> {
    const own = await SealingKeys.open(files.ownKeys);
    try {
      return new SettlementSeals(own, await PeerSealKeys.open(files.fraudCheckJwks));
    } catch (err) {
      own.close();
      throw err;
    }
  }

  checkDecision(screened: PaymentScreened): Promise<SealCheck> {
    return this.decisionVerifier.check(screened);
  }

  sealReport(report: SettlementBatchReport): SettlementBatchReport {
    return this.reportSealer.seal(report);
  }

  sealSettled(settled: PaymentSettled): PaymentSettled {
    return this.settledSealer.seal(settled);
  }

  /** What a ledger restore takes as facts: fraud-check's sealed decisions, its own sealed events, signing's reports. */
  ledgerEvidence(verifyPayload: PayloadVerifier): LedgerEvidence {
    return ledgerEvidence({ decisions: this.decisionVerifier, settled: this.own.verifier(EVENT_SEAL_TYPES.paymentSettled), reports: this.own.verifier(EVENT_SEAL_TYPES.settlementBatchReport) }, verifyPayload);
  }

  onApplicationShutdown(): void {
    this.own.close();
    this.fraudCheck.close();
  }
}
