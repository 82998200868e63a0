import './instrumentation';
import 'reflect-metadata';
import { connectConsumerGroups } from '@payrail/messaging-nest';
import { bootstrapService, configOrExit, runMain } from '@payrail/platform';
import { SettlementAppModule } from './app.module';
import { loadSettlementConfig } from './config';
import { serveOpenApi, settlementOpenApi } from './http/openapi';

async function main(): Promise<void> {
  const config = configOrExit('settlement', () => loadSettlementConfig());
  await bootstrapService({
    service: 'settlement',
    module: SettlementAppModule.forRoot(config),
    host: config.http.host,
    port: config.http.port,
    trustedProxies: config.http.trustedProxies,
    shutdownTimeoutS: config.shutdownTimeoutS,
    configure: (app) => serveOpenApi(app, settlementOpenApi(app)),
    // screened payments -> postings; signed batch reports -> recorded on their batches
    connectTransports: (app) => connectConsumerGroups(app, 'settlement', 'settlementBatches'),
  });
}

runMain('settlement', main);
