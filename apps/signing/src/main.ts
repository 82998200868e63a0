import './instrumentation';
import 'reflect-metadata';
import { bootstrapService, configOrExit, configOrExitAsync, runMain } from '@payrail/platform';
import { SigningAppModule } from './app.module';
import { loadSigningConfig } from './config';
import { connectSigningConsumers } from './consumers';
import { SigningKeyRing } from './keys/signing-key-ring';
import { HandOffSeals } from './seals/hand-off-seals';

async function main(): Promise<void> {
  const config = configOrExit('signing', () => loadSigningConfig());
  // the keys are configuration: missing, weak or mismatched keys stop the process (exit 78) before it connects
  const keys = await configOrExitAsync('signing', () => SigningKeyRing.open({ keysFile: config.keysFile, generateDevKeys: config.generateDevKeys }));
  // so are the producers' public sealing keys: signing signs only what ingest and settlement sealed
  const seals = await configOrExitAsync('signing', () => HandOffSeals.open(config.seals));
  await bootstrapService({
    service: 'signing',
    module: SigningAppModule.forRoot(config, keys, seals),
    host: config.http.host,
    port: config.http.port,
    trustedProxies: config.http.trustedProxies,
    shutdownTimeoutS: config.shutdownTimeoutS,
    connectTransports: (app) => connectSigningConsumers(app),
  });
}

runMain('signing', main);
