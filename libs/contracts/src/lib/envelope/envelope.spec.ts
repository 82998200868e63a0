import fc from 'fast-check';
import { CE_HEADERS, EnvelopeSchema, EventEnvelope, envelopeToHeaders, headersToEnvelope, RawHeaders } from './envelope';

const ENVELOPE: EventEnvelope = {
  specversion: '1.0',
  id: '01933b6e-9a01-7b2c-8d3e-4f5a6b7c8d9e',
  type: 'dev.payrail.payment.accepted.v1',
  source: '/payrail/ingest',
  time: '2025-03-01T09:15:02.114Z',
  subject: '01933b6e-8f2a-7c41-9d5e-3b0f6a2c8e17',
  dataschema: 'https://payrail.dev/schemas/payment.accepted.v1.json',
  schemaversion: 1,
  correlationid: '01933b6e-8f2a-7c41-9d5e-3b0f6a2c8e17',
  datacontenttype: 'application/json',
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  tracestate: 'congo=t61rcWkgMzE',
};

/** What kafkajs hands a consumer: every header value a Buffer. */
function asKafkaHeaders(headers: Record<string, string>): RawHeaders {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v, 'utf8')]));
}

function reasonOf(headers: RawHeaders): string {
  const parsed = headersToEnvelope(headers);
  if (parsed.ok) throw new Error('expected the envelope to be refused');
  return parsed.reason;
}

function without(headers: Record<string, string>, name: string): Record<string, string> {
  const copy = { ...headers };
  delete copy[name];
  return copy;
}

describe('envelopeToHeaders', () => {
  it('writes every attribute as its ce_* header (binary content mode), all strings', () => {
    expect(envelopeToHeaders(ENVELOPE)).toEqual({
      ce_specversion: '1.0',
      ce_id: ENVELOPE.id,
      ce_type: 'dev.payrail.payment.accepted.v1',
      ce_source: '/payrail/ingest',
      ce_time: '2025-03-01T09:15:02.114Z',
      ce_subject: ENVELOPE.subject,
      ce_dataschema: ENVELOPE.dataschema,
      ce_schemaversion: '1',
      ce_correlationid: ENVELOPE.correlationid,
      'content-type': 'application/json',
      traceparent: ENVELOPE.traceparent,
      tracestate: 'congo=t61rcWkgMzE',
    });
  });

  it('leaves optional headers out when absent', () => {
    const { subject: _s, traceparent: _p, tracestate: _t, ...required } = ENVELOPE;
    const headers = envelopeToHeaders(required);
    expect(Object.keys(headers).sort()).toEqual(
      [CE_HEADERS.specversion, CE_HEADERS.id, CE_HEADERS.type, CE_HEADERS.source, CE_HEADERS.time, CE_HEADERS.dataschema, CE_HEADERS.schemaversion, CE_HEADERS.correlationid, CE_HEADERS.contentType].sort(),
    );
  });
});

describe('headersToEnvelope', () => {
  it('round-trips through Kafka Buffer headers', () => {
    expect(headersToEnvelope(asKafkaHeaders(envelopeToHeaders(ENVELOPE)))).toEqual({ ok: true, envelope: ENVELOPE });
  });

  it('round-trips through string headers and arrays (first value wins)', () => {
    const headers: RawHeaders = { ...envelopeToHeaders(ENVELOPE), [CE_HEADERS.id]: [Buffer.from(ENVELOPE.id), 'second'] };
    expect(headersToEnvelope(headers)).toEqual({ ok: true, envelope: ENVELOPE });
  });

  it('round-trips any valid envelope', () => {
    const text = fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' });
    const hex = (n: number): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
    const envelope: fc.Arbitrary<EventEnvelope> = fc.record(
      {
        specversion: fc.constant('1.0' as const),
        id: text,
        type: text,
        source: text,
        time: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
        subject: text,
        dataschema: text,
        schemaversion: fc.integer({ min: 1, max: 1000 }),
        correlationid: text,
        datacontenttype: fc.constant('application/json' as const),
        traceparent: fc.tuple(hex(2), hex(32), hex(16), hex(2)).map((parts) => parts.join('-')),
        tracestate: text,
      },
      { requiredKeys: ['specversion', 'id', 'type', 'source', 'time', 'dataschema', 'schemaversion', 'correlationid', 'datacontenttype'] },
    );
    fc.assert(
      fc.property(envelope, (e) => {
        expect(headersToEnvelope(asKafkaHeaders(envelopeToHeaders(e)))).toEqual({ ok: true, envelope: e });
      }),
      { numRuns: 500 },
    );
  });

  it('ignores headers it does not know (e.g. dead-letter headers)', () => {
    const headers = { ...asKafkaHeaders(envelopeToHeaders(ENVELOPE)), payrail_dlq_attempts: Buffer.from('3'), 'x-other': 'y' };
    expect(headersToEnvelope(headers)).toEqual({ ok: true, envelope: ENVELOPE });
  });

  it.each([
    [CE_HEADERS.specversion],
    [CE_HEADERS.id],
    [CE_HEADERS.type],
    [CE_HEADERS.source],
    [CE_HEADERS.time],
    [CE_HEADERS.dataschema],
    [CE_HEADERS.schemaversion],
    [CE_HEADERS.correlationid],
    [CE_HEADERS.contentType],
  ])('names the missing required header %s', (header) => {
    const headers = asKafkaHeaders(without(envelopeToHeaders(ENVELOPE), header));
    expect(reasonOf(headers)).toBe(`envelope: missing header ${header}`);
  });

  it('treats an empty array as a missing header', () => {
    expect(reasonOf({ ...envelopeToHeaders(ENVELOPE), [CE_HEADERS.id]: [] })).toBe('envelope: missing header ce_id');
  });

  it('lists every problem at once', () => {
    const headers = without(without({ ...envelopeToHeaders(ENVELOPE), [CE_HEADERS.time]: 'yesterday' }, CE_HEADERS.id), CE_HEADERS.correlationid);
    expect(reasonOf(headers)).toBe('envelope: missing header ce_id; invalid header ce_time: ce_time must be an RFC 3339 timestamp; missing header ce_correlationid');
  });

  it('refuses no headers at all, naming the first required ones', () => {
    expect(reasonOf({})).toMatch(/^envelope: missing header ce_specversion; missing header ce_id; /);
  });

  it.each([
    [CE_HEADERS.specversion, '0.3', 'ce_specversion must be 1.0'],
    [CE_HEADERS.id, '', 'ce_id is required'],
    [CE_HEADERS.type, '', 'ce_type is required'],
    [CE_HEADERS.source, '', 'ce_source is required'],
    [CE_HEADERS.time, '2025-03-01 09:15:02', 'ce_time must be an RFC 3339 timestamp'],
    [CE_HEADERS.time, '2025-03-01T09:15:02', 'ce_time must be an RFC 3339 timestamp'],
    [CE_HEADERS.dataschema, '', 'ce_dataschema is required'],
    [CE_HEADERS.schemaversion, 'one', 'ce_schemaversion must be a positive integer'],
    [CE_HEADERS.schemaversion, '0', 'ce_schemaversion must be a positive integer'],
    [CE_HEADERS.schemaversion, '1.5', 'ce_schemaversion must be a positive integer'],
    [CE_HEADERS.correlationid, '', 'ce_correlationid is required'],
    [CE_HEADERS.contentType, 'application/avro', 'content-type must be application/json'],
    [CE_HEADERS.traceparent, '00-XYZ-00f067aa0ba902b7-01', 'traceparent must be a W3C trace context header'],
  ])('explains why %s = %j is invalid', (header, value, why) => {
    const headers = asKafkaHeaders({ ...envelopeToHeaders(ENVELOPE), [header]: value });
    const reason = reasonOf(headers);
    expect(reason.startsWith(`envelope: invalid header ${header}: `)).toBe(true);
    expect(reason).toContain(why);
  });

  it('accepts timestamps with an offset', () => {
    const headers = { ...envelopeToHeaders(ENVELOPE), [CE_HEADERS.time]: '2025-03-01T10:15:02+01:00' };
    const parsed = headersToEnvelope(headers);
    expect(parsed.ok && parsed.envelope.time).toBe('2025-03-01T10:15:02+01:00');
  });
});

describe('EnvelopeSchema', () => {
  it('matches CE_HEADERS attribute for attribute', () => {
    const attributes = Object.keys(CE_HEADERS).map((k) => (k === 'contentType' ? 'datacontenttype' : k));
    expect(Object.keys(EnvelopeSchema.shape).sort()).toEqual(attributes.sort());
  });
});
