// What the status read model takes from the bus, and how each event proves who made it: the status an upstream is
// told (signed, approved, declined, settled, with its batch and fee) comes only from events their producers made.
//   signed    Payrail's signature over the instruction (signing's published JWKS: SIGNING_JWKS_URL or _FILE), and
//             the instruction is the event's payment
//   screened  fraud-check's seal (FRAUD_CHECK_SEAL_JWKS_FILE)
//   settled   settlement's seal (SETTLEMENT_SEAL_JWKS_FILE)
// The live handler dead-letters anything else with a security alert; the restore after a Redis loss skips it.
import { ConfigError, SigningJwksSource } from '@payrail/config';
import { EVENT_SEAL_TYPES, PAYMENT_INSTRUCTION_JWS_TYPE, PaymentScreened, PaymentSettled, PaymentSigned } from '@payrail/contracts';
import { CryptoError, EventSealVerifier, PayrailVerifierHandle, PeerSealKeys, SealCheck, isTokenVerdict, openPayrailVerifier, sealKid } from '@payrail/crypto';
import { DependencyUnavailableError } from '@payrail/messaging';

export interface StatusEvidenceSources {
  signing: SigningJwksSource;
  /** FRAUD_CHECK_SEAL_JWKS_FILE */
  fraudCheckSealJwksFile: string;
  /** SETTLEMENT_SEAL_JWKS_FILE */
  settlementSealJwksFile: string;
}

async function openPeer(variable: string, file: string): Promise<PeerSealKeys> {
  try {
    return await PeerSealKeys.open(file);
  } catch (err) {
    throw new ConfigError([{ variable, reason: err instanceof Error ? err.message : 'unusable' }]);
  }
}

export class StatusEvidence {
  private constructor(
    private readonly payrail: PayrailVerifierHandle,
    private readonly decisions: EventSealVerifier,
    private readonly settlements: EventSealVerifier,
    private readonly peers: readonly PeerSealKeys[],
  ) {}

  /** The three producers' public keys; a ConfigError naming the variable when a file is unusable. */
  static async open(sources: StatusEvidenceSources): Promise<StatusEvidence> {
    const peers: PeerSealKeys[] = [];
    try {
      peers.push(await openPeer('FRAUD_CHECK_SEAL_JWKS_FILE', sources.fraudCheckSealJwksFile));
      peers.push(await openPeer('SETTLEMENT_SEAL_JWKS_FILE', sources.settlementSealJwksFile));
      const [fraudCheck, settlement] = peers as [PeerSealKeys, PeerSealKeys];
      const payrail = await openPayrailVerifier(sources.signing, [PAYMENT_INSTRUCTION_JWS_TYPE]);
      return new StatusEvidence(payrail, fraudCheck.verifier(EVENT_SEAL_TYPES.paymentScreened), settlement.verifier(EVENT_SEAL_TYPES.paymentSettled), peers);
    } catch (err) {
      for (const peer of peers) peer.close();
      throw err;
    }
  }

  /**
   * Payrail's signature over the event's instruction, naming the event's payment. An unreachable JWKS is not a
   * verdict: it throws DependencyUnavailableError (the message waits until the JWKS answers), never "forged".
   */
  async checkSigned(signed: PaymentSigned): Promise<SealCheck> {
    try {
      const verified = await this.payrail.verifier.verify(signed.instruction_jws);
      const paymentId = typeof verified.payload === 'object' && verified.payload !== null ? (verified.payload as Record<string, unknown>)['payment_id'] : undefined;
      return paymentId === signed.payment_id ? { ok: true, kid: verified.kid } : { ok: false, reason: 'claims', kid: verified.kid };
    } catch (err) {
      if (isTokenVerdict(err)) return { ok: false, reason: err.reason, kid: sealKid(signed.instruction_jws) };
      if (err instanceof CryptoError) throw new DependencyUnavailableError('the signing JWKS', err.message);
      throw err;
    }
  }

  checkScreened(screened: PaymentScreened): Promise<SealCheck> {
    return this.decisions.check(screened);
  }

  checkSettled(settled: PaymentSettled): Promise<SealCheck> {
    return this.settlements.check(settled);
  }

  onApplicationShutdown(): void {
    this.payrail.close();
    for (const peer of this.peers) peer.close();
  }
}
