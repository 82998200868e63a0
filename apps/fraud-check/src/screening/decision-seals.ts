// fraud-check's seal on each decision it publishes (EVENT_SEAL_TYPES.paymentScreened): it covers the whole screened
// event (payment, merchant, amount, decision, reasons, the analyst's review and the signed instruction it screened),
// so settlement posts only decisions fraud-check took, and a seal cannot be moved to another payment. The same keys
// verify the decisions read back from the screened topic by the decision restore.
import { EVENT_SEAL_TYPES, PaymentScreened } from '@payrail/contracts';
import { EventSealVerifier, EventSealer, SealCheck, SealingKeys } from '@payrail/crypto';

export class DecisionSeals {
  private readonly sealer: EventSealer;
  private readonly verifier: EventSealVerifier;

  private constructor(private readonly keys: SealingKeys) {
    this.sealer = keys.sealer(EVENT_SEAL_TYPES.paymentScreened);
    this.verifier = keys.verifier(EVENT_SEAL_TYPES.paymentScreened);
  }

  /** Opens EVENT_SEAL_KEYS_FILE; throws (stopping the start) when it holds no usable private sealing key. */
  static async open(file: string): Promise<DecisionSeals> {
    return new DecisionSeals(await SealingKeys.open(file));
  }

  seal(screened: PaymentScreened): PaymentScreened {
    return this.sealer.seal(screened);
  }

  check(screened: PaymentScreened): Promise<SealCheck> {
    return this.verifier.check(screened);
  }

  onApplicationShutdown(): void {
    this.keys.close();
  }
}
