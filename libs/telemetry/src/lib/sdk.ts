// OpenTelemetry SDK start-up, configured only by the standard OTEL_* variables. Off unless an exporter is
// configured (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_TRACES_EXPORTER), and always
// off with OTEL_SDK_DISABLED=true: a laptop without a collector pays nothing. Must run before the instrumented
// modules (http, @nestjs/core, ioredis, pino) are first required: each app imports its `instrumentation.ts` first.
type Env = Readonly<Record<string, string | undefined>>;

export interface Telemetry {
  readonly enabled: boolean;
  shutdown(): Promise<void>;
}

export function tracingRequested(env: Env): boolean {
  if ((env['OTEL_SDK_DISABLED'] ?? '').toLowerCase() === 'true') return false;
  const exporter = (env['OTEL_TRACES_EXPORTER'] ?? '').toLowerCase();
  if (exporter === 'none') return false;
  return Boolean(env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] || exporter);
}

export function startTelemetry(service: string, env: Env = process.env): Telemetry {
  if (!tracingRequested(env)) return { enabled: false, shutdown: async () => undefined };
  // required lazily: the SDK and its exporters cost start-up time only where tracing is on
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { NestInstrumentation } = require('@opentelemetry/instrumentation-nestjs-core') as typeof import('@opentelemetry/instrumentation-nestjs-core');
  const { IORedisInstrumentation } = require('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');
  const { PinoInstrumentation } = require('@opentelemetry/instrumentation-pino') as typeof import('@opentelemetry/instrumentation-pino');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const sdk = new NodeSDK({
    serviceName: env['OTEL_SERVICE_NAME'] ?? `payrail-${service}`,
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => /^\/(health|metrics)/.test(req.url ?? '') }),
      new NestInstrumentation(),
      // statements are not recorded: keys and values may carry payment data
      new IORedisInstrumentation({ dbStatementSerializer: (command) => command }),
      new PinoInstrumentation(),
    ],
  });
  sdk.start();
  return { enabled: true, shutdown: () => sdk.shutdown() };
}
