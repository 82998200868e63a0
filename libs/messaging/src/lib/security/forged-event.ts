// What a consumer does with an event whose producer's seal does not verify (missing, made with another key, over other
// facts): a security alert on payrail.security.alerts.v1, then a PermanentError, so the consumer dead-letters the event
// with the reason and never acts on it. Redelivery raises the same alert again under the same event id.
import { ServiceName, TOPICS } from '@payrail/contracts';
import { PermanentError } from '../kafka/errors';
import type { EventProducer } from '../kafka/event-producer';

export interface ForgedEvent {
  /** The service that refused it. */
  service: ServiceName;
  /** Its topic, for the alert and the dead-letter reason. */
  topic: string;
  /** The payment (or batch) it claims to be about: the alert's key and correlation id. */
  subject: string;
  paymentId?: string;
  /** Why the seal failed: 'missing', or the verifier's reason (signature, kid, typ, alg, retired, format, ...). */
  reason: string;
  /** The kid the seal names, when it names one. */
  kid?: string;
}

/** The dead-letter reason of a refused seal. */
export const SEAL_INVALID = 'seal_invalid';

/** Raises the security alert and throws the PermanentError that dead-letters the event. */
export async function refuseForgedEvent(producer: EventProducer, forged: ForgedEvent): Promise<never> {
  const detail = `${forged.topic}: event seal ${forged.reason === 'missing' ? 'missing' : `does not verify (${forged.reason})`}: dead-lettered, not acted on`;
  await producer.publish(
    TOPICS.securityAlerts,
    {
      alert: forged.reason === 'kid' ? 'key_unknown' : 'signature_invalid',
      service: forged.service,
      payment_id: forged.paymentId,
      kid: forged.kid,
      detail,
      raised_at: new Date().toISOString(),
    },
    { key: forged.subject, correlationId: forged.subject, eventId: `${forged.subject}:alert:${forged.service}-seal` },
  );
  throw new PermanentError(detail, SEAL_INVALID);
}
