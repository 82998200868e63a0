import './instrumentation';
import 'reflect-metadata';
import { connectConsumerGroups } from '@payrail/messaging-nest';
import { bootstrapService, configOrExit, runMain } from '@payrail/platform';
import { IngestAppModule } from './app.module';
import { loadIngestConfig } from './config';

async function main(): Promise<void> {
  const config = configOrExit('ingest', () => loadIngestConfig());
  await bootstrapService({
    service: 'ingest',
    module: IngestAppModule.forRoot(config),
    host: config.http.host,
    port: config.http.port,
    shutdownTimeoutS: config.shutdownTimeoutS,
    bodyLimitBytes: config.bodyLimitBytes,
    configure: (app) => {
      // the body of POST /v1/payments is the upstream's compact JWS, kept as the exact bytes it signed
      app.getHttpAdapter().getInstance().addContentTypeParser('application/jose', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    },
    connectTransports: (app) => connectConsumerGroups(app, 'ingestInbound', 'ingestStatus'),
  });
}

runMain('ingest', main);
