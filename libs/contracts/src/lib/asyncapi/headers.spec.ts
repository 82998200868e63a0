import { CE_HEADERS, EnvelopeSchema } from '../envelope/envelope';
import { DLQ_HEADERS, REPLAY_HEADERS } from '../topics/topics';
import { DLQ_HEADER_DOCS, ENVELOPE_HEADER_DOCS, REPLAY_HEADER_DOCS } from './headers';
import { canonicalJson, toJsonObject, toJsonValue } from './json';
import { jsonSchemaOf, strictObjectPaths } from './asyncapi';
import { InboundPaymentSchema } from '../payments/payment-submission';
import { PaymentAcceptedSchema } from '../payments/payment-events';

describe('ENVELOPE_HEADER_DOCS', () => {
  const shape = EnvelopeSchema.shape;

  it.each(Object.keys(CE_HEADERS) as (keyof typeof CE_HEADERS)[])('%s: "required" agrees with EnvelopeSchema', (key) => {
    const attribute = key === 'contentType' ? 'datacontenttype' : key;
    expect(ENVELOPE_HEADER_DOCS[key].attribute).toBe(attribute === 'traceparent' || attribute === 'tracestate' ? '' : attribute);
    const field = shape[attribute];
    expect(ENVELOPE_HEADER_DOCS[key].required).toBe(!field.safeParse(undefined).success);
  });

  it('documents the same traceparent pattern the schema enforces', () => {
    const pattern = ENVELOPE_HEADER_DOCS.traceparent.schema['pattern'];
    expect(typeof pattern).toBe('string');
    const regex = new RegExp(String(pattern));
    for (const value of ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', 'nope']) {
      expect(regex.test(value)).toBe(shape.traceparent.safeParse(value).success);
    }
  });

  it('documents every dead-letter header', () => {
    expect(Object.keys(DLQ_HEADER_DOCS).sort()).toEqual(Object.keys(DLQ_HEADERS).sort());
    for (const doc of Object.values(DLQ_HEADER_DOCS)) expect(doc.description.length).toBeGreaterThan(10);
  });

  it('documents every replay header, and the replay reference pattern accepts what dlq inspect takes', () => {
    expect(Object.keys(REPLAY_HEADER_DOCS).sort()).toEqual(Object.keys(REPLAY_HEADERS).sort());
    const pattern = new RegExp(String(REPLAY_HEADER_DOCS.replayOf.schema['pattern']));
    expect(pattern.test('payrail.dlq.fraud-check.v1/2/17')).toBe(true);
    expect(pattern.test('payrail.dlq.fraud-check.v1/02/17')).toBe(false);
    expect(pattern.test('payrail.dlq.fraud-check.v1:2:17')).toBe(false);
  });
});

describe('json helpers', () => {
  it('copy plain JSON and refuse anything else', () => {
    expect(toJsonValue({ a: [1, 'x', true, null, { b: undefined }] })).toEqual({ a: [1, 'x', true, null, {}] });
    expect(() => toJsonValue({ a: Number.NaN })).toThrow('$.a: not a finite JSON number');
    expect(() => toJsonValue({ f: () => 1 })).toThrow('$.f: function is not JSON');
    expect(() => toJsonValue([1n])).toThrow('$[0]: bigint is not JSON');
    expect(() => toJsonObject([1])).toThrow('expected a JSON object');
  });

  it('canonicalJson ignores key order', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });
});

describe('strictObjectPaths', () => {
  it('finds the objects that refuse unknown fields', () => {
    expect(strictObjectPaths(jsonSchemaOf(InboundPaymentSchema))).toEqual(['$']);
    expect(strictObjectPaths(jsonSchemaOf(PaymentAcceptedSchema))).toEqual(['context']);
    expect(strictObjectPaths({ type: 'array', items: { type: 'object', additionalProperties: false } })).toEqual(['$[]']);
  });
});
