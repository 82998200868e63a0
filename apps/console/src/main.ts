import './instrumentation';
import 'reflect-metadata';
import { bootstrapService, configOrExit, runMain } from '@payrail/platform';
import { ConsoleAppModule } from './app.module';
import { loadConsoleConfig } from './config';
import { securityHeaders } from './web/page.controller';

async function main(): Promise<void> {
  const config = configOrExit('console', () => loadConsoleConfig());
  await bootstrapService({
    service: 'console',
    module: ConsoleAppModule.forRoot(config),
    host: config.http.host,
    port: config.http.port,
    trustedProxies: config.http.trustedProxies,
    shutdownTimeoutS: config.shutdownTimeoutS,
    bodyLimitBytes: 16 * 1024,
    configure: (app) => {
      app
        .getHttpAdapter()
        .getInstance()
        .addHook('onSend', async (request, reply) => {
          void reply.headers(securityHeaders(request.url));
        });
    },
  });
}

runMain('console', main);
