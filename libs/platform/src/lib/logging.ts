import type { Params } from 'nestjs-pino';
import { activeTraceId, currentLogContext } from '@payrail/telemetry';

/**
 * Paths pino blanks in every log line. Card and account numbers, keys and tokens never reach a log: the
 * services never log raw payloads, and this list catches what slips through (request bodies, headers, errors).
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  'req.headers["x-jws-signature"]',
  'req.headers["x-csrf-token"]',
  'req.body',
  'res.headers["set-cookie"]',
  '*.number',
  '*.pan',
  '*.card',
  '*.account',
  '*.password',
  '*.secret',
  '*.token',
  '*.jws',
  '*.jwe',
  '*.d',
  '*.p',
  '*.q',
  '*.dp',
  '*.dq',
  '*.qi',
  '*.k',
  '*.privateKey',
  '*.private_key',
];

export function loggerParams(service: string, level: string): Params {
  return {
    pinoHttp: {
      level,
      base: { service },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: () => `,"time":"${new Date().toISOString()}"`,
      formatters: { level: (label: string) => ({ level: label }) },
      // the event and payment being handled, and the trace (when tracing is on), on every line
      mixin: () => {
        const traceId = activeTraceId();
        return traceId ? { ...currentLogContext(), trace_id: traceId } : currentLogContext();
      },
      // health probes every few seconds would drown the log
      autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health') || (req.url ?? '').startsWith('/metrics') },
      customProps: (req) => {
        const id = (req as { id?: unknown }).id;
        return typeof id === 'string' ? { request_id: id } : {};
      },
    },
  };
}
