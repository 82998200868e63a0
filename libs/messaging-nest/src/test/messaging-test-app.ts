// A minimal service for the messaging-nest integration tests: MessagingModule (runtime, /health, /metrics) on
// Fastify, connected to the real broker and Redis from the environment. Run in-process by the tests, and as a child
// process (main below) to show that a consumer that crashed for good takes its process down.
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { LoggerModule } from 'nestjs-pino';
import { TOPICS } from '@payrail/contracts';
import { kafkaConnectionFromProcessEnv } from '@payrail/messaging';
import { MessagingModule } from '../lib/messaging.module';
import { MessagingModuleOptions, MessagingRuntime } from '../lib/messaging.runtime';

export const kafkaBrokers = (): string[] => (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
export const redisUrl = (): string => process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

export async function startTestService(options: Partial<MessagingModuleOptions> & { service: string; keyPrefix: string }): Promise<NestFastifyApplication> {
  const { keyPrefix, ...rest } = options;
  const app = await NestFactory.create<NestFastifyApplication>(
    {
      module: class MessagingTestAppModule {},
      imports: [
        LoggerModule.forRoot({ pinoHttp: { level: process.env['TEST_LOG_LEVEL'] ?? 'silent' } }),
        MessagingModule.forRoot({ kafka: { ...kafkaConnectionFromProcessEnv(process.env, `payrail-${options.service}`), brokers: kafkaBrokers() }, redis: { url: redisUrl(), keyPrefix }, ...rest }),
      ],
    },
    new FastifyAdapter(),
    { logger: false },
  );
  app.enableShutdownHooks();
  await app.listen(0, '127.0.0.1');
  return app;
}

/** Child-process mode: consume TEST_TOPIC in TEST_GROUP with the default exit-on-crash, report the port. */
async function main(): Promise<void> {
  const app = await startTestService({ service: 'crash-test', keyPrefix: `${process.env['PAYRAIL_RUN_KEY_PREFIX'] ?? 'payrail-test:'}crash-${process.env['TEST_GROUP'] ?? 'x'}:` });
  const runtime = app.get(MessagingRuntime);
  const consumer = runtime.createConsumer({
    groupId: process.env['TEST_GROUP'] ?? '',
    routes: [{ topic: { ...TOPICS.paymentsSettled, name: process.env['TEST_TOPIC'] ?? '' }, handler: async () => undefined }],
    deadLetterTopic: process.env['TEST_TOPIC'] ?? '',
  });
  process.stdout.write(`${JSON.stringify({ event: 'listening', url: await app.getUrl() })}\n`);
  await consumer.start();
  process.stdout.write(`${JSON.stringify({ event: 'started', state: consumer.state })}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stdout.write(`${JSON.stringify({ event: 'failed', error: err instanceof Error ? err.message : String(err) })}\n`);
    process.exit(1);
  });
}
