import 'reflect-metadata';
import { CONSUMER_GROUPS, DEAD_LETTER_TOPICS, TOPICS } from '@payrail/contracts';
import { MessagingRuntime, PayrailKafkaTransport } from '@payrail/messaging-nest';
import { bootstrapService, configOrExit, runMain } from '@payrail/platform';
import { SettlementAppModule } from './app.module';
import { loadSettlementConfig } from './config';

async function main(): Promise<void> {
  const config = configOrExit('settlement', () => loadSettlementConfig());
  await bootstrapService({
    service: 'settlement',
    module: SettlementAppModule.forRoot(config),
    host: config.http.host,
    port: config.http.port,
    shutdownTimeoutS: config.shutdownTimeoutS,
    connectTransports: (app) => {
      const runtime = app.get(MessagingRuntime);
      app.connectMicroservice(
        { strategy: new PayrailKafkaTransport(runtime, { groupId: CONSUMER_GROUPS.settlement, topics: [TOPICS.paymentsScreened], deadLetterTopic: DEAD_LETTER_TOPICS.settlement }) },
        { inheritAppConfig: true },
      );
    },
  });
}

runMain('settlement', main);
