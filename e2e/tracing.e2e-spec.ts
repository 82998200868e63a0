// One payment is one trace: the upstream starts a trace (a sampled W3C traceparent on its POST), and the spans the
// four services export for it (to the OTLP/HTTP receiver `npm test` runs for this layer, tools/stack/otlp-receiver.mjs)
// share its trace id and form one tree under the upstream's span, through ingest, signing, fraud-check and
// settlement, across the Kafka hops (CloudEvents traceparent in the message headers).
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UpstreamClient, demoPayment } from '@payrail/upstream-sdk';

const keys = JSON.parse(process.env['PAYRAIL_KEYS_JSON'] ?? '{}') as { upstreamKeysDir: string };
const ports = JSON.parse(process.env['PAYRAIL_PORTS_JSON'] ?? '{}') as Record<string, number>;
const spansFile = process.env['PAYRAIL_OTLP_SPANS_FILE'] ?? '';
const ingestUrl = `http://127.0.0.1:${ports['ingest']}`;

interface ExportedSpan {
  service: string;
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
}

const SERVICES = ['payrail-ingest', 'payrail-signing', 'payrail-fraud-check', 'payrail-settlement'];
/** The consumer span of each hop: signing takes accepted, fraud-check signed, settlement screened. */
const HOPS: [string, string][] = [
  ['payrail-signing', 'payrail.payments.accepted.v1 process'],
  ['payrail-fraud-check', 'payrail.payments.signed.v1 process'],
  ['payrail-settlement', 'payrail.payments.screened.v1 process'],
];

function spansOf(traceId: string): ExportedSpan[] {
  if (!existsSync(spansFile)) return [];
  return readFileSync(spansFile, 'utf8')
    .split('\n')
    .filter((line) => line.includes(traceId))
    .map((line) => JSON.parse(line) as ExportedSpan);
}

/** The chain of spans from `span` up to the root of what was exported (parent first at the end). */
function ancestry(span: ExportedSpan, byId: Map<string, ExportedSpan>): ExportedSpan[] {
  const chain = [span];
  for (let parent = span.parentSpanId && byId.get(span.parentSpanId); parent; parent = parent.parentSpanId && byId.get(parent.parentSpanId)) chain.push(parent);
  return chain;
}

describe('tracing across the four services', () => {
  it('runs under the e2e layer with the services exporting to its OTLP receiver', () => {
    expect(spansFile).toMatch(/otlp-spans\.jsonl$/);
    expect(existsSync(spansFile)).toBe(true);
  });

  it("makes one payment one trace, from the upstream's POST through ingest, signing, fraud-check and settlement", async () => {
    const client = await UpstreamClient.open('psp-alpha', join(keys.upstreamKeysDir, 'psp-alpha', 'private.jwks.json'), ingestUrl);
    const traceId = randomBytes(16).toString('hex');
    const upstreamSpanId = randomBytes(8).toString('hex');
    const { payment } = demoPayment(11, () => 0.5);
    const res = await fetch(`${ingestUrl}/v1/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/jose', 'idempotency-key': randomUUID(), traceparent: `00-${traceId}-${upstreamSpanId}-01` },
      body: client.signPayment({ ...payment, upstream_reference: `trace-${randomUUID()}` }),
    });
    expect(res.status).toBe(202);

    // spans arrive in batches (every 0.5 s per service), children before their parents: wait for the whole tree
    const deadline = Date.now() + 30_000;
    let spans: ExportedSpan[] = [];
    let byId = new Map<string, ExportedSpan>();
    for (;;) {
      spans = spansOf(traceId);
      byId = new Map(spans.map((s) => [s.spanId, s]));
      const hopsDone = HOPS.every(([service, name]) => spans.some((s) => s.service === service && s.name === name));
      const linked = spans.every((s) => s.parentSpanId === upstreamSpanId || (s.parentSpanId !== undefined && byId.has(s.parentSpanId)));
      if (hopsDone && linked) break;
      if (Date.now() > deadline) throw new Error(`trace ${traceId} incomplete after 30 s: ${JSON.stringify(spans.map((s) => [s.service, s.name, s.spanId, s.parentSpanId]))}`);
      await new Promise((r) => setTimeout(r, 250));
    }

    // one trace, one tree: every span is ours and hangs under the upstream's span through exported parents
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([traceId]));
    for (const service of SERVICES) expect(spans.some((s) => s.service === service)).toBe(true);
    const roots = spans.filter((s) => s.parentSpanId === upstreamSpanId);
    expect(roots.map((s) => [s.service, s.kind])).toEqual([['payrail-ingest', 2]]); // SERVER: ingest's POST
    for (const span of spans) expect(ancestry(span, byId).at(-1)).toBe(roots[0]);

    // each hop's consumer span descends from the one before it: ingest -> signing -> fraud-check -> settlement
    const settlementSpan = spans.find((s) => s.service === 'payrail-settlement' && s.name === 'payrail.payments.screened.v1 process');
    const servicesUp = ancestry(settlementSpan as ExportedSpan, byId).map((s) => s.service);
    const order = servicesUp.filter((s, i) => s !== servicesUp[i - 1]).reverse();
    expect(order).toEqual(SERVICES);
  });
});
