import './instrumentation';
import 'reflect-metadata';
import { connectConsumerGroups } from '@payrail/messaging-nest';
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
    connectTransports: (app) => connectConsumerGroups(app, 'signing', 'signingReports'),
  });
}

runMain('signing', main);
