import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { signingJwksPlainHttpWarning } from '@payrail/config';
import { CryptoError, JwsVerifier, PayrailVerifierHandle, isTokenVerdict, openPayrailVerifier } from '@payrail/crypto';
import { PAYMENT_INSTRUCTION_JWS_TYPE, PaymentInstruction, PaymentInstructionSchema, PaymentSigned } from '@payrail/contracts';
import { FRAUD_CHECK_CONFIG, FraudCheckConfig } from '../config';
import { DependencyUnavailableError } from '@payrail/messaging';

/** Verifies Payrail's own signatures with the published JWKS (or a mounted copy); never with keys from tokens. */
@Injectable()
export class PayrailSignatures implements OnModuleInit, OnApplicationShutdown {
  private handle: PayrailVerifierHandle | undefined;

  constructor(
    @Inject(FRAUD_CHECK_CONFIG) private readonly config: FraudCheckConfig,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('payrail-signatures');
  }

  async onModuleInit(): Promise<void> {
    this.handle = await openPayrailVerifier(this.config.payrailKeys, [PAYMENT_INSTRUCTION_JWS_TYPE]);
    // SIGNING_JWKS_ALLOW_HTTP in use: said once, at boot
    const plainHttp = signingJwksPlainHttpWarning(this.config.payrailKeys);
    if (plainHttp) this.logger.warn({ event: 'payrail.jwks.plain_http', origin: plainHttp.origin, variable: plainHttp.variable }, plainHttp.message);
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
 * The instruction when Payrail's signature verifies and it is the event's payment; undefined when it does not (the
 * payment is declined as tampered). An unreadable JWKS is no verdict: DependencyUnavailableError, the event waits
 * until the signature can be checked (a JWKS outage must never decline genuine payments).
 */
export async function verifiedInstruction(signatures: PayrailSignatures, signed: PaymentSigned): Promise<PaymentInstruction | undefined> {
  try {
    const instruction = PaymentInstructionSchema.parse((await signatures.verifier().verify(signed.instruction_jws)).payload);
    return instruction.payment_id === signed.payment_id ? instruction : undefined;
  } catch (err) {
    if (isTokenVerdict(err)) return undefined;
    if (err instanceof CryptoError) throw new DependencyUnavailableError('the signing JWKS', err.message);
    throw err;
  }
}
