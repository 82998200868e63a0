import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { JwsVerifier, PayrailVerifierHandle, openPayrailVerifier } from '@payrail/crypto';
import { FRAUD_CHECK_CONFIG, FraudCheckConfig } from '../config';

/** Verifies Payrail's own signatures with the published JWKS (or a mounted copy); never with keys from tokens. */
@Injectable()
export class PayrailSignatures implements OnModuleInit, OnApplicationShutdown {
  private handle: PayrailVerifierHandle | undefined;

  constructor(@Inject(FRAUD_CHECK_CONFIG) private readonly config: FraudCheckConfig) {}

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
