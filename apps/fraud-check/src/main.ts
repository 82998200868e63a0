import './instrumentation';
import 'reflect-metadata';
import { Logger } from 'nestjs-pino';
import { connectConsumerGroups } from '@payrail/messaging-nest';
import { bootstrapService, configOrExit, runMain } from '@payrail/platform';
import { FraudCheckAppModule } from './app.module';
import { WRITE_SCOPES, scopesOf } from './admin/operators';
import { loadFraudCheckConfig } from './config';

async function main(): Promise<void> {
  const config = configOrExit('fraud-check', () => loadFraudCheckConfig());
  const app = await bootstrapService({
    service: 'fraud-check',
    module: FraudCheckAppModule.forRoot(config),
    host: config.http.host,
    port: config.http.port,
    trustedProxies: config.http.trustedProxies,
    shutdownTimeoutS: config.shutdownTimeoutS,
    connectTransports: (nest) => connectConsumerGroups(nest, 'fraudCheck'),
  });
  const admins = config.operators.length;
  if (admins === 0) app.get(Logger).warn('admin API: no operators configured (FRAUD_OPERATORS_FILE / FRAUD_OPERATORS); every admin call is refused', 'admin');
  else app.get(Logger).log(`admin API: ${admins} operator(s) (${config.operators.filter((o) => [...scopesOf(o)].some((s) => (WRITE_SCOPES as readonly string[]).includes(s))).length} may change something)`, 'admin');
}

runMain('fraud-check', main);
