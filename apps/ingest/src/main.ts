import './instrumentation';
import 'reflect-metadata';
import { connectConsumerGroupsWith } from '@payrail/messaging-nest';
import { bootstrapService, configOrExit, configOrExitAsync, runMain } from '@payrail/platform';
import { IngestAppModule, openInboundKeys } from './app.module';
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
  // the inbound topic's decryption keys: a missing or unusable file stops the start naming INGEST_INBOUND_JWE_KEYS_FILE
  const inboundKeys = await configOrExitAsync('ingest', () => openInboundKeys(config));
  await bootstrapService({
    service: 'ingest',
    module: IngestAppModule.forRoot(config, { inboundKeys }),
    host: config.http.host,
    port: config.http.port,
    trustedProxies: config.http.trustedProxies,
    shutdownTimeoutS: config.shutdownTimeoutS,
    bodyLimitBytes: config.bodyLimitBytes,
    configure: (app) => configureIngestHttp(app),
    // dead letters of the inbound topic (a refused message may be an unencrypted JWS) are sealed to the data-protection key
    connectTransports: (app) => {
      const protection = app.get(PayerProtection);
      connectConsumerGroupsWith(app, { protectDeadLetterValue: (value) => protection.sealDeadLetter(value) }, 'ingestInbound', 'ingestStatus');
    },
  });
}

runMain('ingest', main);
