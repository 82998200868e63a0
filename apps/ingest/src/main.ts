import './instrumentation';
import 'reflect-metadata';
import { connectConsumerGroups } from '@payrail/messaging-nest';
import { bootstrapService, configOrExit, runMain } from '@payrail/platform';
import { IngestAppModule } from './app.module';
import { loadIngestConfig } from './config';
import { configureIngestHttp } from './http';
import { checkUpstreamRegistrations } from './upstreams/registration';

async function main(): Promise<void> {
  const config = configOrExit('ingest', () => {
    const loaded = loadIngestConfig();
    checkUpstreamRegistrations(loaded.upstreamsDir);
    return loaded;
  });
  await bootstrapService({
    service: 'ingest',
    module: IngestAppModule.forRoot(config),
    host: config.http.host,
    port: config.http.port,
    trustedProxies: config.http.trustedProxies,
    shutdownTimeoutS: config.shutdownTimeoutS,
    bodyLimitBytes: config.bodyLimitBytes,
    configure: (app) => configureIngestHttp(app),
    connectTransports: (app) => connectConsumerGroups(app, 'ingestInbound', 'ingestStatus'),
  });
}

runMain('ingest', main);
