import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { signingJwksPlainHttpWarning } from '@payrail/config';
import type { PayloadVerifier } from '@payrail/ledger';
import { CryptoError, JwsVerifier, PayrailVerifierHandle, isTokenVerdict, openPayrailVerifier } from '@payrail/crypto';
import { PAYMENT_INSTRUCTION_JWS_TYPE, SETTLEMENT_BATCH_JWS_TYPE } from '@payrail/contracts';
import { SETTLEMENT_CONFIG, SettlementConfig } from '../config';

/** Verifies Payrail's own signatures with the published JWKS (or a mounted copy); never with keys from tokens. */
@Injectable()
export class PayrailSignatures implements OnModuleInit, OnApplicationShutdown {
  private handle: PayrailVerifierHandle | undefined;

  constructor(
    @Inject(SETTLEMENT_CONFIG) private readonly config: SettlementConfig,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('payrail-signatures');
  }

  async onModuleInit(): Promise<void> {
    // payment instructions (approvals) and the settlement batch reports signing returns
    this.handle = await openPayrailVerifier(this.config.payrailKeys, [PAYMENT_INSTRUCTION_JWS_TYPE, SETTLEMENT_BATCH_JWS_TYPE]);
    // SIGNING_JWKS_ALLOW_HTTP in use: said once, at boot
    const plainHttp = signingJwksPlainHttpWarning(this.config.payrailKeys);
    if (plainHttp) this.logger.warn({ event: 'payrail.jwks.plain_http', origin: plainHttp.origin, variable: plainHttp.variable }, plainHttp.message);
  }

  /** Payrail's public keys fetched (a restore verifies every approval: it must not start without them). */
  async ready(): Promise<void> {
    if (!this.handle) throw new Error('Payrail signature verifier not initialised');
    await this.handle.ready();
  }

  verifier(): JwsVerifier {
    if (!this.handle) throw new Error('Payrail signature verifier not initialised');
    return this.handle.verifier;
  }

  onApplicationShutdown(): void {
    this.handle?.close();
  }
}

/**
 * Payrail-signed payload, or undefined when the signature does not verify (the ledger's PayloadVerifier). An
 * unreadable JWKS is no verdict: it throws, so a rebuild or reconciliation stops instead of leaving postings out.
 */
export function payloadVerifier(verifier: () => JwsVerifier): PayloadVerifier {
  return async (jws) => {
    try {
      return (await verifier().verify(jws)).payload;
    } catch (err) {
      if (isTokenVerdict(err)) return undefined;
      if (err instanceof CryptoError) throw new Error(`the signing JWKS is unavailable (${err.message}): retry when it answers`);
      throw err;
    }
  };
}
