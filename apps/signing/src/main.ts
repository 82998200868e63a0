import 'reflect-metadata';
import { CONSUMER_GROUPS, DEAD_LETTER_TOPICS, TOPICS } from '@payrail/contracts';
import { MessagingRuntime, PayrailKafkaTransport } from '@payrail/messaging-nest';
import { bootstrapService, configOrExit, runMain } from '@payrail/platform';
import { SigningAppModule } from './app.module';
import { loadSigningConfig } from './config';
import { SigningKeys } from './keys/signing-keys.provider';

async function main(): Promise<void> {
  const config = configOrExit('signing', () => loadSigningConfig());
  await bootstrapService({
    service: 'signing',
    module: SigningAppModule.forRoot(config),
    host: config.http.host,
    port: config.http.port,
    shutdownTimeoutS: config.shutdownTimeoutS,
    // keys are loaded (or refused) before anything is consumed
    configure: async (app) => app.get(SigningKeys).load(),
    connectTransports: (app) => {
      const runtime = app.get(MessagingRuntime);
      const deadLetterTopic = DEAD_LETTER_TOPICS.signing;
      app.connectMicroservice({ strategy: new PayrailKafkaTransport(runtime, { groupId: CONSUMER_GROUPS.signing, topics: [TOPICS.paymentsAccepted], deadLetterTopic }) }, { inheritAppConfig: true });
      app.connectMicroservice({ strategy: new PayrailKafkaTransport(runtime, { groupId: CONSUMER_GROUPS.signingReports, topics: [TOPICS.settlementBatchReports], deadLetterTopic }) }, { inheritAppConfig: true });
    },
  });
}

runMain('signing', main);
