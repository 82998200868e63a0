import type { INestApplication } from '@nestjs/common';
import { MessagingRuntime, PayrailKafkaTransport } from '@payrail/messaging-nest';

/**
 * Payments signed at once per fetched partition batch. Signing is CPU-light and stateless and every handler
 * waits for its produce acknowledgement, so the number in flight decides how full each produce request is: with
 * the default 64 (x 4 partitions at once) a backlog drains in rounds of at most 256 payments per round trip.
 */
export const SIGNING_KEY_CONCURRENCY = 64;

/** How long the producer gathers signed instructions into one produce request. */
export const SIGNING_PRODUCER_LINGER_MS = 5;

/** The accepted payments and the settlement batch reports, each as its own consumer group. */
export function connectSigningConsumers(app: INestApplication): void {
  const runtime = app.get(MessagingRuntime);
  app.connectMicroservice({ strategy: new PayrailKafkaTransport(runtime, { group: 'signing', keyConcurrency: SIGNING_KEY_CONCURRENCY }) }, { inheritAppConfig: true });
  app.connectMicroservice({ strategy: new PayrailKafkaTransport(runtime, { group: 'signingReports' }) }, { inheritAppConfig: true });
}
