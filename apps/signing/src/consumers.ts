import type { INestApplication } from '@nestjs/common';
import { MessagingRuntime, PayrailKafkaTransport } from '@payrail/messaging-nest';

/**
 * Accepted payments signed at once per fetched partition batch (x 4 partitions at once). Each handler waits for
 * its produce acknowledgement, so this bounds how many payments share a produce round trip: 256 in flight cover
 * a local broker's few-millisecond round trips far beyond what one core can sign. Measured with
 * `npm run bench:signing`: 64, 256 and 1,024 cost the same CPU per payment (165-195 us); the stage is CPU-bound.
 */
export const SIGNING_KEY_CONCURRENCY = 64;

/** How long the producer gathers signed instructions into one produce request (it sends at 500 anyway). */
export const SIGNING_PRODUCER_LINGER_MS = 5;

/** The accepted payments and the settlement batch reports, each as its own consumer group. */
export function connectSigningConsumers(app: INestApplication): void {
  const runtime = app.get(MessagingRuntime);
  app.connectMicroservice({ strategy: new PayrailKafkaTransport(runtime, { group: 'signing', keyConcurrency: SIGNING_KEY_CONCURRENCY }) }, { inheritAppConfig: true });
  app.connectMicroservice({ strategy: new PayrailKafkaTransport(runtime, { group: 'signingReports' }) }, { inheritAppConfig: true });
}
