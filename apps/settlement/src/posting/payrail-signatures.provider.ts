import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { PayloadVerifier } from '@payrail/ledger';
import { CryptoError, JwsVerifier, PayrailVerifierHandle, openPayrailVerifier } from '@payrail/crypto';
import { SETTLEMENT_CONFIG, SettlementConfig } from '../config';

/** Verifies Payrail's own signatures with the published JWKS (or a mounted copy); never with keys from tokens. */
@Injectable()
export class PayrailSignatures implements OnModuleInit, OnApplicationShutdown {
  private handle: PayrailVerifierHandle | undefined;

  constructor(@Inject(SETTLEMENT_CONFIG) private readonly config: SettlementConfig) {}

  async onModuleInit(): Promise<void> {
    this.handle = await openPayrailVerifier(this.config.payrailKeys);
  }

  verifier(): JwsVerifier {
    if (!this.handle) throw new Error('Payrail signature verifier not initialised');
    return this.handle.verifier;
  }

  onApplicationShutdown(): void {
    this.handle?.close();
  }
}

/** Payrail-signed payload, or undefined when the signature does not verify (the ledger's PayloadVerifier). */
export function payloadVerifier(verifier: () => JwsVerifier): PayloadVerifier {
  return async (jws) => {
    try {
      return (await verifier().verify(jws)).payload;
    } catch (err) {
      if (err instanceof CryptoError) return undefined;
      throw err;
    }
  };
}
