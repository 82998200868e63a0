import 'reflect-metadata';
import { CONSUMER_GROUPS, DEAD_LETTER_TOPICS, TOPICS } from '@payrail/contracts';
import { MessagingRuntime, PayrailKafkaTransport } from '@payrail/messaging-nest';
import { bootstrapService, configOrExit, runMain } from '@payrail/platform';
import { FraudCheckAppModule } from './app.module';
import { loadFraudCheckConfig } from './config';

async function main(): Promise<void> {
  const config = configOrExit('fraud-check', () => loadFraudCheckConfig());
  await bootstrapService({
    service: 'fraud-check',
    module: FraudCheckAppModule.forRoot(config),
    host: config.http.host,
    port: config.http.port,
    shutdownTimeoutS: config.shutdownTimeoutS,
    connectTransports: (app) => {
      const runtime = app.get(MessagingRuntime);
      app.connectMicroservice(
        { strategy: new PayrailKafkaTransport(runtime, { groupId: CONSUMER_GROUPS.fraudCheck, topics: [TOPICS.paymentsSigned], deadLetterTopic: DEAD_LETTER_TOPICS['fraud-check'] }) },
        { inheritAppConfig: true },
      );
    },
  });
}

runMain('fraud-check', main);
