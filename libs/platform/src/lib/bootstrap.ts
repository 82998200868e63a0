// Service start-up in a fixed order: validated config (before anything else), buffered logger, shutdown hooks,
// dependencies connected (module init), HTTP listening, then Kafka consumers start; on SIGTERM the reverse,
// with a hard deadline so a stuck shutdown cannot outlive Kubernetes' grace period.
import { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { ConfigError } from '@payrail/config';
import { ProblemDetailsFilter } from './problem.filter';

export interface ServiceBootstrap {
  service: string;
  module: Type<unknown> | DynamicModule;
  host: string;
  port: number;
  /**
   * TRUSTED_PROXIES: only a request arriving from one of these has its client address taken from X-Forwarded-For;
   * empty, the address is the socket's (a client cannot choose the address throttles and audits see).
   */
  trustedProxies: readonly string[];
  shutdownTimeoutS: number;
  bodyLimitBytes?: number;
  /** Connects the service's Kafka transports (after DI is ready, before listening). */
  connectTransports?: (app: NestFastifyApplication) => void;
  configure?: (app: NestFastifyApplication) => void | Promise<void>;
}

export async function bootstrapService(options: ServiceBootstrap): Promise<INestApplication> {
  const adapter = new FastifyAdapter({ bodyLimit: options.bodyLimitBytes ?? 64 * 1024, trustProxy: fastifyTrustProxy(options.trustedProxies) });
  const app = await NestFactory.create<NestFastifyApplication>(options.module, adapter, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.useGlobalFilters(new ProblemDetailsFilter());
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      setTimeout(() => {
        process.stderr.write(`${JSON.stringify({ level: 'fatal', service: options.service, msg: `shutdown exceeded ${options.shutdownTimeoutS} s; exiting` })}\n`);
        process.exit(1);
      }, options.shutdownTimeoutS * 1000).unref();
    });
  }
  await options.configure?.(app);
  options.connectTransports?.(app);
  await app.listen(options.port, options.host);
  await app.startAllMicroservices();
  app.get(Logger).log(`${options.service} listening on ${options.host}:${options.port}`);
  return app;
}

/** Fastify's trustProxy for a TRUSTED_PROXIES list: false (never believe X-Forwarded-For) when it is empty. */
export function fastifyTrustProxy(trustedProxies: readonly string[]): false | string[] {
  return trustedProxies.length === 0 ? false : [...trustedProxies];
}

/** Runs `parse` (the app's config schema); on failure prints every bad variable and exits 78 (EX_CONFIG). */
export function configOrExit<T>(service: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ConfigError) refuseToStart(service, err);
    throw err;
  }
}

/** configOrExit for configuration that needs I/O to check (key files): the same message and exit code. */
export async function configOrExitAsync<T>(service: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (err instanceof ConfigError) refuseToStart(service, err);
    throw err;
  }
}

function refuseToStart(service: string, err: ConfigError): never {
  process.stderr.write(`${JSON.stringify({ level: 'fatal', service, msg: 'refusing to start: invalid configuration', problems: err.problems })}\n`);
  process.stderr.write(`${service}: ${err.message}\n`);
  process.exit(78);
}

/** Runs a service's main(); a start-up failure is logged as one JSON line and exits 1. */
export function runMain(service: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    const e = err instanceof Error ? { name: err.name, message: err.message } : { message: String(err) };
    process.stderr.write(`${JSON.stringify({ level: 'fatal', service, msg: 'failed to start', err: e })}\n`);
    process.exit(1);
  });
}
