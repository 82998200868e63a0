// A minimal OpenTelemetry collector for the e2e layer: an OTLP/HTTP receiver (JSON encoding, POST /v1/traces)
// that appends one line per span to a file in the run directory, for e2e/tracing.e2e-spec.ts to read. It runs
// inside the test runner's process; the services export to it only during the e2e run (tracingEnv), and only the
// traces an upstream started sampled are recorded (parentbased_always_off): the rest of the e2e traffic creates
// no spans to export, which keeps tracing's CPU cost out of the other tests. Dependency-free on purpose.
import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';

const attribute = (attributes, key) => attributes?.find((a) => a.key === key)?.value?.stringValue;

/** Starts the receiver on a free loopback port; spans go to `file` as JSON lines. */
export async function startOtlpReceiver(file) {
  writeFileSync(file, '');
  const server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/traces') return void res.writeHead(404).end();
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        const raw = Buffer.concat(chunks);
        const body = JSON.parse((req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8'));
        const lines = [];
        for (const rs of body.resourceSpans ?? []) {
          const service = attribute(rs.resource?.attributes, 'service.name');
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              lines.push(JSON.stringify({ service, scope: ss.scope?.name, name: s.name, kind: s.kind, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || undefined }));
            }
          }
        }
        if (lines.length > 0) appendFileSync(file, `${lines.join('\n')}\n`);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (err) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ message: err.message }));
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${server.address().port}`;
  return {
    file,
    /** What the services need to export to this receiver (the standard OTEL_* variables, libs/telemetry). */
    tracingEnv: {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'none',
      OTEL_TRACES_SAMPLER: 'parentbased_always_off',
      OTEL_BSP_SCHEDULE_DELAY: '500',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
