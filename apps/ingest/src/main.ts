import './instrumentation';
import 'reflect-metadata';
import { connectConsumerGroupsWith } from '@payrail/messaging-nest';
import { bootstrapService, configOrExit, runMain } from '@payrail/platform';
import { IngestAppModule } from './app.module';
import { PayerProtection } from './payments/payer-protection';
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
    // dead letters of the inbound topic keep the upstream's JWS only as a JWE to the data-protection key
    connectTransports: (app) => {
      const protection = app.get(PayerProtection);
      connectConsumerGroupsWith(app, { protectDeadLetterValue: (value) => protection.sealDeadLetter(value) }, 'ingestInbound', 'ingestStatus');
    },
  });
}

runMain('ingest', main);
