// Publishes accepted payments for the signing service, sealed with ingest's own sealing key
// (EVENT_SEAL_TYPES.paymentAccepted): signing signs only an accepted payment whose seal verifies with ingest's public
// sealing keys, so nobody else who can produce to the accepted topic can have a payment signed.
import { EVENT_SEAL_TYPES, PaymentAccepted, TOPICS } from '@payrail/contracts';
import { EventSealVerifier, EventSealer, SealCheck, SealingKeys } from '@payrail/crypto';
import type { EventProducer } from '@payrail/messaging';

export class AcceptedPublisher {
  private readonly sealer: EventSealer;
  private readonly verifier: EventSealVerifier;

  private constructor(private readonly keys: SealingKeys) {
    this.sealer = keys.sealer(EVENT_SEAL_TYPES.paymentAccepted);
    this.verifier = keys.verifier(EVENT_SEAL_TYPES.paymentAccepted);
  }

  /** EVENT_SEAL_KEYS_FILE; throws (stopping the start) when it holds no usable private sealing key. */
  static async open(file: string): Promise<AcceptedPublisher> {
    return new AcceptedPublisher(await SealingKeys.open(file));
  }

  /** Keyed by the payer's fingerprint, so each payer's payments stay in order on one partition from here on. */
  publish(producer: EventProducer, accepted: PaymentAccepted, traceparent: string | undefined): Promise<void> {
    // sealed over the event as the contract reads it (what signing verifies)
    return producer.publish(TOPICS.paymentsAccepted, this.sealer.seal(TOPICS.paymentsAccepted.schema.parse(accepted)), {
      key: accepted.payer.fingerprint,
      correlationId: accepted.payment_id,
      eventId: `${accepted.payment_id}:accepted`,
      subject: accepted.payment_id,
      traceparent,
    });
  }

  /** Whether an accepted event read back from the topic (the status restore) carries ingest's own seal. */
  checkOwn(accepted: PaymentAccepted): Promise<SealCheck> {
    return this.verifier.check(accepted);
  }

  onApplicationShutdown(): void {
    this.keys.close();
  }
}
