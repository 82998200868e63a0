// settlement's event seals: it verifies fraud-check's seal on every decision before acting on it (posting, holding,
// and the ledger's restore from the screened topic), with fraud-check's public sealing JWKS only; and it seals each
// batch report it publishes with its own key, so signing signs a report only when it is settlement's own.
import { EVENT_SEAL_TYPES, PaymentScreened, SettlementBatchReport } from '@payrail/contracts';
import { EventSealVerifier, EventSealer, PeerSealKeys, SealCheck, SealingKeys } from '@payrail/crypto';

export class SettlementSeals {
  private readonly reportSealer: EventSealer;
  private readonly decisionVerifier: EventSealVerifier;

  private constructor(
    private readonly own: SealingKeys,
    private readonly fraudCheck: PeerSealKeys,
  ) {
    this.reportSealer = own.sealer(EVENT_SEAL_TYPES.settlementBatchReport);
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

  onApplicationShutdown(): void {
    this.own.close();
    this.fraudCheck.close();
  }
}
