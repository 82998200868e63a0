// What signing signs only when its producer sealed it: an accepted payment (ingest's seal) and a batch report
// (settlement's seal, made over settlement's own record of the batch). Each is verified with that producer's public
// sealing JWKS only, so an event anyone else put on the topic (unsealed, sealed with another service's key, changed
// after sealing, or carrying another event's seal) is never signed.
import { ConfigError } from '@payrail/config';
import { EVENT_SEAL_TYPES, PaymentAccepted, SettlementBatchReport } from '@payrail/contracts';
import { CoveredSealCheck, EventSealVerifier, PeerSealKeys, SealCheck } from '@payrail/crypto';

export interface HandOffSealFiles {
  /** INGEST_SEAL_JWKS_FILE */
  ingestJwks: string;
  /** SETTLEMENT_SEAL_JWKS_FILE */
  settlementJwks: string;
}

async function openPeer(variable: string, file: string): Promise<PeerSealKeys> {
  try {
    return await PeerSealKeys.open(file);
  } catch (err) {
    throw new ConfigError([{ variable, reason: err instanceof Error ? err.message : 'unusable' }]);
  }
}

export class HandOffSeals {
  private constructor(
    private readonly accepted: EventSealVerifier,
    private readonly reports: EventSealVerifier,
    private readonly peers: readonly PeerSealKeys[],
  ) {}

  /** Both peers' public sealing keys; a ConfigError naming the variable when a file is unusable. */
  static async open(files: HandOffSealFiles): Promise<HandOffSeals> {
    const ingest = await openPeer('INGEST_SEAL_JWKS_FILE', files.ingestJwks);
    try {
      const settlement = await openPeer('SETTLEMENT_SEAL_JWKS_FILE', files.settlementJwks);
      return new HandOffSeals(ingest.verifier(EVENT_SEAL_TYPES.paymentAccepted), settlement.verifier(EVENT_SEAL_TYPES.settlementBatchReport), [ingest, settlement]);
    } catch (err) {
      ingest.close();
      throw err;
    }
  }

  /** On success also the accepted payment without its seal as canonical JSON: the instruction is signed from it. */
  checkAccepted(accepted: PaymentAccepted): Promise<CoveredSealCheck<PaymentAccepted>> {
    return this.accepted.checkCovered(accepted);
  }

  checkReport(report: SettlementBatchReport): Promise<SealCheck> {
    return this.reports.check(report);
  }

  close(): void {
    for (const peer of this.peers) peer.close();
  }
}
