// First import of main.ts: OpenTelemetry must patch http, NestJS, ioredis and pino before they load. Off unless
// the standard OTEL_* variables name an exporter (see libs/telemetry).
import { startTelemetry } from '@payrail/telemetry';

export const telemetry = startTelemetry('signing');
