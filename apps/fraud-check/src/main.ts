import './instrumentation';
import 'reflect-metadata';
import { connectConsumerGroups } from '@payrail/messaging-nest';
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
    connectTransports: (app) => connectConsumerGroups(app, 'fraudCheck'),
  });
}

runMain('fraud-check', main);
